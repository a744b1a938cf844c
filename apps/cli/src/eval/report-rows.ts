import type { ImageMetrics } from '@sparsevit/core';
import { oneLine } from '../errors';
import { oneLineField, type ReportRow } from './csv';
import type { EvalItem } from './dataset';

/** The columns that name a row: its pass, the image and its mask. */
function rowName(pass: string, item: EvalItem): Pick<ReportRow, 'perturbation' | 'id' | 'image' | 'mask' | 'label'> {
  return { perturbation: pass, id: oneLineField(item.id), image: item.image, mask: item.mask ?? 'Negative', label: item.label };
}

/** A row of an image that could not be scored: the error's code and first lines, no metrics. */
export function failedRow(
  pass: string,
  at: { item: EvalItem; width?: number; height?: number },
  error: { code: string; message: string },
  ms: number,
): ReportRow {
  return {
    ...rowName(pass, at.item),
    status: 'failed',
    error_code: error.code,
    error: oneLine(error.message),
    width: at.width ?? null,
    height: at.height ?? null,
    score: null,
    pixel_f1: null,
    pixel_iou: null,
    pixel_auc: null,
    pixel_auc_standard: null,
    pixel_best_f1: null,
    pixel_best_threshold: null,
    empty_mask: null,
    mask_size_mismatch: null,
    ms,
  };
}

/** A scored row: core's metrics of one image (`evaluateImage`). */
export function scoredRow(
  pass: string,
  at: { item: EvalItem; width: number; height: number },
  m: ImageMetrics,
  maskSizeMismatch: boolean,
  ms: number,
): ReportRow {
  return {
    ...rowName(pass, at.item),
    status: 'ok',
    error_code: null,
    error: null,
    width: at.width,
    height: at.height,
    score: m.score,
    pixel_f1: m.pixel_f1,
    pixel_iou: m.pixel_iou,
    pixel_auc: m.pixel_auc,
    pixel_auc_standard: m.pixel_auc_standard,
    pixel_best_f1: m.pixel_best_f1,
    pixel_best_threshold: m.pixel_best_threshold,
    empty_mask: m.empty_mask,
    mask_size_mismatch: maskSizeMismatch,
    ms,
  };
}
