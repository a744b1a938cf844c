import { DICE_SMOOTH, TRAINING_GRAPH_LOSSES, type TrainingGraphLoss } from '@sparsevit/onnx';
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
  return tf.tidy(() => bceOfUpsampled(tf, upsampleLogits(tf, logits, masks), masks));
}

/** The logit map `[B, 1, h, w]` upsampled to the masks' size as the reference does. */
function upsampleLogits(tf: Tfjs, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Tensor {
  const [b, , h, w] = logits.shape;
  const [, , height, width] = masks.shape;
  // [B, 1, h, w] is [B, h, w, 1] in memory: one-channel NHWC images.
  return tf.reshape(tf.image.resizeBilinear(tf.reshape(logits, [b, h, w, 1]) as tfc.Tensor4D, [height, width], false, true), [b, 1, height, width]);
}

function bceOfUpsampled(tf: Tfjs, z: tfc.Tensor, y: tfc.Tensor): tfc.Scalar {
  const loss = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
  return tf.mean(loss) as tfc.Scalar;
}

/** The smoothing term of the soft Dice loss (one definition for both engines: the ONNX training graph's). */
export { DICE_SMOOTH };

/**
 * The soft Dice loss of each image, averaged over the batch: `1 - (2 sum(p y) + s) / (sum(p) +
 * sum(y) + s)` with `p = sigmoid(z)` on the upsampled logits and `s = DICE_SMOOTH`. Dice weighs
 * a small manipulated region as much as the rest of the image, where BCE lets a model that marks
 * nothing score well; it is the usual companion of BCE in manipulation localization (MVSS-Net).
 * Per image, so that accumulated micro-batches still give the gradient of their union.
 */
export function diceLoss(tf: Tfjs, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => diceOfUpsampled(tf, upsampleLogits(tf, logits, masks), masks));
}

function diceOfUpsampled(tf: Tfjs, z: tfc.Tensor, y: tfc.Tensor): tfc.Scalar {
  const b = z.shape[0];
  const p = tf.reshape(tf.sigmoid(z), [b, -1]);
  const t = tf.reshape(y, [b, -1]);
  const overlap = tf.sum(tf.mul(p, t), 1);
  const total = tf.add(tf.sum(p, 1), tf.sum(t, 1));
  const score = tf.div(tf.add(tf.mul(overlap, 2), DICE_SMOOTH), tf.add(total, DICE_SMOOTH));
  return tf.mean(tf.sub(1, score)) as tfc.Scalar;
}

/** `bce`: the reference's loss. `bce+dice`: BCE plus the soft Dice loss, with equal weights. */
export type TrainingLoss = TrainingGraphLoss;

export const TRAINING_LOSSES: readonly TrainingLoss[] = TRAINING_GRAPH_LOSSES;

/** The training loss `kind` of `logits` against `masks` (the upsampling is computed once). */
export function trainingLoss(tf: Tfjs, kind: TrainingLoss, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => {
    const z = upsampleLogits(tf, logits, masks);
    const bce = bceOfUpsampled(tf, z, masks);
    return (kind === 'bce' ? bce : tf.add(bce, diceOfUpsampled(tf, z, masks))) as tfc.Scalar;
  });
}
