import { join } from 'node:path';
import { EVALUATION_PROTOCOLS, isSparseViTError, type EvaluationProtocol } from '@sparsevit/core';
import type { NodeSparseViTModel } from '@sparsevit/node';
import { numberOption, parseCommandArgs } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { EVAL_USAGE, printHelp } from '../help';
import { handleRunInterrupts } from '../interrupts';
import { loadCliModel } from '../load-cli-model';
import { MODEL_OPTIONS, parseModelOptions } from '../model-options';
import { prepareOutputFolder } from '../output-folder';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';
import { CsvWriter, oneLineField } from '../eval/csv';
import { datasetInputs, loadDataset, pairingNotices, type EvalDataset } from '../eval/dataset';
import { renderHtml } from '../eval/html';
import { createItemPreparer, evalPasses, runPasses } from '../eval/passes';
import { parsePerturbations } from '../eval/perturb';
import { summarizeCsv, writeReportJson, type PassSummary } from '../eval/report';
import { placeholderReport, reportHead } from '../eval/report-head';
import { htmlSettings, reportSettings } from '../eval/report-settings';
import { freshStart, readResumeState, resumeIdentity } from '../eval/resume';
import type { EvalSettings } from '../eval/settings';

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
  if (!EVALUATION_PROTOCOLS.includes(settings.protocol)) {
    throw new UsageError(`--protocol must be one of ${EVALUATION_PROTOCOLS.join(', ')}, got "${settings.protocol}"`, 'eval');
  }
  if (positionals.length === 0) throw new UsageError('no dataset given (a folder with Tp/ and Gt/, or a JSON pair list)', 'eval');
  if (positionals.length > 1) throw new UsageError(`one dataset at a time, got ${positionals.length}: ${positionals.join(' ')}`, 'eval');
  settings.dataset = positionals[0];
  return settings;
}

/** The dataset; `undefined` when a folder has unpaired files, which are then listed on stderr. */
async function openDataset(settings: EvalSettings): Promise<EvalDataset | undefined> {
  try {
    return await loadDataset(settings.dataset, { skipUnpaired: settings.skipUnpaired });
  } catch (error) {
    const details = isSparseViTError(error) ? (error.details as { imagesWithoutMask?: unknown } | undefined) : undefined;
    if (!isSparseViTError(error) || !Array.isArray(details?.imagesWithoutMask)) throw error;
    process.stderr.write(`sparsevit: ${error.code}: ${error.message.replace('pass skipUnpaired', 'pass --skip-unpaired')}\n`);
    return undefined;
  }
}

const warn = (line: string) => void process.stderr.write(`${line}\n`);

/** `sparsevit eval`: returns the exit code (0 every row ok, 1 any failed, 130 interrupted). */
export async function evalCommand(argv: string[]): Promise<number> {
  const settings = parseEvalArgs(argv);
  if (!settings) return printHelp(EVAL_USAGE);
  const started = performance.now();

  // 1. The dataset: pairing problems are reported in full, before any model is loaded.
  const dataset = await openDataset(settings);
  if (!dataset) return 1;
  const { items } = dataset;
  for (const line of pairingNotices(dataset)) warn(line);
  const passes = evalPasses(settings.perturbations);
  const passInfos = passes.map(({ name, kind, strength }) => ({ name, kind, strength }));
  const ids = new Set(items.map((i) => oneLineField(i.id)));

  // 2. Output folder (checked before the model loads: not inside Tp/ or Gt/, not over an input);
  // with --resume, the rows already written.
  const { outDir } = settings;
  await prepareOutputFolder('eval', outDir, { ...datasetInputs(dataset), outputNames: ['report.csv', 'report.json', 'report.html'] });
  const files = { csvPath: join(outDir, 'report.csv'), jsonPath: join(outDir, 'report.json') };
  const { csvPath, jsonPath } = files;
  const identity = resumeIdentity(settings, dataset);
  const resumed = settings.resume ? await readResumeState(files, identity, new Set(passes.map((p) => p.name)), ids, warn) : freshStart();

  // 3. The model. report.json is a placeholder until the run ends: it records what a --resume must match.
  const model: NodeSparseViTModel = await loadCliModel(settings, warn);
  const loadMs = performance.now() - started;
  const runSettings = reportSettings(settings, dataset, model);
  await writeFileAtomic(jsonPath, placeholderReport(runSettings, identity, false));

  // 4. The passes: batches decoded ahead while the model runs the current one.
  const total = items.length * passes.length;
  const progress = createProgress(total, process.stderr, { alreadyDone: resumed.rows });
  const csv = await CsvWriter.open(csvPath, resumed.fresh);
  const prepare = await createItemPreparer(settings);
  // Ctrl-C or SIGTERM stops after the current batch; a second one stops at once, keeping the rows
  // written (a cut last row is dropped by --resume) and a report.json that says so.
  const interrupt = handleRunInterrupts(progress, jsonPath, () => placeholderReport(runSettings, identity, true));
  const runStarted = performance.now();
  const rowsThisRun = await runPasses({ items, passes, resumed, model, prepare, settings, csv, progress, interrupt });
  const runMs = performance.now() - runStarted;
  const { interrupted } = interrupt;

  // 5. The reports, recomputed from report.csv (a resumed run gives what an uninterrupted one does).
  const summary = await summarizeCsv(csvPath, passInfos, ids, settings.threshold, settings.show);
  const byId = new Map(items.map((i) => [oneLineField(i.id), i]));
  // The thumbnails need sharp's encoder: loaded here, not for --help.
  const shown = await import('../eval/thumbnails')
    .then(({ thumbnailsFor }) => thumbnailsFor(summary.best, summary.worst, byId, model, settings.threshold, prepare))
    .finally(() => model.dispose());
  const counts = { rows: summary.rows, total, failed: summary.failures.length, notRun: total - summary.rows, resumed: resumed.rows };
  const head = reportHead({
    settings: runSettings,
    identity,
    model: model.config,
    dataset,
    summary,
    counts: { ...counts, passes: passes.length, rowsThisRun },
    interrupted,
    timing: { started, loadMs, runMs },
  });
  await writeReportJson(jsonPath, head, csvPath, passInfos, ids);
  const main = summary.passes[0];
  const html = renderHtml({
    title: `SparseViT evaluation: ${settings.dataset}`,
    createdAt: head.createdAt,
    settings: htmlSettings(settings, dataset, model, counts),
    main,
    passes: summary.passes,
    best: shown.best,
    worst: shown.worst,
    failures: summary.failures,
    rankedManipulatedOnly: main.images > main.empty_masks,
    interrupted,
  });
  await writeFileAtomic(join(outDir, 'report.html'), html);
  interrupt.dispose();

  for (const p of summary.passes) process.stdout.write(passLine(p));
  const stop = interrupted ? ` (interrupted: ${counts.notRun} rows not run; --resume continues)` : '';
  process.stdout.write(`sparsevit: report written to ${jsonPath}, report.csv, report.html${stop}\n`);
  return interrupted ? 130 : summary.failures.length > 0 ? 1 : 0;
}

const fmtN = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/** One pass's means on stdout. */
function passLine(p: PassSummary): string {
  const label = p.name === 'none' ? '' : ` [${p.name}]`;
  return (
    `sparsevit: eval${label}: ${p.images} images, ${p.failed} failed; pixel F1 ${fmtN(p.pixel_f1)}, IoU ${fmtN(p.pixel_iou)} ` +
    `(manipulated images: F1 ${fmtN(p.pixel_f1_manipulated)}, IoU ${fmtN(p.pixel_iou_manipulated)}), ` +
    `AUC ${fmtN(p.pixel_auc)}; image AUC ${fmtN(p.image_auc)}, F1 ${fmtN(p.image_f1)}, accuracy ${fmtN(p.image_accuracy)}\n`
  );
}
