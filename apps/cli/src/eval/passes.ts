import {
  binarizeMask,
  emptyMask,
  evaluateImage,
  isSparseViTError,
  preparePair,
  type BinaryMask,
  type DetectionOutcome,
  type RawImage,
} from '@sparsevit/core';
import type { NodeImageInput, NodeSparseViTModel } from '@sparsevit/node';
import { errorRecord } from '../errors';
import type { Interrupts } from '../interrupts';
import type { Progress } from '../progress';
import { oneLineField, type CsvWriter, type ReportRow } from './csv';
import type { EvalItem } from './dataset';
import { applyPerturbation, type Perturbation } from './perturb';
import { rowKey, type PassInfo } from './report';
import { failedRow, scoredRow } from './report-rows';
import type { ResumeState } from './resume';
import type { EvalSettings } from './settings';

/** One pass over the dataset: the unperturbed reference (`none`) or one perturbation. */
export interface EvalPass extends PassInfo {
  perturbation: Perturbation | null;
}

/** `none` first, then one pass per `--perturb` value, in order. */
export function evalPasses(perturbations: readonly Perturbation[]): EvalPass[] {
  return [
    { name: 'none', kind: 'none', strength: null, perturbation: null },
    ...perturbations.map((p) => ({ name: p.name, kind: p.kind, strength: p.strength, perturbation: p })),
  ];
}

/** An item made ready for the model: decoded, its mask binarised, the perturbation applied. */
export interface PreparedItem {
  item: EvalItem;
  input?: RawImage;
  mask?: BinaryMask;
  width?: number;
  height?: number;
  error?: { code: string; message: string };
  ms: number;
}

export type PrepareItem = (item: EvalItem, perturbation: Perturbation | null) => Promise<PreparedItem>;

/**
 * The function that reads an item: image and mask decoded by `@sparsevit/node`'s sharp decoder
 * (the model's own), the mask binarised (an all-zero one for a "Negative" image), then the
 * perturbation applied. It never throws: a failure comes back as the item's `error`.
 */
export async function createItemPreparer(settings: Pick<EvalSettings, 'maxPixels' | 'seed'>): Promise<PrepareItem> {
  const { decodeImage } = await import('@sparsevit/node');
  const { maxPixels } = settings;
  const pixelLimit = maxPixels === undefined ? {} : { maxPixels };
  return async (item, perturbation) => {
    const t0 = performance.now();
    try {
      const maskPromise = item.mask === null ? null : decodeImage(item.mask, pixelLimit).catch((error: unknown) => {
        throw isSparseViTError(error) ? Object.assign(error, { message: `ground-truth mask: ${error.message}` }) : error;
      });
      maskPromise?.catch(() => undefined); // awaited below, after the image
      const image = await decodeImage(item.image, pixelLimit);
      const mask = maskPromise === null ? emptyMask(image.width, image.height) : binarizeMask(await maskPromise);
      const input = perturbation ? await applyPerturbation(image, perturbation, oneLineField(item.id), settings.seed) : image;
      return { item, input, mask, width: image.width, height: image.height, ms: performance.now() - t0 };
    } catch (error) {
      return { item, error: errorRecord(error), ms: performance.now() - t0 };
    }
  };
}

/** One batch of items as read, with what the model made of each. */
export interface DetectedBatch {
  prepared: PreparedItem[];
  /** The model's outcome for each item of `prepared`; undefined for one that could not be read. */
  outcomes: (DetectionOutcome<NodeImageInput> | undefined)[];
  /** Images the model ran on in this batch (its inference time is shared among them). */
  ran: number;
}

/**
 * Reads and runs `batches` in order, the next batch decoded while the model runs the current
 * one, and yields each with its outcomes. Items that cannot be read are yielded with their
 * error, never thrown; a consumer that stops early (an interruption) leaves no read pending.
 * `eval` and `calibrate` both read their images this way, so they see the same pixels.
 */
export async function* detectBatches(
  batches: readonly (readonly EvalItem[])[],
  run: { model: NodeSparseViTModel; prepare: PrepareItem; perturbation: Perturbation | null; batchSize: number; threshold?: number },
): AsyncGenerator<DetectedBatch> {
  const read = (batch: readonly EvalItem[]) => Promise.all(batch.map((item) => run.prepare(item, run.perturbation)));
  let next = batches.length > 0 ? read(batches[0]) : null;
  try {
    for (let b = 0; b < batches.length && next; b++) {
      const prepared = await next;
      next = b + 1 < batches.length ? read(batches[b + 1]) : null;
      const runnable = prepared.filter((p) => p.input);
      const results = runnable.length
        ? await run.model.detectBatch(runnable.map((p) => p.input as RawImage), { batchSize: run.batchSize, threshold: run.threshold })
        : [];
      yield { prepared, outcomes: prepared.map((p) => (p.input ? results[runnable.indexOf(p)] : undefined)), ran: runnable.length };
    }
  } finally {
    await next?.catch(() => undefined);
  }
}

export interface PassRun {
  items: readonly EvalItem[];
  passes: readonly EvalPass[];
  /** The rows a `--resume` keeps: not run again, counted in the progress from the start. */
  resumed: ResumeState;
  model: NodeSparseViTModel;
  prepare: PrepareItem;
  settings: Pick<EvalSettings, 'batchSize' | 'threshold' | 'protocol'>;
  csv: CsvWriter;
  progress: Progress;
  interrupt: Interrupts;
}

/**
 * Runs every pass, the next batch decoded while the model runs the current one, and appends one
 * row per image to report.csv as it goes. Stops after the current batch when `interrupt` fires.
 * Stops the progress bar and closes report.csv at the end. Returns the number of rows written.
 */
export async function runPasses(run: PassRun): Promise<number> {
  const { items, model, prepare, settings, csv, progress, interrupt } = run;
  let doneCount = run.resumed.rows;
  let failedCount = run.resumed.failed;
  let newRows = 0;
  const record = async (row: ReportRow) => {
    await csv.write(row);
    newRows++;
    doneCount++;
    if (row.status === 'failed') {
      failedCount++;
      const where = row.error?.includes(row.image) ? '' : `${row.id}: `;
      progress.log(`sparsevit: ${row.perturbation === 'none' ? '' : `[${row.perturbation}] `}${where}${row.error_code}: ${row.error}`);
    }
    progress.update(doneCount, failedCount);
  };

  /** The row of a prepared item the model ran on (one of `batch`), scored against its mask. */
  const score = (pass: EvalPass, p: PreparedItem, outcome: DetectionOutcome<NodeImageInput>, batch: number): ReportRow => {
    if (!outcome.ok) return failedRow(pass.name, p, errorRecord(outcome.error), p.ms);
    const r = outcome.result;
    const modelMs = r.timings.preprocessMs + r.timings.inferenceMs / batch + r.timings.postprocessMs;
    const t0 = performance.now();
    try {
      const mask = p.mask as BinaryMask;
      const pair = preparePair(r, mask, settings.protocol);
      const m = evaluateImage(pair.pred, pair.gt, { threshold: settings.threshold, score: r.score, label: p.item.label });
      const mismatch = mask.width !== p.width || mask.height !== p.height;
      if (mismatch && pass.name === 'none') {
        progress.log(`sparsevit: ${p.item.id}: the mask is ${mask.width}x${mask.height}, the image ${p.width}x${p.height}; the mask was resized (nearest) to score it`);
      }
      return scoredRow(pass.name, { item: p.item, width: p.width as number, height: p.height as number }, m, mismatch, p.ms + modelMs + (performance.now() - t0));
    } catch (error) {
      return failedRow(pass.name, p, errorRecord(error), p.ms + modelMs + (performance.now() - t0));
    }
  };

  try {
    for (const pass of run.passes) {
      if (interrupt.interrupted) break;
      progress.setLabel(pass.name === 'none' ? 'eval' : pass.name);
      // Batches sit at fixed positions of the dataset, so a resumed run puts every image in the
      // batch it had in an uninterrupted run (batched inference can move the last bits of a
      // probability with the batch's other images); a batch cut by an interruption runs again
      // whole and only its missing rows are written.
      const isDone = (i: EvalItem) => run.resumed.done.has(rowKey(pass.name, oneLineField(i.id)));
      const batches: EvalItem[][] = [];
      for (let start = 0; start < items.length; start += settings.batchSize) {
        const batch = items.slice(start, start + settings.batchSize);
        if (batch.some((i) => !isDone(i))) batches.push(batch);
      }
      for await (const batch of detectBatches(batches, { model, prepare, perturbation: pass.perturbation, batchSize: settings.batchSize, threshold: settings.threshold })) {
        for (let i = 0; i < batch.prepared.length; i++) {
          const p = batch.prepared[i];
          if (isDone(p.item)) continue;
          await record(p.error ? failedRow(pass.name, p, p.error, p.ms) : score(pass, p, batch.outcomes[i]!, batch.ran));
        }
        if (interrupt.interrupted) break;
      }
    }
  } finally {
    progress.stop();
    await csv.close();
  }
  return newRows;
}
