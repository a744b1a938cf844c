import { SparseViTError } from '../errors';
import { describeValue } from '../message-text';

/**
 * SparseViT's hyper-parameters, named after the reference constructor
 * `SparseViT(depth, embed_dim, head_dim, img_size, s_blocks3, s_blocks4, mlp_ratio, qkv_bias)`
 * (scu-zjz/SparseViT, `SparseViT.py`), so a config JSON written for the Python code works here.
 */
export interface SparseViTConfig {
  /** Blocks per stage: two conv stages (CBlock) then two sparse-attention stages (SABlock). */
  depth: [number, number, number, number];
  /** Channel width of each stage. */
  embed_dim: [number, number, number, number];
  /** Width of one attention head; heads per stage = `embed_dim[i] / head_dim`. */
  head_dim: number;
  /** Square network input size; images are resized to it. */
  img_size: number;
  /** Stage-3 sparsity schedule: block `i` attends within groups of side `32 / s_blocks3[floor(i / 5)]`. */
  s_blocks3: number[];
  /** Stage-4 sparsity schedule: block `i` attends within groups of side `16 / s_blocks4[floor(i / 4)]`. */
  s_blocks4: number[];
  mlp_ratio: number;
  qkv_bias: boolean;
}

/** The published model (AAAI 2025): 50.35 M parameters, ~92 GFLOP per 512x512 image. */
export const BASE_CONFIG: SparseViTConfig = {
  depth: [5, 8, 20, 7],
  embed_dim: [64, 128, 320, 512],
  head_dim: 64,
  img_size: 512,
  s_blocks3: [8, 4, 2, 1],
  s_blocks4: [2, 1],
  mlp_ratio: 4,
  qkv_bias: true,
};

/**
 * A small model of the published topology, sized to train on a CPU: the config of the SDK's
 * trained default model. 1.71 M parameters, 0.75 GFLOP per 256x256 image (`graphCost`), against
 * 50.35 M and 92 GFLOP for `base`. Stage 3 keeps the 15 blocks and stage 4 the 4 blocks the fusion
 * head taps; the sparsity schedules keep the published group sizes (4, 8, 16 in stage 3).
 */
export const SMALL_CONFIG: SparseViTConfig = {
  depth: [2, 2, 15, 4],
  embed_dim: [16, 32, 64, 128],
  head_dim: 32,
  img_size: 256,
  s_blocks3: [8, 4, 2, 2],
  s_blocks4: [2, 2],
  mlp_ratio: 4,
  qkv_bias: true,
};

/**
 * `small` at twice the width in every stage: 6.71 M parameters, about twice `small`'s cost per
 * image. A trained `small` model grows into it with the same function (`widenStateDict` in
 * @sparsevit/train, which `sparsevit train --init <small weights> --preset medium` runs), so
 * training can continue with more capacity instead of starting again.
 */
export const MEDIUM_CONFIG: SparseViTConfig = { ...SMALL_CONFIG, embed_dim: [32, 64, 128, 256] };

export const PRESETS = { base: BASE_CONFIG, small: SMALL_CONFIG, medium: MEDIUM_CONFIG } as const;
export type PresetName = keyof typeof PRESETS;

/**
 * The sparse group side of every attention block, as the reference computes it in
 * `SparseViTBackbone.__init__`: `32 // s_blocks3[i // 5]` in stage 3, `16 // s_blocks4[i // 4]`
 * in stage 4. The constants 32 and 16 are the published ones (the stage-3 and stage-4 feature
 * map sides at 512x512) and are kept as published.
 */
export function sparseSizes(config: SparseViTConfig): { stage3: number[]; stage4: number[] } {
  const stage3 = Array.from({ length: config.depth[2] }, (_, i) => Math.floor(32 / config.s_blocks3[Math.floor(i / 5)]));
  const stage4 = Array.from({ length: config.depth[3] }, (_, i) => Math.floor(16 / config.s_blocks4[Math.floor(i / 4)]));
  return { stage3, stage4 };
}

/** Feature-map side after each stage's patch embedding (strides 4, 2, 2, 2). */
export function stageSides(config: SparseViTConfig): [number, number, number, number] {
  const s1 = config.img_size / 4;
  return [s1, s1 / 2, s1 / 4, s1 / 8];
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/**
 * Upper bounds `validateConfig` puts on a config, whoever states it (`--config`, or the metadata
 * of a weights file, which is not to be trusted further than the file). Every published or
 * trainable configuration is far inside them; what they stop is a file whose metadata asks for
 * an 8192 x 8192 network input (256x the work and memory of the published 512) or a billion
 * blocks. The widths and depths must also match the weights, key for key, so in practice the
 * weights bound them too; `img_size` is bounded only here.
 */
export const CONFIG_LIMITS = {
  /** Largest network input side: 4x the published 512 (16x its work per image). */
  img_size: 2048,
  /** Most blocks in one stage (the fusion head further needs depth[2] < 25, depth[3] < 8). */
  depth: 64,
  /** Widest stage, and widest attention head. */
  embed_dim: 4096,
  /** Largest MLP expansion ratio. */
  mlp_ratio: 16,
  /** Most entries of a sparsity schedule (`s_blocks3`, `s_blocks4`). */
  schedule_length: 64,
} as const;

/**
 * Checks a config (for instance parsed from a user's JSON) and returns it typed. Every problem is
 * reported in one error, so a user fixes the file once.
 */
export function validateConfig(input: unknown): SparseViTConfig {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) {
    throw new SparseViTError('INVALID_CONFIG', 'config must be a JSON object');
  }
  const c = input as Record<string, unknown>;
  // Values are quoted with describeValue: a config can come from a file's metadata, and a
  // million-entry array or a megabyte string must not become a megabyte message.
  const intArray = (key: string, length: number | undefined, max: number, maxLength = length) => {
    const v = c[key];
    if (!Array.isArray(v) || (length !== undefined && v.length !== length) || (maxLength !== undefined && v.length > maxLength) || !v.every(isPositiveInt)) {
      const count = length ?? (maxLength === undefined ? 'some' : `at most ${maxLength}`);
      problems.push(`${key} must be an array of ${count} positive integers, got ${describeValue(v)}`);
      return false;
    }
    const over = v.findIndex((d) => d > max);
    if (over >= 0) problems.push(`${key}[${over}] = ${v[over]} is over the limit of ${max} (CONFIG_LIMITS)`);
    return over < 0;
  };
  const boundedInt = (key: string, max: number) => {
    const v = c[key];
    if (!isPositiveInt(v)) problems.push(`${key} must be a positive integer, got ${describeValue(v)}`);
    else if (v > max) problems.push(`${key} = ${v} is over the limit of ${max} (CONFIG_LIMITS)`);
  };
  intArray('depth', 4, CONFIG_LIMITS.depth);
  intArray('embed_dim', 4, CONFIG_LIMITS.embed_dim);
  boundedInt('head_dim', CONFIG_LIMITS.embed_dim);
  boundedInt('img_size', CONFIG_LIMITS.img_size);
  intArray('s_blocks3', undefined, Number.MAX_SAFE_INTEGER, CONFIG_LIMITS.schedule_length);
  intArray('s_blocks4', undefined, Number.MAX_SAFE_INTEGER, CONFIG_LIMITS.schedule_length);
  const mlpRatio = c.mlp_ratio ?? BASE_CONFIG.mlp_ratio;
  if (typeof mlpRatio !== 'number' || !(mlpRatio > 0)) problems.push(`mlp_ratio must be a positive number, got ${describeValue(mlpRatio)}`);
  else if (mlpRatio > CONFIG_LIMITS.mlp_ratio) problems.push(`mlp_ratio = ${mlpRatio} is over the limit of ${CONFIG_LIMITS.mlp_ratio} (CONFIG_LIMITS)`);
  const qkvBias = c.qkv_bias ?? BASE_CONFIG.qkv_bias;
  if (typeof qkvBias !== 'boolean') problems.push(`qkv_bias must be a boolean, got ${describeValue(qkvBias)}`);
  if (problems.length > 0) throw new SparseViTError('INVALID_CONFIG', `invalid SparseViT config:\n- ${problems.join('\n- ')}`, { details: problems });

  const config: SparseViTConfig = {
    depth: [...(c.depth as number[])] as SparseViTConfig['depth'],
    embed_dim: [...(c.embed_dim as number[])] as SparseViTConfig['embed_dim'],
    head_dim: c.head_dim as number,
    img_size: c.img_size as number,
    s_blocks3: [...(c.s_blocks3 as number[])],
    s_blocks4: [...(c.s_blocks4 as number[])],
    mlp_ratio: mlpRatio as number,
    qkv_bias: qkvBias as boolean,
  };

  // Structural checks the reference only discovers mid-forward (or never).
  if (config.img_size % 32 !== 0) problems.push(`img_size ${config.img_size} must be a multiple of 32 (four patch embeddings of strides 4, 2, 2, 2)`);
  config.embed_dim.forEach((d, i) => {
    if (i >= 2 && d % config.head_dim !== 0) problems.push(`embed_dim[${i}] = ${d} is not a multiple of head_dim ${config.head_dim}`);
  });
  if (Math.ceil(config.depth[2] / 5) > config.s_blocks3.length) problems.push(`s_blocks3 needs ${Math.ceil(config.depth[2] / 5)} entries for depth[2] = ${config.depth[2]}`);
  if (Math.ceil(config.depth[3] / 4) > config.s_blocks4.length) problems.push(`s_blocks4 needs ${Math.ceil(config.depth[3] / 4)} entries for depth[3] = ${config.depth[3]}`);
  if (config.depth[2] < 15) problems.push(`depth[2] = ${config.depth[2]}: the fusion head reads stage-3 taps after blocks 5, 10 and 15, so stage 3 needs at least 15 blocks`);
  if (config.depth[3] < 4) problems.push(`depth[3] = ${config.depth[3]}: the fusion head reads a stage-4 tap after block 4, so stage 4 needs at least 4 blocks`);
  if (config.depth[2] >= 25 || config.depth[3] >= 8) problems.push('the fusion head takes exactly six features; depth[2] < 25 and depth[3] < 8 keep the published taps');
  if (problems.length === 0) {
    const [, , side3, side4] = stageSides(config);
    const sizes = sparseSizes(config);
    sizes.stage3.forEach((s, i) => {
      if (s < 1 || side3 % s !== 0) problems.push(`stage-3 block ${i}: sparse size ${s} does not divide the ${side3}x${side3} feature map`);
    });
    sizes.stage4.forEach((s, i) => {
      if (s < 1 || side4 % s !== 0) problems.push(`stage-4 block ${i}: sparse size ${s} does not divide the ${side4}x${side4} feature map`);
    });
  }
  if (problems.length > 0) throw new SparseViTError('INVALID_CONFIG', `invalid SparseViT config:\n- ${problems.join('\n- ')}`, { details: problems });
  return config;
}
