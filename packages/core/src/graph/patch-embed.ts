import { conv2d, layerNorm, mapToTokens } from './layers';
import type { TensorOps } from './tensor-ops';

/**
 * `PatchEmbed` (reference `SparseViT.py`): a strided conv with kernel = stride = patch size, then
 * LayerNorm over channels. The LayerNorm here is a plain `nn.LayerNorm(embed_dim)`, so its
 * epsilon is PyTorch's default 1e-5, not the 1e-6 of the blocks' norm layers.
 *
 * Returns tokens `[B*side*side, C]`; CBlock stages turn them back into a map.
 */
export const PATCH_EMBED_LAYER_NORM_EPS = 1e-5;

export function patchEmbed<T>(ops: TensorOps<T>, x: T, name: string, patch: number, outChannels: number, outSide: number): T {
  const projected = conv2d(ops, x, `${name}.proj`, { stride: patch });
  return layerNorm(ops, mapToTokens(ops, projected, outChannels, outSide), `${name}.norm`, PATCH_EMBED_LAYER_NORM_EPS);
}
