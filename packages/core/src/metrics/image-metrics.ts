import { aucFromRanking, assertBinary, assertSameLength, checkThreshold, rankScores } from './ranking';
import { f1FromCounts } from './pixel-metrics';

/**
 * Image-level (detection) metrics over one score and one label per image, with IMDLBenCo's
 * conventions (`ImageAUC`, `ImageF1`, `ImageAccuracy`): label 1 = manipulated is the positive
 * class, an image is predicted manipulated when `score > threshold` (strictly), and F1 uses the
 * image-level epsilons `P = TP/(TP+FP+1e-9)`, `R = TP/(TP+FN+1e-9)`, `F1 = 2PR/(P+R+1e-9)`.
 */

/** Epsilon IMDLBenCo adds to the image-level F1 denominators. */
export const IMAGE_EPSILON = 1e-9;

/**
 * Tie-aware ROC AUC of `scores` against `labels` (scikit-learn's `roc_auc_score`, which
 * IMDLBenCo's `ImageAUC` calls). `null` when all labels are equal (undefined; scikit-learn
 * raises). NaN scores throw `INVALID_ARGUMENT`.
 */
export function imageAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  return aucFromRanking(rankScores(scores, labels, 'imageAuc'));
}

export interface ImageConfusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** Confusion counts of `score > threshold` against the labels. */
export function imageConfusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): ImageConfusion {
  checkThreshold(threshold);
  assertSameLength(scores, labels, 'image metrics');
  assertBinary(labels, 'image labels');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i] > threshold;
    const l = +labels[i] === 1;
    if (p && l) tp++;
    else if (p) fp++;
    else if (l) fn++;
    else tn++;
  }
  return { tp, fp, fn, tn };
}

/** Image-level F1 at `threshold` (default 0.5), IMDLBenCo `ImageF1`. */
export function imageF1(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  const c = imageConfusion(scores, labels, threshold);
  return f1FromCounts(c.tp, c.fp, c.fn, IMAGE_EPSILON);
}

/** Fraction of images whose `score > threshold` equals their label, IMDLBenCo `ImageAccuracy`. */
export function imageAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  const c = imageConfusion(scores, labels, threshold);
  return (c.tp + c.tn) / scores.length;
}
