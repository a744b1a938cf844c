import { aucFromRanking, rankScores } from './ranking';
import { confusionAtThreshold, f1FromCounts, type Confusion } from './pixel-metrics';

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

export type ImageConfusion = Confusion;

/** Confusion counts of `score > threshold` against the labels. */
export function imageConfusion(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): ImageConfusion {
  return confusionAtThreshold(scores, labels, threshold, 'image metrics');
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
