import type { Tfjs } from '@sparsevit/tfjs';
import type * as tfc from '@tensorflow/tfjs-core';

/**
 * The reference training loss (`SparseViT_Mul.forward`): the logit map upsampled bilinearly to
 * the input size (`F.interpolate(..., mode='bilinear')`, half-pixel centres, no anti-aliasing,
 * the same resize the graph's probability map uses), then `BCEWithLogitsLoss` against the mask,
 * averaged over every pixel of the batch. Computed in the stable form
 * `max(z, 0) - z y + log(1 + exp(-|z|))`.
 *
 * `logits`: `[B, 1, h, w]`; `masks`: `[B, 1, H, W]` of 0/1.
 */
export function bceWithLogitsLoss(tf: Tfjs, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => {
    const [b, , h, w] = logits.shape;
    const [, , height, width] = masks.shape;
    // [B, 1, h, w] is [B, h, w, 1] in memory: one-channel NHWC images.
    const z = tf.reshape(tf.image.resizeBilinear(tf.reshape(logits, [b, h, w, 1]) as tfc.Tensor4D, [height, width], false, true), [b, 1, height, width]);
    const y = masks;
    const loss = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return tf.mean(loss) as tfc.Scalar;
  });
}
