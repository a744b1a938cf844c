import { aucFromRanking, assertBinary, assertSameLength, checkThreshold, rankScores, type Ranking } from './ranking';

/**
 * Per-image pixel metrics with IMDLBenCo's conventions (scu-zjz/IMDLBenCo,
 * `IMDLBenCo/evaluation/{F1,IOU,AUC}.py`, mode "origin"), checked against
 * `tooling/fixtures/metrics/metrics.json`:
 * - a pixel is predicted manipulated when `prob > threshold` (strictly; NaN is never positive);
 * - F1: `P = TP/(TP+FP+1e-8)`, `R = TP/(TP+FN+1e-8)`, `F1 = 2PR/(P+R+1e-8)`;
 * - IoU: `TP/(TP+FP+FN+1e-8)`;
 * so an empty mask gives F1 = IoU = 0 whatever the prediction, and a perfect prediction gives
 * slightly less than 1 (0.99999999...), exactly as the reference reports.
 *
 * `pred` is a probability map, `gt` a binary mask (0/1) of the same length, both row-major; any
 * `ArrayLike<number>` works (Float32Array, Uint8Array, plain arrays).
 */

/** Epsilon IMDLBenCo adds to every pixel-level denominator. */
export const PIXEL_EPSILON = 1e-8;

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/**
 * Counts of the confusion matrix of `pred > threshold` against the binary `gt` (pixels, or image
 * scores against labels). `context` names the caller in error messages.
 */
export function confusionAtThreshold(pred: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5, context = 'confusionAtThreshold'): Confusion {
  checkThreshold(threshold);
  assertSameLength(pred, gt, context);
  assertBinary(gt, `${context} gt`);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const n = pred.length;
  for (let i = 0; i < n; i++) {
    const p = pred[i] > threshold;
    const g = +gt[i] === 1;
    if (p) {
      if (g) tp++;
      else fp++;
    } else if (g) fn++;
  }
  return { tp, fp, fn, tn: n - tp - fp - fn };
}

/** F1 from counts, with IMDLBenCo's epsilon placement (`eps` 1e-8 at pixel level, 1e-9 at image level). */
export function f1FromCounts(tp: number, fp: number, fn: number, eps: number = PIXEL_EPSILON): number {
  const precision = tp / (tp + fp + eps);
  const recall = tp / (tp + fn + eps);
  return (2 * precision * recall) / (precision + recall + eps);
}

/** IoU (Jaccard) from counts: `TP / (TP + FP + FN + eps)`. */
export function iouFromCounts(tp: number, fp: number, fn: number, eps: number = PIXEL_EPSILON): number {
  return tp / (tp + fp + fn + eps);
}

/** Pixel F1 of `pred > threshold` against `gt` (IMDLBenCo `PixelF1`, mode "origin"). */
export function pixelF1(pred: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5): number {
  const c = confusionAtThreshold(pred, gt, threshold);
  return f1FromCounts(c.tp, c.fp, c.fn);
}

/** Pixel IoU of `pred > threshold` against `gt` (IMDLBenCo `PixelIOU`, mode "origin"). */
export function pixelIoU(pred: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5): number {
  const c = confusionAtThreshold(pred, gt, threshold);
  return iouFromCounts(c.tp, c.fp, c.fn);
}

/**
 * Standard pixel ROC AUC, exact and tie-aware (pixels of equal probability count one half,
 * equal to scikit-learn's `roc_auc_score`). `null` when the mask is empty or full: with one class
 * the AUC is undefined, and such images must be left out of a mean rather than counted as 0.
 * One stable radix sort (linear time); NaN probabilities throw `INVALID_ARGUMENT`.
 */
export function pixelAuc(pred: ArrayLike<number>, gt: ArrayLike<number>): number | null {
  return aucFromRanking(rankScores(pred, gt, 'pixelAuc'));
}

/**
 * IMDLBenCo's per-image pixel AUC (`PixelAUC.Cal_AUC`), reproduced as the reference computes it:
 * - an empty mask gives **0.0** (not undefined), which pulls dataset means down when authentic
 *   images are in the set; a full mask gives NaN in the reference (0/0), here 0 as well;
 * - the pixels are ordered by `argsort(descending)` and the ROC curve is integrated with the
 *   trapezoid rule point by point, so pixels of equal probability are NOT averaged: their order
 *   decides. This implementation orders ties by pixel index (a stable sort), which is what
 *   reproduces the fixture (case 4 differs from the tie-aware AUC by 1.7e-4); PyTorch's
 *   unstable CPU/GPU sort may order large tie groups differently.
 * With no ties it equals {@link pixelAuc}.
 */
export function pixelAucBenco(pred: ArrayLike<number>, gt: ArrayLike<number>): number {
  return bencoAucFromRanking(rankScores(pred, gt, 'pixelAucBenco'));
}

export interface BestThresholdF1 {
  /** The largest F1 over all thresholds (IMDLBenCo's F1 formula). 0 when the mask is empty. */
  f1: number;
  /** IoU at that same threshold. */
  iou: number;
  /**
   * A pixel is predicted manipulated when `prob >= threshold` (inclusive: the threshold is one of
   * the prediction's own values). `null` when no threshold gives an F1 above 0 (empty mask, or
   * no positive pixel ever predicted).
   */
  threshold: number | null;
}

/**
 * The best F1 over every threshold ("F1-best", an oracle per-image threshold, optimistic by
 * construction: report it beside, never instead of, the fixed-threshold F1). The candidates are
 * all distinct prediction values `v` with the rule `prob >= v`; these realise every distinct
 * binarisation, so the result is >= {@link pixelF1} at any threshold. One stable radix sort.
 */
export function bestThresholdF1(pred: ArrayLike<number>, gt: ArrayLike<number>): BestThresholdF1 {
  return bestF1FromRanking(rankScores(pred, gt, 'bestThresholdF1'));
}

export interface PixelMetrics {
  f1: number;
  iou: number;
  /** IMDLBenCo's pixel AUC (0 for an empty mask). */
  aucBenco: number;
  /** Tie-aware pixel AUC; `null` for an empty or full mask. */
  auc: number | null;
  best: BestThresholdF1;
  confusion: Confusion;
}

/** Every pixel metric of one image with a single sort (what `evaluateImage` uses). */
export function pixelMetrics(pred: ArrayLike<number>, gt: ArrayLike<number>, threshold = 0.5): PixelMetrics {
  const confusion = confusionAtThreshold(pred, gt, threshold);
  const ranking = rankScores(pred, gt, 'pixelMetrics');
  return {
    f1: f1FromCounts(confusion.tp, confusion.fp, confusion.fn),
    iou: iouFromCounts(confusion.tp, confusion.fp, confusion.fn),
    aucBenco: bencoAucFromRanking(ranking),
    auc: aucFromRanking(ranking),
    best: bestF1FromRanking(ranking),
    confusion,
  };
}

function bencoAucFromRanking(r: Ranking): number {
  if (r.totalPos === 0 || r.totalNeg === 0) return 0;
  // Walk the stable descending order (groups from the highest score; inside a group, ascending
  // index, as the radix order keeps it). The trapezoid over that curve adds TPR at every negative
  // step and nothing at positive steps, so each negative counts the positives before it.
  const { order, start, labels } = r;
  let before = 0;
  let sum = 0;
  for (let g = r.values.length - 1; g >= 0; g--) {
    for (let k = start[g], end = start[g + 1]; k < end; k++) {
      if (labels[order[k]] === 1) before++;
      else sum += before;
    }
  }
  return sum / (r.totalPos * r.totalNeg);
}

function bestF1FromRanking(r: Ranking): BestThresholdF1 {
  let best: BestThresholdF1 = { f1: 0, iou: 0, threshold: null };
  let tp = 0;
  let fp = 0;
  for (let g = r.values.length - 1; g >= 0; g--) {
    tp += r.pos[g];
    fp += r.neg[g];
    const fn = r.totalPos - tp;
    const f1 = f1FromCounts(tp, fp, fn);
    if (f1 > best.f1) best = { f1, iou: iouFromCounts(tp, fp, fn), threshold: r.values[g] };
  }
  return best;
}
