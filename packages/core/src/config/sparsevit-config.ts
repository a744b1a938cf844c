import { SparseViTError } from '../errors';

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

export const PRESETS = { base: BASE_CONFIG, small: SMALL_CONFIG } as const;
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
 * Checks a config (for instance parsed from a user's JSON) and returns it typed. Every problem is
 * reported in one error, so a user fixes the file once.
 */
export function validateConfig(input: unknown): SparseViTConfig {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) {
    throw new SparseViTError('INVALID_CONFIG', 'config must be a JSON object');
  }
  const c = input as Record<string, unknown>;
  const intArray = (key: string, length?: number) => {
    const v = c[key];
    if (!Array.isArray(v) || !v.every(isPositiveInt) || (length !== undefined && v.length !== length)) {
      problems.push(`${key} must be an array of ${length ?? 'some'} positive integers, got ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  };
  intArray('depth', 4);
  intArray('embed_dim', 4);
  if (!isPositiveInt(c.head_dim)) problems.push(`head_dim must be a positive integer, got ${JSON.stringify(c.head_dim)}`);
  if (!isPositiveInt(c.img_size)) problems.push(`img_size must be a positive integer, got ${JSON.stringify(c.img_size)}`);
  intArray('s_blocks3');
  intArray('s_blocks4');
  const mlpRatio = c.mlp_ratio ?? BASE_CONFIG.mlp_ratio;
  if (typeof mlpRatio !== 'number' || !(mlpRatio > 0)) problems.push(`mlp_ratio must be a positive number, got ${JSON.stringify(mlpRatio)}`);
  const qkvBias = c.qkv_bias ?? BASE_CONFIG.qkv_bias;
  if (typeof qkvBias !== 'boolean') problems.push(`qkv_bias must be a boolean, got ${JSON.stringify(qkvBias)}`);
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
