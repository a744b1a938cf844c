import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  PRESETS,
  binarizeMask,
  emptyMask,
  evaluateImage,
  isSparseViTError,
  preparePair,
  type BinaryMask,
  type EvaluationProtocol,
  type RawImage,
} from '@sparsevit/core';
import type { NodeSparseViTModel } from '@sparsevit/node';
import { numberOption, parseCommandArgs } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { loadCliModel } from '../load-cli-model';
import { MODEL_OPTIONS, parseModelOptions, type ModelCommandSettings } from '../model-options';
import { errorRecord, oneLine } from '../errors';
import { EVAL_USAGE, printHelp } from '../help';
import { handleRunInterrupts } from '../interrupts';
import { prepareOutputFolder } from '../output-folder';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';
import { version } from '../version';
import { CsvWriter, oneLineField, readCsvRows, repairCsvForResume, type ReportRow } from '../eval/csv';
import { loadDataset, type EvalDataset, type EvalItem } from '../eval/dataset';
import { renderHtml, type ShownImage } from '../eval/html';
import { applyPerturbation, parsePerturbations, type Perturbation } from '../eval/perturb';
import { rowKey, summarizeCsv, writeReportJson, type PassInfo, type PassSummary } from '../eval/report';

const PROTOCOLS: readonly EvaluationProtocol[] = ['imdlbenco', 'native'];

const PROTOCOL_DESCRIPTIONS: Record<EvaluationProtocol, string> = {
  imdlbenco:
    "network-resolution probability (img_size x img_size) against the mask resized to that size with OpenCV nearest neighbour (IMDLBenCo's is_resizing test protocol)",
  native: "full-size probability (Lanczos-resized to the image) against the mask at the image's size",
};

interface EvalSettings extends ModelCommandSettings {
  dataset: string;
  protocol: EvaluationProtocol;
  skipUnpaired: boolean;
  resume: boolean;
  perturbations: Perturbation[];
  seed: number;
  show: number;
}

function parseEvalArgs(argv: string[]): EvalSettings | undefined {
  const { values, positionals } = parseCommandArgs('eval', argv, {
    ...MODEL_OPTIONS,
    protocol: { type: 'string', short: 'p' },
    'skip-unpaired': { type: 'boolean' },
    resume: { type: 'boolean' },
    perturb: { type: 'string', multiple: true },
    seed: { type: 'string' },
    show: { type: 'string' },
  });
  if (values.help) return undefined;
  const str = (name: string) => values[name] as string | undefined;
  const perturbValues = (values as Record<string, unknown>).perturb as string[] | undefined;
  const settings: EvalSettings = {
    dataset: '',
    ...parseModelOptions('eval', values),
    protocol: (str('protocol') ?? 'imdlbenco') as EvaluationProtocol,
    skipUnpaired: Boolean(values['skip-unpaired']),
    resume: Boolean(values.resume),
    perturbations: parsePerturbations(perturbValues ?? []),
    seed: numberOption('eval', 'seed', str('seed'), { integer: true, min: 0, max: 2 ** 32 - 1 }) ?? 0,
    show: numberOption('eval', 'show', str('show'), { integer: true, min: 0, max: 50 }) ?? 4,
  };
  if (!PROTOCOLS.includes(settings.protocol)) throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got "${settings.protocol}"`, 'eval');
  if (positionals.length === 0) throw new UsageError('no dataset given (a folder with Tp/ and Gt/, or a JSON pair list)', 'eval');
  if (positionals.length > 1) throw new UsageError(`one dataset at a time, got ${positionals.length}: ${positionals.join(' ')}`, 'eval');
  settings.dataset = positionals[0];
  return settings;
}

/** An item made ready for the model: decoded, its mask binarised, the perturbation applied. */
interface Prepared {
  item: EvalItem;
  input?: RawImage;
  mask?: BinaryMask;
  width?: number;
  height?: number;
  error?: { code: string; message: string };
  ms: number;
}

/** What must not change between an interrupted run and its `--resume` (they change the rows). */
function resumeIdentity(s: EvalSettings, dataset: EvalDataset, presets: Record<string, unknown>) {
  return {
    dataset: dataset.path,
    weights: resolve(s.weights),
    config: s.config === undefined ? null : Object.hasOwn(presets, s.config) ? s.config : resolve(s.config),
    protocol: s.protocol,
    threshold: s.threshold,
    seed: s.seed,
    // Rows from two backends differ in their last bits; a resumed report keeps to one.
    backend: s.backend,
  };
}

/** `sparsevit eval`: returns the exit code (0 every row ok, 1 any failed, 130 interrupted). */
export async function evalCommand(argv: string[]): Promise<number> {
  const settings = parseEvalArgs(argv);
  if (!settings) return printHelp(EVAL_USAGE);
  const started = performance.now();

  // 1. The dataset: pairing problems are reported in full, before any model is loaded.
  let dataset: EvalDataset;
  try {
    dataset = await loadDataset(settings.dataset, { skipUnpaired: settings.skipUnpaired });
  } catch (error) {
    const details = isSparseViTError(error) ? (error.details as { imagesWithoutMask?: unknown } | undefined) : undefined;
    if (isSparseViTError(error) && Array.isArray(details?.imagesWithoutMask)) {
      process.stderr.write(`sparsevit: ${error.code}: ${error.message.replace('pass skipUnpaired', 'pass --skip-unpaired')}\n`);
      return 1;
    }
    throw error;
  }
  const { items } = dataset;
  // Where several masks match an image, say which one is scored (all are in report.json).
  for (const a of dataset.pairing.ambiguous) {
    if (a.side !== 'image') continue;
    const taken = a.chosen === null ? 'none is left for it' : `using ${a.chosen}`;
    process.stderr.write(`sparsevit: ${a.file}: ${a.candidates.length} masks match (${a.candidates.join(', ')}); ${taken} (report.json: dataset.ambiguous)\n`);
  }
  const unpaired = dataset.pairing.imagesWithoutMask.length + dataset.pairing.masksWithoutImage.length;
  if (unpaired > 0) {
    process.stderr.write(
      `sparsevit: --skip-unpaired: left out ${dataset.pairing.imagesWithoutMask.length} image(s) without a mask and ` +
        `${dataset.pairing.masksWithoutImage.length} mask(s) without an image (listed in report.json under dataset.unpaired)\n`,
    );
  }

  const passes: (PassInfo & { perturbation: Perturbation | null })[] = [
    { name: 'none', kind: 'none', strength: null, perturbation: null },
    ...settings.perturbations.map((p) => ({ name: p.name, kind: p.kind, strength: p.strength, perturbation: p })),
  ];
  const passInfos: PassInfo[] = passes.map(({ name, kind, strength }) => ({ name, kind, strength }));
  const ids = new Set(items.map((i) => oneLineField(i.id)));
  const byId = new Map(items.map((i) => [oneLineField(i.id), i]));

  // 2. Output folder (checked before the model loads: not inside Tp/ or Gt/, not over an input);
  // with --resume, the rows already written.
  const { outDir } = settings;
  await prepareOutputFolder('eval', outDir, {
    inputFolders: dataset.layout === 'folder' ? [...new Set(items.flatMap((i) => [dirname(i.image), ...(i.mask ? [dirname(i.mask)] : [])]))] : [],
    inputFiles: [dataset.path, ...items.flatMap((i) => (i.mask ? [i.image, i.mask] : [i.image]))],
    outputNames: ['report.csv', 'report.json', 'report.html'],
  });
  const csvPath = join(outDir, 'report.csv');
  const jsonPath = join(outDir, 'report.json');
  const identity = resumeIdentity(settings, dataset, PRESETS);
  const done = new Set<string>();
  let resumedRows = 0;
  let resumedFailed = 0;
  let fresh = true;
  if (settings.resume) {
    const previous = await readFile(jsonPath, 'utf8').then(
      (t) => JSON.parse(t) as { resumeIdentity?: Record<string, unknown> },
      () => undefined,
    );
    if (previous?.resumeIdentity) {
      for (const [key, value] of Object.entries(identity)) {
        const before = previous.resumeIdentity[key];
        if (before !== undefined && JSON.stringify(before) !== JSON.stringify(value)) {
          throw new UsageError(
            `--resume: ${jsonPath} was made with ${key} ${JSON.stringify(before)}, not ${JSON.stringify(value)}; use the same settings, or another --out without --resume`,
            'eval',
          );
        }
      }
    }
    let repaired;
    try {
      repaired = await repairCsvForResume(csvPath);
    } catch (error) {
      throw new UsageError(`--resume: ${(error as Error).message}`, 'eval');
    }
    if (repaired === null) process.stderr.write(`sparsevit: --resume: no ${csvPath} yet, starting from the beginning\n`);
    else {
      fresh = false;
      if (repaired.droppedBytes > 0) process.stderr.write(`sparsevit: --resume: dropped an incomplete last row of ${csvPath}\n`);
      const names = new Set(passes.map((p) => p.name));
      for await (const row of readCsvRows(csvPath)) {
        const key = rowKey(row.perturbation, row.id);
        if (!names.has(row.perturbation) || !ids.has(row.id) || done.has(key)) continue;
        done.add(key);
        resumedRows++;
        if (row.status === 'failed') resumedFailed++;
      }
    }
  }

  // 3. The model.
  const model: NodeSparseViTModel = await loadCliModel(settings, (message) => process.stderr.write(`${message}\n`));
  const loadMs = performance.now() - started;

  const reportSettings = {
    dataset: settings.dataset,
    datasetPath: dataset.path,
    layout: dataset.layout,
    protocol: settings.protocol,
    protocolDescription: PROTOCOL_DESCRIPTIONS[settings.protocol],
    threshold: settings.threshold,
    weights: settings.weights,
    config: settings.config ?? null,
    backend: model.backend,
    device: model.device,
    requestedDevice: settings.device,
    batchSize: settings.batchSize,
    perturbations: settings.perturbations.map((p) => p.name),
    seed: settings.seed,
    skipUnpaired: settings.skipUnpaired,
    resume: settings.resume,
    maxPixels: settings.maxPixels ?? null,
    show: settings.show,
  };
  // A placeholder until the run ends: it records what a --resume must match.
  const placeholder = (interrupted: boolean) =>
    `${JSON.stringify({ command: 'eval', version, createdAt: new Date().toISOString(), complete: false, interrupted, settings: reportSettings, resumeIdentity: identity }, null, 2)}\n`;
  await writeFileAtomic(jsonPath, placeholder(false));

  // 4. The passes: batches decoded ahead while the model runs the current one.
  const total = items.length * passes.length;
  const progress = createProgress(total, process.stderr, { alreadyDone: resumedRows });
  let doneCount = resumedRows;
  let failedCount = resumedFailed;
  let newRows = 0;
  const csv = await CsvWriter.open(csvPath, fresh);
  // The images are decoded with sharp, as the model's own path does.
  const { decodeImage } = await import('@sparsevit/node');
  const maxPixels = settings.maxPixels;
  const pixelLimit = maxPixels === undefined ? {} : { maxPixels };

  const prepare = async (item: EvalItem, perturbation: Perturbation | null): Promise<Prepared> => {
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

  const baseRow = (pass: string, item: EvalItem): Pick<ReportRow, 'perturbation' | 'id' | 'image' | 'mask' | 'label'> => ({
    perturbation: pass,
    id: oneLineField(item.id),
    image: item.image,
    mask: item.mask ?? 'Negative',
    label: item.label,
  });
  const failedRow = (pass: string, p: Prepared, error: { code: string; message: string }, ms: number): ReportRow => ({
    ...baseRow(pass, p.item),
    status: 'failed',
    error_code: error.code,
    error: oneLine(error.message),
    width: p.width ?? null,
    height: p.height ?? null,
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
  });

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

  // Ctrl-C or SIGTERM stops after the current batch; a second one stops at once, keeping the rows
  // written (a cut last row is dropped by --resume) and a report.json that says so.
  const interrupt = handleRunInterrupts(progress, jsonPath, () => placeholder(true));
  const runStarted = performance.now();
  try {
    for (const pass of passes) {
      if (interrupt.interrupted) break;
      progress.setLabel(pass.name === 'none' ? 'eval' : pass.name);
      // Batches sit at fixed positions of the dataset, so a resumed run puts every image in the
      // batch it had in an uninterrupted run (batched inference can move the last bits of a
      // probability with the batch's other images); a batch cut by an interruption runs again
      // whole and only its missing rows are written.
      const isDone = (i: EvalItem) => done.has(rowKey(pass.name, oneLineField(i.id)));
      const starts: number[] = [];
      for (let start = 0; start < items.length; start += settings.batchSize) {
        if (items.slice(start, start + settings.batchSize).some((i) => !isDone(i))) starts.push(start);
      }
      const batchOf = (start: number) => Promise.all(items.slice(start, start + settings.batchSize).map((i) => prepare(i, pass.perturbation)));
      let next = starts.length > 0 ? batchOf(starts[0]) : null;
      for (let b = 0; b < starts.length && next; b++) {
        const prepared = await next;
        next = b + 1 < starts.length ? batchOf(starts[b + 1]) : null;
        const runnable = prepared.filter((p) => p.input);
        const outcomes = runnable.length
          ? await model.detectBatch(runnable.map((p) => p.input as RawImage), { batchSize: settings.batchSize, threshold: settings.threshold })
          : [];
        for (const p of prepared) {
          if (isDone(p.item)) continue;
          if (p.error) {
            await record(failedRow(pass.name, p, p.error, p.ms));
            continue;
          }
          const outcome = outcomes[runnable.indexOf(p)];
          if (!outcome.ok) {
            await record(failedRow(pass.name, p, errorRecord(outcome.error), p.ms));
            continue;
          }
          const r = outcome.result;
          const modelMs = r.timings.preprocessMs + r.timings.inferenceMs / runnable.length + r.timings.postprocessMs;
          const t0 = performance.now();
          try {
            const pair = preparePair(r, p.mask as BinaryMask, settings.protocol);
            const m = evaluateImage(pair.pred, pair.gt, { threshold: settings.threshold, score: r.score, label: p.item.label });
            const mask = p.mask as BinaryMask;
            const mismatch = mask.width !== p.width || mask.height !== p.height;
            if (mismatch && pass.name === 'none') {
              progress.log(`sparsevit: ${p.item.id}: the mask is ${mask.width}x${mask.height}, the image ${p.width}x${p.height}; the mask was resized (nearest) to score it`);
            }
            await record({
              ...baseRow(pass.name, p.item),
              status: 'ok',
              error_code: null,
              error: null,
              width: p.width as number,
              height: p.height as number,
              score: m.score,
              pixel_f1: m.pixel_f1,
              pixel_iou: m.pixel_iou,
              pixel_auc: m.pixel_auc,
              pixel_auc_standard: m.pixel_auc_standard,
              pixel_best_f1: m.pixel_best_f1,
              pixel_best_threshold: m.pixel_best_threshold,
              empty_mask: m.empty_mask,
              mask_size_mismatch: mismatch,
              ms: p.ms + modelMs + (performance.now() - t0),
            });
          } catch (error) {
            await record(failedRow(pass.name, p, errorRecord(error), p.ms + modelMs + (performance.now() - t0)));
          }
        }
        if (interrupt.interrupted) {
          await next?.catch(() => undefined);
          break;
        }
      }
    }
  } finally {
    progress.stop();
    await csv.close();
  }
  const runMs = performance.now() - runStarted;
  const interrupted = interrupt.interrupted;

  // 5. The reports, recomputed from report.csv (a resumed run gives what an uninterrupted one does).
  const summary = await summarizeCsv(csvPath, passInfos, ids, settings.threshold, settings.show);
  const main = summary.passes[0];
  let shown: { best: ShownImage[]; worst: ShownImage[] } = { best: [], worst: [] };
  try {
    shown = await thumbnailsFor(summary.best, summary.worst, byId, model, settings, prepare);
  } finally {
    await model.dispose();
  }
  const notRun = total - summary.rows;
  const { rowMs, passes: passSummaries, failures } = summary;
  const head = {
    command: 'eval',
    version,
    createdAt: new Date().toISOString(),
    complete: notRun === 0,
    interrupted,
    settings: reportSettings,
    resumeIdentity: identity,
    model: model.config,
    ...pickSummary(main),
    counts: {
      images: items.length,
      passes: passes.length,
      rows: summary.rows,
      rowsThisRun: newRows,
      resumedRows,
      evaluated: passSummaries.reduce((s, p) => s + p.images, 0),
      failed: failures.length,
      notRun,
      maskSizeMismatch: summary.maskSizeMismatch,
    },
    dataset: {
      layout: dataset.layout,
      path: dataset.path,
      images: items.length,
      positives: items.filter((i) => i.label === 1).length,
      negatives: items.filter((i) => i.label === 0).length,
      unpaired: { imagesWithoutMask: dataset.pairing.imagesWithoutMask, masksWithoutImage: dataset.pairing.masksWithoutImage },
      ambiguous: dataset.pairing.ambiguous,
      ignored: dataset.pairing.ignored,
    },
    perturbations: passSummaries,
    best: summary.best.map((r) => r.id),
    worst: summary.worst.map((r) => r.id),
    failures,
    timing: {
      loadMs,
      runMs,
      totalMs: performance.now() - started,
      rowMsSum: rowMs,
      msPerRow: summary.rows > 0 ? rowMs / summary.rows : null,
    },
  };
  await writeReportJson(jsonPath, head, csvPath, passInfos, ids);

  const html = renderHtml({
    title: `SparseViT evaluation: ${settings.dataset}`,
    createdAt: head.createdAt,
    settings: [
      ['dataset', `${dataset.path} (${dataset.layout === 'folder' ? 'Tp/ + Gt/ folder' : 'JSON pair list'}, ${items.length} images)`],
      ['weights', settings.weights],
      ['config', settings.config ?? '(from the weights, else base)'],
      ['device', `${model.device} (${model.backend})`],
      ['protocol', `${settings.protocol}: ${PROTOCOL_DESCRIPTIONS[settings.protocol]}`],
      ['threshold', String(settings.threshold)],
      ['perturbations', settings.perturbations.length ? settings.perturbations.map((p) => p.name).join(', ') : 'none'],
      ['rows', `${summary.rows} of ${total} (${failures.length} failed${notRun > 0 ? `, ${notRun} not run` : ''}; ${resumedRows} resumed)`],
      ['version', `@sparsevit/cli ${version}`],
    ],
    main,
    passes: passSummaries,
    best: shown.best,
    worst: shown.worst,
    failures,
    rankedManipulatedOnly: main.images > main.empty_masks,
    interrupted,
  });
  await writeFileAtomic(join(outDir, 'report.html'), html);
  interrupt.dispose();

  for (const p of passSummaries) {
    const label = p.name === 'none' ? '' : ` [${p.name}]`;
    process.stdout.write(
      `sparsevit: eval${label}: ${p.images} images, ${p.failed} failed; pixel F1 ${fmtN(p.pixel_f1)}, IoU ${fmtN(p.pixel_iou)}, ` +
        `AUC ${fmtN(p.pixel_auc)}; image AUC ${fmtN(p.image_auc)}, F1 ${fmtN(p.image_f1)}, accuracy ${fmtN(p.image_accuracy)}\n`,
    );
  }
  const stop = interrupted ? ` (interrupted: ${notRun} rows not run; --resume continues)` : '';
  process.stdout.write(`sparsevit: report written to ${join(outDir, 'report.json')}, report.csv, report.html${stop}\n`);
  return interrupted ? 130 : failures.length > 0 ? 1 : 0;
}

const fmtN = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

function pickSummary(s: PassSummary) {
  return {
    pixel_f1: s.pixel_f1,
    pixel_iou: s.pixel_iou,
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

/** Re-reads the few best / worst images (unperturbed) and makes their thumbnails. */
async function thumbnailsFor(
  best: ReportRow[],
  worst: ReportRow[],
  byId: Map<string, EvalItem>,
  model: NodeSparseViTModel,
  settings: EvalSettings,
  prepare: (item: EvalItem, perturbation: Perturbation | null) => Promise<Prepared>,
): Promise<{ best: ShownImage[]; worst: ShownImage[] }> {
  const { makeThumbnails } = await import('../eval/thumbnails');
  const one = async (row: ReportRow): Promise<ShownImage> => {
    const item = byId.get(row.id);
    if (!item) return { row, thumbnails: null, note: 'not in the dataset any more' };
    const p = await prepare(item, null);
    if (p.error || !p.input || !p.mask) return { row, thumbnails: null, note: `cannot read it again: ${p.error?.message ?? 'unknown error'}` };
    try {
      const r = await model.detect(p.input, { threshold: settings.threshold });
      return { row, thumbnails: await makeThumbnails(p.input, p.mask, r.probability, r.width, r.height) };
    } catch (error) {
      return { row, thumbnails: null, note: `cannot show it: ${(error as Error).message}` };
    }
  };
  const out = { best: [] as ShownImage[], worst: [] as ShownImage[] };
  for (const row of best) out.best.push(await one(row));
  for (const row of worst) out.worst.push(await one(row));
  return out;
}
