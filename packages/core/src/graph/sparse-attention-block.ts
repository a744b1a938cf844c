import { conv2d, layerNorm, linear, mapToTokens, tokensToMap } from './layers';
import type { TensorOps } from './tensor-ops';

/** The norm layer of the attention stages: `partial(nn.LayerNorm, eps=1e-6)`. */
export const BLOCK_LAYER_NORM_EPS = 1e-6;

export interface SparseAttentionBlockShape {
  channels: number;
  heads: number;
  /** Side of the square token map. */
  side: number;
  /** Side of one sparse group (`sparse_size` in the reference). */
  sparseSize: number;
  hiddenChannels: number;
  qkvBias: boolean;
}

/**
 * `alter_sparse` (reference `SparseViT.py`, via `block`): regroup a `side x side` token map into
 * `G x G` groups of `S x S` tokens, `S = sparseSize`, `G = side / S`. Row `h = s * G + g`, so a
 * group collects the tokens that share `(h mod G, w mod G)`: every G-th token, spread over the
 * whole image. That spread is the sparse coding the paper is about: attention sees a dilated
 * sample of the image rather than a local window.
 *
 * `[B*side*side, C]` -> `[B*G*G*S*S, C]` (each run of `S*S` rows is one group), groups ordered
 * `(g_h, g_w)`, tokens `(s_h, s_w)`, exactly the reference order. Rank-6 transpose at most
 * (TensorFlow.js's GPU limit).
 */
export function alterSparse<T>(ops: TensorOps<T>, x: T, side: number, sparseSize: number, channels: number): T {
  const grid = side / sparseSize;
  if (grid === 1) return x;
  const blocks = ops.reshape(x, [-1, sparseSize, grid, sparseSize, grid, channels]);
  const grouped = ops.transpose(blocks, [0, 2, 4, 1, 3, 5]);
  return ops.reshape(grouped, [-1, channels]);
}

/** `alter_unsparse`: the inverse of `alterSparse`, `[B*G*G*S*S, C]` -> `[B*side*side, C]`. */
export function alterUnsparse<T>(ops: TensorOps<T>, x: T, side: number, sparseSize: number, channels: number): T {
  const grid = side / sparseSize;
  if (grid === 1) return x;
  const groups = ops.reshape(x, [-1, grid, grid, sparseSize, sparseSize, channels]);
  const map = ops.transpose(groups, [0, 3, 1, 4, 2, 5]);
  return ops.reshape(map, [-1, channels]);
}

/**
 * Multi-head self-attention (`Attention` in the reference) within groups of `tokens` consecutive
 * rows of `[B'*tokens, C]`. The
 * `head_dim ** -0.5` scale is folded into the query columns of `qkv` at preparation.
 */
function attention<T>(ops: TensorOps<T>, x: T, name: string, shape: SparseAttentionBlockShape, tokens: number): T {
  const { channels, heads, qkvBias } = shape;
  const headDim = channels / heads;
  const qkv = ops.reshape(linear(ops, x, `${name}.qkv`, qkvBias), [-1, tokens, 3, heads, headDim]);
  const [q, k, v] = ops.split(ops.transpose(qkv, [2, 0, 3, 1, 4]), 0, [1, 1, 1]);
  const toHeads = (t: T) => ops.reshape(t, [-1, heads, tokens, headDim]);
  const scores = ops.matmul(toHeads(q), ops.transpose(toHeads(k), [0, 1, 3, 2]));
  const context = ops.matmul(ops.softmax(scores), toHeads(v));
  const merged = ops.reshape(ops.transpose(context, [0, 2, 1, 3]), [-1, channels]);
  return linear(ops, merged, `${name}.proj`);
}

/**
 * `SABlock` (reference `SparseViT.py`, layer scale on), on `[B*side*side, C]` tokens:
 *
 *   x = x + gamma_1 * alter_unsparse(attn(norm1(alter_sparse(x))))
 *   x = x + gamma_2 * mlp(norm2(x))            mlp = fc1, depthwise 3x3 conv, GELU, fc2
 *
 * The whole MLP runs on the map (fc1 and fc2 as the equivalent 1x1 convs), so only C-wide tensors
 * cross between the token and map layouts.
 *
 * The reference builds a `pos_embed` conv in SABlock but its forward never calls it; the weight
 * is in every checkpoint and is not used here either. The layer-scale gammas are folded into
 * `attn.proj` and `mlp.fc2` at preparation. LayerNorm and the linears act per token, so running
 * norm1 on the regrouped tokens equals the reference's order of operations.
 */
export function sparseAttentionBlock<T>(ops: TensorOps<T>, x: T, name: string, shape: SparseAttentionBlockShape): T {
  const { channels, side, sparseSize, hiddenChannels } = shape;
  const grouped = alterSparse(ops, x, side, sparseSize, channels);
  const attended = attention(ops, layerNorm(ops, grouped, `${name}.norm1`, BLOCK_LAYER_NORM_EPS), `${name}.attn`, shape, sparseSize * sparseSize);
  x = ops.add(x, alterUnsparse(ops, attended, side, sparseSize, channels));

  let h = tokensToMap(ops, layerNorm(ops, x, `${name}.norm2`, BLOCK_LAYER_NORM_EPS), channels, side);
  h = conv2d(ops, h, `${name}.mlp.fc1`);
  h = conv2d(ops, h, `${name}.mlp.dwconv.dwconv`, { padding: 1, groups: hiddenChannels });
  // fc1, GELU and fc2 run on the map as 1x1 convs, so only C-wide tensors change layout:
  // transposing the 4C-wide hidden map cost more than the linears on ONNX Runtime CPU (base
  // model, interleaved A/B: fc2 on the map 7.5% faster, fc1 too another 6%; logits within 2e-7).
  h = conv2d(ops, ops.gelu(h), `${name}.mlp.fc2`);
  return ops.add(x, mapToTokens(ops, h, channels, side));
}
