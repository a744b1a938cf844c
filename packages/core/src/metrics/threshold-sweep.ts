import { SparseViTError } from '../errors';
import { f1FromCounts, iouFromCounts } from './pixel-metrics';
import { assertBinary, assertSameLength, checkThreshold } from './ranking';

/** The thresholds a sweep tries by default: 0.01, 0.02, ..., 0.99. */
export const DEFAULT_SWEEP_THRESHOLDS: readonly number[] = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);

/** Dataset means at one threshold (`prob > threshold`), as `sparsevit eval` averages them. */
export interface ThresholdSweepPoint {
  threshold: number;
  /** Mean pixel F1 over every image added (an empty mask counts as 0, as in IMDLBenCo). */
  pixel_f1: number;
  /** Mean pixel F1 over the images whose mask is not empty. */
  pixel_f1_manipulated: number;
  /** Mean pixel IoU over every image added. */
  pixel_iou: number;
}

export interface ThresholdSweepResult {
  /** One point per threshold, in increasing order of threshold. */
  points: ThresholdSweepPoint[];
  /**
   * The point with the highest mean pixel F1 (the one nearest 0.5 among equals); `null` when no
   * image with a manipulated pixel was added, so that no threshold is better than another.
   */
  best: ThresholdSweepPoint | null;
  images: number;
  /** Images added whose mask is not empty. */
  manipulated: number;
}

export interface ThresholdSweep {
  /** Adds one image: probabilities and the binary ground truth, of the same length. */
  add(prob: ArrayLike<number>, gt: ArrayLike<number>): void;
  /** The means so far (can be called repeatedly). */
  result(): ThresholdSweepResult;
}

/**
 * Pixel F1 and IoU at many thresholds at once, over a dataset: what choosing one operating
 * threshold on validation images needs (`sparsevit calibrate`). Each image costs one pass with a
 * binary search per pixel into the thresholds; only per-threshold sums are kept, not the maps.
 * The counts are those of `pixelMetrics` at each threshold (`prob > threshold`; NaN is never
 * above), and F1 and IoU use its epsilons.
 */
export function createThresholdSweep(thresholds: readonly number[] = DEFAULT_SWEEP_THRESHOLDS): ThresholdSweep {
  if (thresholds.length === 0) throw new SparseViTError('INVALID_ARGUMENT', 'a threshold sweep needs at least one threshold');
  thresholds.forEach((t, i) => {
    checkThreshold(t);
    if (i > 0 && !(t > thresholds[i - 1])) throw new SparseViTError('INVALID_ARGUMENT', `sweep thresholds must increase, got ${thresholds[i - 1]} then ${t}`);
  });
  const ts = Float64Array.from(thresholds);
  const k = ts.length;
  const f1Sum = new Float64Array(k);
  const f1ManipulatedSum = new Float64Array(k);
  const iouSum = new Float64Array(k);
  // Pixels by how many thresholds lie below them (0..k), split by their ground truth.
  const positives = new Float64Array(k + 1);
  const negatives = new Float64Array(k + 1);
  let images = 0;
  let manipulated = 0;

  /** How many thresholds are strictly below `p` (0 for NaN). */
  const rank = (p: number) => {
    let lo = 0;
    let hi = k;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid] < p) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  return {
    add(prob, gt) {
      assertSameLength(prob, gt, 'prediction and ground truth');
      assertBinary(gt, 'ground truth');
      positives.fill(0);
      negatives.fill(0);
      let totalPositive = 0;
      for (let i = 0; i < prob.length; i++) {
        const r = rank(prob[i]);
        if (+gt[i] === 1) {
          positives[r]++;
          totalPositive++;
        } else {
          negatives[r]++;
        }
      }
      // A pixel of rank r is above thresholds 0..r-1: tp(j) sums the positives of rank > j.
      let tp = 0;
      let fp = 0;
      for (let j = k - 1; j >= 0; j--) {
        tp += positives[j + 1];
        fp += negatives[j + 1];
        const fn = totalPositive - tp;
        const f1 = f1FromCounts(tp, fp, fn);
        f1Sum[j] += f1;
        if (totalPositive > 0) f1ManipulatedSum[j] += f1;
        iouSum[j] += iouFromCounts(tp, fp, fn);
      }
      images++;
      if (totalPositive > 0) manipulated++;
    },
    result() {
      const points = Array.from(ts, (threshold, j) => ({
        threshold,
        pixel_f1: images ? f1Sum[j] / images : 0,
        pixel_f1_manipulated: manipulated ? f1ManipulatedSum[j] / manipulated : 0,
        pixel_iou: images ? iouSum[j] / images : 0,
      }));
      let best: ThresholdSweepPoint | null = null;
      if (manipulated > 0) {
        for (const p of points) {
          if (!best || p.pixel_f1 > best.pixel_f1 || (p.pixel_f1 === best.pixel_f1 && Math.abs(p.threshold - 0.5) < Math.abs(best.threshold - 0.5))) best = p;
        }
      }
      return { points, best, images, manipulated };
    },
  };
}
