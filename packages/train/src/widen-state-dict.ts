import {
  SparseViTError,
  expectedStateDict,
  float32Tensor,
  isFloatDType,
  numel,
  toFloat32,
  type SparseViTConfig,
  type TensorStore,
  type WeightTensor,
} from '@sparsevit/core';
import { Random } from './random';

/**
 * Whether `to` is `from` with every stage's width multiplied by a whole factor and nothing else
 * changed: the configs `widenStateDict` can grow a model between.
 */
export function widthFactors(from: SparseViTConfig, to: SparseViTConfig): number[] | null {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(from.depth, to.depth) || !same(from.s_blocks3, to.s_blocks3) || !same(from.s_blocks4, to.s_blocks4)) return null;
  if (from.head_dim !== to.head_dim || from.mlp_ratio !== to.mlp_ratio || from.qkv_bias !== to.qkv_bias) return null;
  const factors = to.embed_dim.map((c, i) => c / from.embed_dim[i]);
  return factors.every((f) => Number.isInteger(f) && f >= 1) ? factors : null;
}

export interface WidenOptions {
  /** Seed of the random split that breaks the symmetry between copies (default 1). */
  seed?: number;
}

/**
 * Grows a trained SparseViT state dict (authors' key layout) to a wider config of the same
 * topology (`widthFactors` says which), computing the same function: Net2WiderNet (Chen et al.,
 * ICLR 2016) for this architecture, so a wider model can continue from a trained narrow one
 * instead of starting again from noise.
 *
 * Every channel of a stage is copied `factor` times, in blocks (`[x; x]` for a factor of 2), and
 * so is every hidden channel of its MLPs. Why each layer then computes the copies of its old
 * outputs:
 * - a weight's output axis (and a bias, norm, layer scale or BatchNorm statistic) is tiled;
 * - a weight's input axis is tiled with the old weight split among the copies, weights summing to
 *   one per element, so the copies of one input add up to the old term;
 * - LayerNorm over `[x; x]` has the mean and variance of `x`, so it normalises each copy as before;
 * - `qkv`'s output is three `[C]` sections (q, k, v), each tiled: head `h + C/head_dim` is a copy
 *   of head `h` (head_dim is unchanged, so the folded `head_dim ** -0.5` scale is too) and the
 *   merged context is `[ctx; ctx]`;
 * - depthwise convolutions have one input channel per group and are only tiled.
 *
 * The split among copies is random (each copy's share drawn from [0.5, 1.5) and normalised):
 * with equal halves, copies would get equal gradients forever and the wider model would train as
 * the narrow one. The function is unchanged by any split, since the copies of an input are equal.
 */
export function widenStateDict(store: TensorStore, from: SparseViTConfig, to: SparseViTConfig, options: WidenOptions = {}): TensorStore {
  const factors = widthFactors(from, to);
  if (!factors) {
    throw new SparseViTError(
      'INVALID_CONFIG',
      `cannot widen embed_dim ${JSON.stringify(from.embed_dim)} to ${JSON.stringify(to.embed_dim)}: the target must have the same depth, sparsity, head_dim, mlp_ratio and qkv_bias, and each stage's width a whole multiple of the source's`,
    );
  }
  const random = new Random(options.seed ?? 1);
  const source = expectedStateDict(from);
  const target = expectedStateDict(to);
  const tensors = new Map<string, WeightTensor>();
  for (const [key, spec] of target) {
    const old = store.tensors.get(key);
    const oldSpec = source.get(key);
    if (!old || !oldSpec) throw new SparseViTError('WEIGHTS_MISMATCH', `cannot widen: the source weights lack ${key}`, { details: { key } });
    if (old.shape.join(',') !== oldSpec.shape.join(',')) {
      throw new SparseViTError('WEIGHTS_MISMATCH', `cannot widen: ${key} has shape [${old.shape}], the source config expects [${oldSpec.shape}]`, {
        details: { key, expected: oldSpec.shape, actual: old.shape },
      });
    }
    if (spec.kind === 'int' || !isFloatDType(old.dtype)) {
      tensors.set(key, old);
      continue;
    }
    const values = toFloat32(old);
    const sections = /\.qkv\.(weight|bias)$/.test(key) ? 3 : 1;
    tensors.set(key, float32Tensor(spec.shape, widenTensor(values, oldSpec.shape, spec.shape, sections, key.endsWith('.weight') && spec.shape.length >= 2, random)));
  }
  return { tensors, metadata: { ...store.metadata } };
}

/**
 * `values` of `shape` tiled to `wide` (axis 0 in `sections` equal blocks, tiled within each);
 * when `splitsInput`, axis 1 is an input axis and its copies share the old weight.
 */
function widenTensor(values: Float32Array, shape: readonly number[], wide: readonly number[], sections: number, splitsInput: boolean, random: Random): Float32Array {
  const out = new Float32Array(numel(wide));
  const inner = shape.slice(2).reduce((n, d) => n * d, 1);
  const rows = shape[0];
  const cols = shape.length >= 2 ? shape[1] : 1;
  const wideRows = wide[0];
  const wideCols = wide.length >= 2 ? wide[1] : 1;
  const colFactor = wideCols / cols;
  const sectionRows = rows / sections;
  const wideSectionRows = wideRows / sections;
  const shares = new Float64Array(colFactor);
  for (let r = 0; r < wideRows; r++) {
    const section = Math.floor(r / wideSectionRows);
    const oldRow = section * sectionRows + ((r % wideSectionRows) % sectionRows);
    for (let c = 0; c < cols; c++) {
      for (let k = 0; k < inner; k++) {
        const value = values[(oldRow * cols + c) * inner + k];
        if (splitsInput && colFactor > 1) {
          let total = 0;
          for (let j = 0; j < colFactor; j++) total += shares[j] = random.uniform(0.5, 1.5);
          for (let j = 0; j < colFactor; j++) out[(r * wideCols + j * cols + c) * inner + k] = (value * shares[j]) / total;
        } else {
          for (let j = 0; j < colFactor; j++) out[(r * wideCols + j * cols + c) * inner + k] = value;
        }
      }
    }
  }
  return out;
}
