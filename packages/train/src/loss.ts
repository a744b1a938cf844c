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

/**
 * BCE with logits of each image's score against its label, averaged over the batch: the score
 * is the largest upsampled logit (`sigmoid` of it is `detect`'s `score`), the label 1 when the
 * mask marks any pixel. The per-pixel losses barely notice the few wrong pixels that decide an
 * authentic image's score; this term weighs them as much as a whole image (the image-level loss
 * on a global max pool of MVSS-Net and its kin). Tied maxima share the gradient equally, as
 * PyTorch's `amax` does (tfjs's own `max` gives each tie the whole gradient).
 */
export function imageScoreLoss(tf: Tfjs, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => imageScoreOfUpsampled(tf, upsampleLogits(tf, logits, masks), masks));
}

function imageScoreOfUpsampled(tf: Tfjs, z: tfc.Tensor, y: tfc.Tensor): tfc.Scalar {
  const b = z.shape[0];
  const zMax = maxSharingTies(tf, tf.reshape(z, [b, -1]) as tfc.Tensor2D);
  const label = tf.max(tf.reshape(y, [b, -1]), 1);
  const loss = tf.add(tf.sub(tf.relu(zMax), tf.mul(zMax, label)), tf.log1p(tf.exp(tf.neg(tf.abs(zMax)))));
  return tf.mean(loss) as tfc.Scalar;
}

/** The maximum of each row of `x`, whose gradient is split equally among the row's tied maxima. */
function maxSharingTies(tf: Tfjs, x: tfc.Tensor2D): tfc.Tensor1D {
  // customGrad passes the inputs, then the function that saves tensors for the gradient.
  const f = tf.customGrad((...args: unknown[]) => {
    const [input, save] = args as [tfc.Tensor, (tensors: tfc.Tensor[]) => void];
    const value = tf.max(input, 1);
    save([input, value]);
    return {
      value,
      gradFunc: (dy: tfc.Tensor, saved: tfc.Tensor[]) => {
        const [kept, max] = saved;
        const atMax = tf.cast(tf.equal(kept, tf.expandDims(max, 1)), 'float32');
        return tf.mul(atMax, tf.expandDims(tf.div(dy, tf.sum(atMax, 1)), 1));
      },
    };
  });
  return f(x) as tfc.Tensor1D;
}

/**
 * `bce`: the reference's loss. `bce+dice`: BCE plus the soft Dice loss, with equal weights.
 * `bce+dice+image`: both plus `imageScoreLoss`, again with equal weights.
 */
export type TrainingLoss = TrainingGraphLoss;

export const TRAINING_LOSSES: readonly TrainingLoss[] = TRAINING_GRAPH_LOSSES;

/** The training loss `kind` of `logits` against `masks` (the upsampling is computed once). */
export function trainingLoss(tf: Tfjs, kind: TrainingLoss, logits: tfc.Tensor, masks: tfc.Tensor): tfc.Scalar {
  return tf.tidy(() => {
    const z = upsampleLogits(tf, logits, masks);
    const bce = bceOfUpsampled(tf, z, masks);
    if (kind === 'bce') return bce;
    const bceDice = tf.add(bce, diceOfUpsampled(tf, z, masks));
    return (kind === 'bce+dice' ? bceDice : tf.add(bceDice, imageScoreOfUpsampled(tf, z, masks))) as tfc.Scalar;
  });
}
