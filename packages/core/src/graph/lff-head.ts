import { layerNorm, linear, mapToTokens, tokensToMap } from './layers';
import type { TensorOps } from './tensor-ops';
import { BLOCK_LAYER_NORM_EPS } from './sparse-attention-block';

/**
 * The Learnable Feature Fusion head (`Multiple` in the reference, `lmu` in checkpoints):
 *
 *   c1..c4 (stage-3 taps, [B, C3, s, s]) -> 1x1 conv C3 -> C4, each scaled by gamma1..gamma4
 *   c5, c6 (stage-4 taps, [B, C4, s/2, s/2]) -> bilinear 2x (align_corners=False), gamma5, gamma6
 *   x = LayerNorm_C(sum) -> 1x1 conv C4 -> 1: the logit map [B, 1, s, s]
 *
 * The published head hard-codes its convs as 320 -> 512, i.e. `embed_dim[2] -> embed_dim[3]`
 * of the published widths; we use the config's widths. The 1x1 convs run as linears on tokens
 * with gamma1..gamma4 folded into them at preparation.
 */
export interface LffHeadShape {
  stage3Channels: number;
  stage4Channels: number;
  stage3Side: number;
  stage4Side: number;
}

/** Inputs are the six taps as tokens: four `[B*s*s, C3]`, then two `[B*(s/2)^2, C4]`. */
export function lffHead<T>(ops: TensorOps<T>, taps: readonly T[], shape: LffHeadShape): T {
  const { stage4Channels: c4, stage3Side: side, stage4Side: side4 } = shape;
  let sum: T | undefined;
  const accumulate = (t: T) => {
    sum = sum === undefined ? t : ops.add(sum, t);
  };
  for (let i = 0; i < 4; i++) accumulate(linear(ops, taps[i], `lmu.conv_layer${i + 1}`));
  for (let i = 4; i < 6; i++) {
    const upsampled = ops.resizeBilinear(tokensToMap(ops, taps[i], c4, side4), [side4, side4], [side, side]);
    accumulate(ops.mul(mapToTokens(ops, upsampled, c4, side), ops.weight(`lmu.gamma${i + 1}`)));
  }
  const fused = layerNorm(ops, sum as T, 'lmu.norm', BLOCK_LAYER_NORM_EPS);
  return tokensToMap(ops, linear(ops, fused, 'lmu.conv_last'), 1, side);
}
