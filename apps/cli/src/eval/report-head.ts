import type { SparseViTConfig } from '@sparsevit/core';
import { version } from '../version';
import type { EvalDataset } from './dataset';
import type { CsvSummary, PassSummary } from './report';
import type { ReportSettings, RowCounts } from './report-settings';

/**
 * report.json while the run goes on, and after a forced stop: no numbers yet, but the settings
 * and the identity a `--resume` must match.
 */
export function placeholderReport(settings: ReportSettings, identity: Record<string, unknown>, interrupted: boolean): string {
  const head = { command: 'eval', version, createdAt: new Date().toISOString(), complete: false, interrupted, settings, resumeIdentity: identity };
  return `${JSON.stringify(head, null, 2)}\n`;
}

export interface ReportHeadInput {
  settings: ReportSettings;
  identity: Record<string, unknown>;
  model: SparseViTConfig;
  dataset: EvalDataset;
  summary: CsvSummary;
  counts: Pick<RowCounts, 'notRun' | 'resumed'> & { passes: number; rowsThisRun: number };
  interrupted: boolean;
  /** `performance.now()` when the command started; the model's load and the passes' times. */
  timing: { started: number; loadMs: number; runMs: number };
}

/** Everything of report.json but its rows: settings, the unperturbed pass's means, counts, each pass, timing. */
export function reportHead(input: ReportHeadInput) {
  const { dataset, summary, counts, timing } = input;
  const { items, pairing } = dataset;
  const { rowMs, passes, failures } = summary;
  return {
    command: 'eval',
    version,
    createdAt: new Date().toISOString(),
    complete: counts.notRun === 0,
    interrupted: input.interrupted,
    settings: input.settings,
    resumeIdentity: input.identity,
    model: input.model,
    ...pickSummary(passes[0]),
    counts: {
      images: items.length,
      passes: counts.passes,
      rows: summary.rows,
      rowsThisRun: counts.rowsThisRun,
      resumedRows: counts.resumed,
      evaluated: passes.reduce((s, p) => s + p.images, 0),
      failed: failures.length,
      notRun: counts.notRun,
      maskSizeMismatch: summary.maskSizeMismatch,
    },
    dataset: {
      layout: dataset.layout,
      path: dataset.path,
      images: items.length,
      positives: items.filter((i) => i.label === 1).length,
      negatives: items.filter((i) => i.label === 0).length,
      unpaired: { imagesWithoutMask: pairing.imagesWithoutMask, masksWithoutImage: pairing.masksWithoutImage },
      ambiguous: pairing.ambiguous,
      ignored: pairing.ignored,
    },
    perturbations: passes,
    best: summary.best.map((r) => r.id),
    worst: summary.worst.map((r) => r.id),
    failures,
    timing: {
      loadMs: timing.loadMs,
      runMs: timing.runMs,
      totalMs: performance.now() - timing.started,
      rowMsSum: rowMs,
      msPerRow: summary.rows > 0 ? rowMs / summary.rows : null,
    },
  };
}

/** The unperturbed pass's means and counts, at the top of report.json. */
function pickSummary(s: PassSummary) {
  return {
    pixel_f1: s.pixel_f1,
    pixel_iou: s.pixel_iou,
    pixel_f1_manipulated: s.pixel_f1_manipulated,
    pixel_iou_manipulated: s.pixel_iou_manipulated,
    pixel_auc: s.pixel_auc,
    pixel_auc_standard: s.pixel_auc_standard,
    pixel_auc_standard_images: s.pixel_auc_standard_images,
    pixel_best_f1: s.pixel_best_f1,
    image_auc: s.image_auc,
    image_f1: s.image_f1,
    image_accuracy: s.image_accuracy,
    threshold: s.threshold,
    images: s.images,
    failed: s.failed,
    empty_masks: s.empty_masks,
    positives: s.positives,
    negatives: s.negatives,
  };
}
