import { SparseViTError } from '../errors';
import { maxScore } from '../image/postprocess';
import { imageAccuracy, imageAuc, imageF1 } from './image-metrics';
import { pixelMetrics } from './pixel-metrics';
import { checkThreshold } from './ranking';

/**
 * Per-image metrics. Snake-case keys on purpose: they are the column names of the CSV/JSON
 * reports and of `tooling/fixtures/metrics/metrics.json`.
 */
export interface ImageMetrics {
  /** Pixel F1 at the threshold (`prob > threshold`, IMDLBenCo epsilons). */
  pixel_f1: number;
  /** Pixel IoU at the threshold. */
  pixel_iou: number;
  /** IMDLBenCo's per-image pixel AUC: 0 for an empty mask (see `pixelAucBenco`). */
  pixel_auc: number;
  /** Tie-aware pixel AUC; `null` for an empty or full mask. */
  pixel_auc_standard: number | null;
  /** Best F1 over all thresholds (an oracle, optimistic). */
  pixel_best_f1: number;
  /** The threshold of `pixel_best_f1` (`prob >= t`); `null` when no threshold beats F1 = 0. */
  pixel_best_threshold: number | null;
  /** Image-level score (default: the maximum probability). */
  score: number;
  /** 1 = manipulated, 0 = authentic. */
  label: 0 | 1;
  /** The mask has no manipulated pixel. */
  empty_mask: boolean;
}

export interface EvaluationRow extends ImageMetrics {
  id: string;
}

/** An image that could not be evaluated (unreadable, wrong size, ...). */
export interface FailedEvaluationRow {
  id: string;
  error: string;
  /** The `SparseViTError` code when there was one. */
  code?: string;
}

export interface EvaluateImageOptions {
  /** Binarisation threshold of the prediction; default 0.5. */
  threshold?: number;
  /**
   * Image-level score. Default: the maximum of `prob`. Pass `DetectionResult.score` (the maximum
   * of the network-resolution map) to score the same way whatever the protocol.
   */
  score?: number;
  /**
   * Ground-truth label. Default: 1 when the mask has a manipulated pixel, else 0. IMDLBenCo takes
   * it from the pair list instead (1 unless the mask is "Negative"); pass it to do the same.
   */
  label?: 0 | 1;
}

/** Every per-image metric of `prob` (probabilities) against `gt` (binary), with one sort. */
export function evaluateImage(prob: ArrayLike<number>, gt: ArrayLike<number>, options: EvaluateImageOptions = {}): ImageMetrics {
  const threshold = options.threshold ?? 0.5;
  checkThreshold(threshold);
  const m = pixelMetrics(prob, gt, threshold);
  const empty = m.confusion.tp + m.confusion.fn === 0;
  const label = options.label ?? (empty ? 0 : 1);
  if (label !== 0 && label !== 1) throw new SparseViTError('INVALID_ARGUMENT', `label must be 0 or 1, got ${String(label)}`);
  const score = options.score ?? maxScore(prob);
  return {
    pixel_f1: m.f1,
    pixel_iou: m.iou,
    pixel_auc: m.aucBenco,
    pixel_auc_standard: m.auc,
    pixel_best_f1: m.best.f1,
    pixel_best_threshold: m.best.threshold,
    score,
    label,
    empty_mask: empty,
  };
}

/** Dataset-level results. Means are `null` when no image was evaluated. */
export interface EvaluationSummary {
  threshold: number;
  /** Images evaluated successfully (failed ones excluded from every mean). */
  images: number;
  failed: number;
  /** Evaluated images whose mask is empty (authentic). */
  empty_masks: number;
  /** Mean pixel F1 over evaluated images (empty masks count as 0, as in IMDLBenCo). */
  pixel_f1: number | null;
  pixel_iou: number | null;
  /**
   * Mean pixel F1 over the evaluated images whose mask is not empty: how well the manipulated
   * regions are found, whatever share of the set is authentic (`pixel_f1` counts each authentic
   * image as 0, so its ceiling is the manipulated share). `null` when no mask has a pixel.
   */
  pixel_f1_manipulated: number | null;
  /** Mean pixel IoU over the evaluated images whose mask is not empty. */
  pixel_iou_manipulated: number | null;
  /** Mean of IMDLBenCo's pixel AUC (empty masks count as 0, as in IMDLBenCo). */
  pixel_auc: number | null;
  /** Mean tie-aware pixel AUC over the images where it is defined (non-empty, non-full masks). */
  pixel_auc_standard: number | null;
  /** Images `pixel_auc_standard` averages over. */
  pixel_auc_standard_images: number;
  pixel_best_f1: number | null;
  /** Tie-aware AUC of the scores against the labels; `null` unless both labels occur. */
  image_auc: number | null;
  /** Image F1 at `score > threshold` (IMDLBenCo image epsilons 1e-9). */
  image_f1: number | null;
  image_accuracy: number | null;
  /** Evaluated images labelled manipulated / authentic. */
  positives: number;
  negatives: number;
}

export interface EvaluationAccumulator {
  /** Adds one image's row (or a failure). Rows may arrive in any order. */
  add(row: EvaluationRow | FailedEvaluationRow): void;
  /** The summary of everything added so far (can be called repeatedly). */
  summary(): EvaluationSummary;
  /** The failures added so far (ids and messages). */
  failures(): readonly FailedEvaluationRow[];
}

export interface EvaluationAccumulatorOptions {
  /** Threshold of the image-level F1 and accuracy; default 0.5. */
  threshold?: number;
}

function isFailed(row: EvaluationRow | FailedEvaluationRow): row is FailedEvaluationRow {
  return typeof (row as FailedEvaluationRow).error === 'string';
}

function finiteOr(what: string, id: string, v: unknown, allowNull = false): void {
  if (allowNull && v === null) return;
  if (typeof v !== 'number' || Number.isNaN(v)) {
    throw new SparseViTError('INVALID_ARGUMENT', `evaluation row ${JSON.stringify(id)}: ${what} must be a number, got ${String(v)}`);
  }
}

/**
 * Streaming dataset summary. Memory is flat in the maps: it keeps running sums of the pixel
 * metrics, and one score and one label per image (two numbers; 100k images is ~1.6 MB) for the
 * image-level AUC. Never keeps a probability map or a mask.
 */
export function createEvaluationAccumulator(options: EvaluationAccumulatorOptions = {}): EvaluationAccumulator {
  const threshold = options.threshold ?? 0.5;
  checkThreshold(threshold);
  let images = 0;
  let emptyMasks = 0;
  let sumF1 = 0;
  let sumIou = 0;
  let sumF1Manipulated = 0;
  let sumIouManipulated = 0;
  let sumAuc = 0;
  let sumAucStd = 0;
  let aucStdImages = 0;
  let sumBest = 0;
  let positives = 0;
  const scores: number[] = [];
  const labels: number[] = [];
  const failed: FailedEvaluationRow[] = [];

  return {
    add(row) {
      if (row === null || typeof row !== 'object' || typeof row.id !== 'string') {
        throw new SparseViTError('INVALID_ARGUMENT', 'an evaluation row must be an object with a string id');
      }
      if (isFailed(row)) {
        failed.push(row.code === undefined ? { id: row.id, error: row.error } : { id: row.id, error: row.error, code: row.code });
        return;
      }
      finiteOr('pixel_f1', row.id, row.pixel_f1);
      finiteOr('pixel_iou', row.id, row.pixel_iou);
      finiteOr('pixel_auc', row.id, row.pixel_auc);
      finiteOr('pixel_auc_standard', row.id, row.pixel_auc_standard, true);
      finiteOr('pixel_best_f1', row.id, row.pixel_best_f1);
      finiteOr('score', row.id, row.score);
      if (row.label !== 0 && row.label !== 1) {
        throw new SparseViTError('INVALID_ARGUMENT', `evaluation row ${JSON.stringify(row.id)}: label must be 0 or 1`);
      }
      images++;
      if (row.empty_mask) emptyMasks++;
      else {
        sumF1Manipulated += row.pixel_f1;
        sumIouManipulated += row.pixel_iou;
      }
      sumF1 += row.pixel_f1;
      sumIou += row.pixel_iou;
      sumAuc += row.pixel_auc;
      sumBest += row.pixel_best_f1;
      if (row.pixel_auc_standard !== null) {
        sumAucStd += row.pixel_auc_standard;
        aucStdImages++;
      }
      positives += row.label;
      scores.push(row.score);
      labels.push(row.label);
    },
    summary() {
      const mean = (s: number, n: number) => (n === 0 ? null : s / n);
      return {
        threshold,
        images,
        failed: failed.length,
        empty_masks: emptyMasks,
        pixel_f1: mean(sumF1, images),
        pixel_iou: mean(sumIou, images),
        pixel_f1_manipulated: mean(sumF1Manipulated, images - emptyMasks),
        pixel_iou_manipulated: mean(sumIouManipulated, images - emptyMasks),
        pixel_auc: mean(sumAuc, images),
        pixel_auc_standard: mean(sumAucStd, aucStdImages),
        pixel_auc_standard_images: aucStdImages,
        pixel_best_f1: mean(sumBest, images),
        image_auc: images === 0 ? null : imageAuc(scores, labels),
        image_f1: images === 0 ? null : imageF1(scores, labels, threshold),
        image_accuracy: images === 0 ? null : imageAccuracy(scores, labels, threshold),
        positives,
        negatives: images - positives,
      };
    },
    failures() {
      return failed;
    },
  };
}
