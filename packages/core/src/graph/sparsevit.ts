import { sparseSizes, stageSides, type SparseViTConfig } from '../config/sparsevit-config';
import { convBlock } from './conv-block';
import { layerNorm, tokensToMap } from './layers';
import { lffHead } from './lff-head';
import { patchEmbed } from './patch-embed';
import { BLOCK_LAYER_NORM_EPS, sparseAttentionBlock } from './sparse-attention-block';
import type { TensorOps } from './tensor-ops';

/** The six multi-scale features the fusion head reads, in the reference's order. */
export const FEATURE_NAMES = ['third1', 'third2', 'third3', 'third', 'last1', 'last'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

export interface SparseViTGraphOptions {
  /** Also return the six features (NCHW), for parity checks and research. Default false. */
  features?: boolean;
}

export interface SparseViTGraphOutputs<T> {
  /** The fusion head's logit map, `[B, 1, img/16, img/16]`, before upsampling. */
  logits: T;
  /** `sigmoid(bilinear(logits -> img_size))`, `[B, 1, img, img]`: the reference `pred_mask`. */
  probability: T;
  features?: Record<FeatureName, T>;
}

/**
 * SparseViT (`SparseViT` in the reference `SparseViT.py`): the backbone's four stages, the taps
 * after stage-3 blocks 5, 10, 15 and the normed stage end, after stage-4 block 4 and the normed
 * stage end, the fusion head, and the upsampled sigmoid map.
 *
 * `input` is the normalised image batch `[B, 3, img_size, img_size]` (see `preprocess`).
 * The weights must come from `prepareGraphWeights` for the same config.
 */
export function sparseViTGraph<T>(
  ops: TensorOps<T>,
  config: SparseViTConfig,
  input: T,
  options: SparseViTGraphOptions = {},
): SparseViTGraphOutputs<T> {
  const [d1, d2, d3, d4] = config.depth;
  const [c1, c2, c3, c4] = config.embed_dim;
  const [s1, s2, s3, s4] = stageSides(config);
  const sparse = sparseSizes(config);
  const hidden = (c: number) => Math.floor(c * config.mlp_ratio);
  const taps: T[] = [];

  // Stages 1 and 2: convolutional blocks on NCHW maps.
  let map = tokensToMap(ops, patchEmbed(ops, input, 'encoder_net.patch_embed1', 4, c1, s1), c1, s1);
  for (let i = 0; i < d1; i++) map = convBlock(ops, map, `encoder_net.blocks1.${i}`, c1);
  map = tokensToMap(ops, patchEmbed(ops, map, 'encoder_net.patch_embed2', 2, c2, s2), c2, s2);
  for (let i = 0; i < d2; i++) map = convBlock(ops, map, `encoder_net.blocks2.${i}`, c2);

  // Stage 3: sparse attention on tokens. Taps after blocks 5, 10, 15 (reference:
  // `(index+1) % 5 == 0 and (index+1) // 5 != 4`), then the normed stage output.
  let tokens = patchEmbed(ops, map, 'encoder_net.patch_embed3', 2, c3, s3);
  for (let i = 0; i < d3; i++) {
    tokens = sparseAttentionBlock(ops, tokens, `encoder_net.blocks3.${i}`, {
      channels: c3, heads: c3 / config.head_dim, side: s3, sparseSize: sparse.stage3[i], hiddenChannels: hidden(c3), qkvBias: config.qkv_bias,
    });
    if ((i + 1) % 5 === 0 && (i + 1) / 5 !== 4) taps.push(tokens);
  }
  taps.push(layerNorm(ops, tokens, 'encoder_net.norm3', BLOCK_LAYER_NORM_EPS));

  // Stage 4: the un-normed stage-3 tokens continue. Tap after block 4, then the normed end.
  tokens = patchEmbed(ops, tokensToMap(ops, tokens, c3, s3), 'encoder_net.patch_embed4', 2, c4, s4);
  for (let i = 0; i < d4; i++) {
    tokens = sparseAttentionBlock(ops, tokens, `encoder_net.blocks4.${i}`, {
      channels: c4, heads: c4 / config.head_dim, side: s4, sparseSize: sparse.stage4[i], hiddenChannels: hidden(c4), qkvBias: config.qkv_bias,
    });
    if ((i + 1) % 4 === 0) taps.push(tokens);
  }
  taps.push(layerNorm(ops, tokens, 'encoder_net.norm4', BLOCK_LAYER_NORM_EPS));

  const logits = lffHead(ops, taps, { stage3Channels: c3, stage4Channels: c4, stage3Side: s3, stage4Side: s4 });
  const probability = ops.sigmoid(ops.resizeBilinear(logits, [s3, s3], [config.img_size, config.img_size]));

  const outputs: SparseViTGraphOutputs<T> = { logits, probability };
  if (options.features) {
    const shapes = [[c3, s3], [c3, s3], [c3, s3], [c3, s3], [c4, s4], [c4, s4]] as const;
    outputs.features = Object.fromEntries(
      FEATURE_NAMES.map((name, i) => [name, tokensToMap(ops, taps[i], shapes[i][0], shapes[i][1])]),
    ) as Record<FeatureName, T>;
  }
  return outputs;
}
