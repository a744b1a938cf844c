import type { SparseViTConfig } from '../config/sparsevit-config';
import { SparseViTError } from '../errors';
import { MAX_QUOTED_CHARS, quoteText } from '../message-text';
import { isFloatDType, toFloat32 } from '../weights/convert';
import { numel, type TensorInfo, type TensorStore, type WeightTensor } from '../weights/tensor';
import { expectedStateDict } from './state-dict-layout';
import type { GraphWeight, GraphWeights } from './tensor-ops';

/** `nn.BatchNorm2d`'s default epsilon; the reference never changes it. */
const BATCH_NORM_EPS = 1e-5;

/**
 * Checks a state dict against the graph of `config`: every missing, unexpected, mis-shaped or
 * wrongly typed key is listed in one error (`WEIGHTS_MISMATCH`, `details` holds the lists; the
 * message shows the first few, names cut). Only names, dtypes and shapes are read, so it also
 * checks a file's header before its data is read (`readWeights`' `checkTensors`).
 */
export function validateStateDict(store: { readonly tensors: ReadonlyMap<string, TensorInfo> }, config: SparseViTConfig): void {
  const expected = expectedStateDict(config);
  const missing: string[] = [];
  const unexpected: string[] = [];
  const misshaped: string[] = [];
  for (const [key, spec] of expected) {
    const t = store.tensors.get(key);
    if (!t) {
      missing.push(key);
    } else if (spec.kind === 'int') {
      // BatchNorm's step counter: a scalar in PyTorch, often saved as [1] by safetensors tools.
      if (numel(t.shape) !== 1 || isFloatDType(t.dtype)) misshaped.push(`${key}: expected one integer, got ${t.dtype} [${t.shape.join(', ')}]`);
    } else if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
      misshaped.push(`${key}: expected [${spec.shape.join(', ')}], got [${t.shape.join(', ')}]`);
    } else if (spec.kind === 'float' && !isFloatDType(t.dtype)) {
      misshaped.push(`${key}: expected a float tensor, got ${t.dtype}`);
    }
  }
  for (const key of store.tensors.keys()) if (!expected.has(key)) unexpected.push(key);
  if (missing.length + unexpected.length + misshaped.length === 0) return;
  const section = (title: string, items: string[]) =>
    items.length === 0 ? '' : `\n${title} (${items.length}):\n  ${items.slice(0, 50).map((k) => (k.length > MAX_QUOTED_CHARS ? quoteText(k) : k)).join('\n  ')}${items.length > 50 ? `\n  ... and ${items.length - 50} more` : ''}`;
  throw new SparseViTError(
    'WEIGHTS_MISMATCH',
    `the weights do not match the SparseViT graph for depth [${config.depth}] and embed_dim [${config.embed_dim}]:` +
      section('missing keys', missing) +
      section('unexpected keys', unexpected) +
      section('wrong shape or dtype', misshaped),
    { details: { missing, unexpected, misshaped } },
  );
}

/**
 * Turns a validated reference state dict into the weights the graph reads, applying exact
 * algebraic rewrites once so that no backend pays for them per image:
 *
 * - CBlock BatchNorms (eval) folded into the following 1x1 conv (`conv1`, `mlp.fc1`):
 *   `W' = W diag(a)`, `b' = b + W c` with `a = gamma / sqrt(var + eps)`, `c = beta - mean a`.
 * - Linear weights transposed from PyTorch's `[out, in]` to `[in, out]` (one MatMul per linear).
 * - The attention scale `head_dim ** -0.5` folded into the query part of `qkv`.
 * - Layer-scale `gamma_1` / `gamma_2` folded into `attn.proj` / `mlp.fc2`, and the fusion head's
 *   `gamma1..gamma4` into `conv_layer1..4` (stored as `[C3, C4]` linears).
 * - `conv_last` stored as a `[C4, 1]` linear; the attention blocks' `mlp.fc1` / `mlp.fc2` as
 *   `[out, in, 1, 1]` convs (they run on the map, see `sparseAttentionBlock`).
 *
 * Folds are computed in float64 and rounded once to float32. Names stay the reference names of
 * the tensors they replace. Weights the reference never reads are dropped.
 */
export interface PrepareGraphWeightsOptions {
  /**
   * Remove each tensor from `store` once it has been used (and clear the store at the end), so
   * that a large checkpoint's memory is released while the prepared copy grows. Default false.
   */
  consume?: boolean;
}

export function prepareGraphWeights(store: TensorStore, config: SparseViTConfig, options: PrepareGraphWeightsOptions = {}): Map<string, GraphWeight> {
  validateStateDict(store, config);
  const out = new Map<string, GraphWeight>();
  const take = (key: string): WeightTensor => {
    const t = store.tensors.get(key) as WeightTensor;
    if (options.consume) store.tensors.delete(key);
    return t;
  };
  const f32 = (key: string) => toFloat32(take(key));
  const put = (key: string, shape: number[], data: Float32Array) => out.set(key, { shape, data });
  const copy = (key: string) => {
    const t = take(key);
    put(key, [...t.shape], toFloat32(t));
  };
  const copyNorm = (name: string) => {
    copy(`${name}.weight`);
    copy(`${name}.bias`);
  };
  const copyConv = copyNorm;

  /** PyTorch `[out, in]` (or `[out, in, 1, 1]`) -> `[in, out]`, column j scaled by `scale[j]`. */
  const linearWeight = (key: string, scale?: ArrayLike<number>) => {
    const t = take(key);
    const [o, i] = t.shape;
    const w = toFloat32(t);
    const wt = new Float32Array(o * i);
    for (let r = 0; r < o; r++) {
      const s = scale ? scale[r] : 1;
      for (let c = 0; c < i; c++) wt[c * o + r] = w[r * i + c] * s;
    }
    return { shape: [i, o], data: wt };
  };
  const scaled = (v: Float32Array, scale?: ArrayLike<number>) => (scale ? v.map((x, j) => x * scale[j]) : v);

  /** Folds a BatchNorm (eval) into the 1x1 conv that reads its output. */
  const foldBatchNormIntoConv1x1 = (bn: string, conv: string) => {
    const gamma = f32(`${bn}.weight`);
    const beta = f32(`${bn}.bias`);
    const mean = f32(`${bn}.running_mean`);
    const variance = f32(`${bn}.running_var`);
    const weight = take(`${conv}.weight`);
    const [o, i] = weight.shape;
    const w = toFloat32(weight);
    const b = f32(`${conv}.bias`);
    const a = new Float64Array(i);
    const c = new Float64Array(i);
    for (let k = 0; k < i; k++) {
      a[k] = gamma[k] / Math.sqrt(variance[k] + BATCH_NORM_EPS);
      c[k] = beta[k] - mean[k] * a[k];
    }
    const w2 = new Float32Array(o * i);
    const b2 = new Float32Array(o);
    for (let r = 0; r < o; r++) {
      let acc = b[r];
      for (let k = 0; k < i; k++) {
        w2[r * i + k] = w[r * i + k] * a[k];
        acc += w[r * i + k] * c[k];
      }
      b2[r] = acc;
    }
    put(`${conv}.weight`, [o, i, 1, 1], w2);
    put(`${conv}.bias`, [o], b2);
  };

  const e = 'encoder_net';
  for (let s = 1; s <= 4; s++) {
    copyNorm(`${e}.patch_embed${s}.norm`);
    copyConv(`${e}.patch_embed${s}.proj`);
  }
  for (let s = 1; s <= 2; s++) {
    for (let i = 0; i < config.depth[s - 1]; i++) {
      const b = `${e}.blocks${s}.${i}`;
      copyConv(`${b}.pos_embed`);
      foldBatchNormIntoConv1x1(`${b}.norm1`, `${b}.conv1`);
      copyConv(`${b}.attn`);
      copyConv(`${b}.conv2`);
      foldBatchNormIntoConv1x1(`${b}.norm2`, `${b}.mlp.fc1`);
      copyConv(`${b}.mlp.fc2`);
    }
  }
  for (let s = 3; s <= 4; s++) {
    const c = config.embed_dim[s - 1];
    const queryScale = (c / (c / config.head_dim)) ** -0.5;
    const qkvScale = Array.from({ length: 3 * c }, (_, j) => (j < c ? queryScale : 1));
    for (let i = 0; i < config.depth[s - 1]; i++) {
      const b = `${e}.blocks${s}.${i}`;
      const gamma1 = f32(`${b}.gamma_1`);
      const gamma2 = f32(`${b}.gamma_2`);
      copyNorm(`${b}.norm1`);
      const qkv = linearWeight(`${b}.attn.qkv.weight`, qkvScale);
      put(`${b}.attn.qkv.weight`, qkv.shape, qkv.data);
      if (config.qkv_bias) put(`${b}.attn.qkv.bias`, [3 * c], scaled(f32(`${b}.attn.qkv.bias`), qkvScale));
      const proj = linearWeight(`${b}.attn.proj.weight`, gamma1);
      put(`${b}.attn.proj.weight`, proj.shape, proj.data);
      put(`${b}.attn.proj.bias`, [c], scaled(f32(`${b}.attn.proj.bias`), gamma1));
      copyNorm(`${b}.norm2`);
      // fc1 and fc2 run as 1x1 convs on the map (see `sparseAttentionBlock`): PyTorch's [out, in].
      const fc1 = take(`${b}.mlp.fc1.weight`);
      put(`${b}.mlp.fc1.weight`, [fc1.shape[0], fc1.shape[1], 1, 1], toFloat32(fc1));
      copy(`${b}.mlp.fc1.bias`);
      copyConv(`${b}.mlp.dwconv.dwconv`);
      // fc2's rows scaled by gamma_2.
      const fc2 = take(`${b}.mlp.fc2.weight`);
      const [fo, fi] = fc2.shape;
      const fc2w = toFloat32(fc2);
      for (let r = 0; r < fo; r++) for (let c = 0; c < fi; c++) fc2w[r * fi + c] *= gamma2[r];
      put(`${b}.mlp.fc2.weight`, [fo, fi, 1, 1], fc2w);
      put(`${b}.mlp.fc2.bias`, [c], scaled(f32(`${b}.mlp.fc2.bias`), gamma2));
    }
    copyNorm(`${e}.norm${s}`);
  }
  for (let i = 1; i <= 4; i++) {
    const gamma = f32(`lmu.gamma${i}`);
    const w = linearWeight(`lmu.conv_layer${i}.weight`, gamma);
    put(`lmu.conv_layer${i}.weight`, w.shape, w.data);
    put(`lmu.conv_layer${i}.bias`, [gamma.length], scaled(f32(`lmu.conv_layer${i}.bias`), gamma));
  }
  copy('lmu.gamma5');
  copy('lmu.gamma6');
  copyNorm('lmu.norm');
  const last = linearWeight('lmu.conv_last.weight');
  put('lmu.conv_last.weight', last.shape, last.data);
  copy('lmu.conv_last.bias');
  // What is left is what the reference never reads (see `expectedStateDict`).
  if (options.consume) store.tensors.clear();
  return out;
}

export type { GraphWeights };
