import { join, resolve } from 'node:path';
import type { DetectionOutcome } from '@sparsevit/core';
import type { NodeImageInput, NodeSparseViTModel } from '@sparsevit/node';
import { parseCommandArgs } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { loadCliModel } from '../load-cli-model';
import { MODEL_OPTIONS, parseModelOptions, type ModelCommandSettings } from '../model-options';
import { collectInputs, type InputFile } from '../collect-inputs';
import { errorRecord, oneLine } from '../errors';
import { DETECT_USAGE, printHelp } from '../help';
import { handleRunInterrupts } from '../interrupts';
import { outputNames, type OutputFiles } from '../output-files';
import { prepareOutputFolder } from '../output-folder';
import { createProgress } from '../progress';
import { checkResumeIdentity } from '../resume-identity';
import { UsageError } from '../usage-error';
import { version } from '../version';

/** One input's line in `summary.json`. */
type SummaryEntry =
  | { input: string; stem: string; ok: true; width: number; height: number; score: number; milliseconds: number; files: OutputFiles; resumed?: true }
  | { input: string; stem: string; ok: false; error: { code: string; message: string } };

interface DetectSettings extends ModelCommandSettings {
  resume: boolean;
}

function parseDetectArgs(argv: string[]): { settings: DetectSettings; paths: string[] } | undefined {
  const { values, positionals } = parseCommandArgs('detect', argv, { ...MODEL_OPTIONS, resume: { type: 'boolean' } });
  if (values.help) return undefined;
  const settings = { ...parseModelOptions('detect', values), resume: Boolean(values.resume) };
  if (positionals.length === 0) throw new UsageError('no input files or folders given', 'detect');
  return { settings, paths: positionals };
}

/** What must not change between a run and its `--resume` (each changes the outputs). */
function resumeIdentity(s: DetectSettings) {
  return { weights: resolve(s.weights), config: s.config === undefined ? null : s.config, threshold: s.threshold, backend: s.backend, dtype: s.dtype ?? null };
}

/** `sparsevit detect`: returns the exit code (0 every input succeeded, 1 any failed, 130 interrupted). */
export async function detectCommand(argv: string[]): Promise<number> {
  const parsed = parseDetectArgs(argv);
  if (!parsed) return printHelp(DETECT_USAGE);
  const { settings, paths } = parsed;
  const { inputs, folders, skipped } = await collectInputs(paths);
  if (inputs.length === 0) throw new UsageError(`no image files found in ${paths.join(', ')}`, 'detect');

  // The output folder is checked (and created) before the model loads: a mistake costs nothing.
  const { outDir } = settings;
  const summaryPath = join(outDir, 'summary.json');
  await prepareOutputFolder('detect', outDir, {
    inputFolders: folders,
    inputFiles: inputs.map((i) => i.path),
    outputNames: ['summary.json', ...inputs.flatMap((i) => outputNames(i.stem))],
  });
  const identity = resumeIdentity(settings);
  // The writer needs sharp: loaded once the arguments and the output folder are checked.
  const { readCompleteOutputs, writeOutputs } = await import('../write-outputs');
  const entries: SummaryEntry[] = [];
  let toRun: InputFile[] = inputs;
  if (settings.resume) {
    await checkResumeIdentity('detect', summaryPath, identity);
    toRun = [];
    for (const input of inputs) {
      const done = await readCompleteOutputs(outDir, input.path, input.stem, settings.threshold);
      if (!done) toRun.push(input);
      else entries.push({ input: input.path, stem: input.stem, ok: true, width: done.width, height: done.height, score: done.score, milliseconds: done.milliseconds, files: done.files, resumed: true });
    }
  }
  const resumed = entries.length;

  const started = performance.now();
  const model: NodeSparseViTModel = await loadCliModel(settings, (message) => process.stderr.write(`${message}\n`));
  const loadMs = performance.now() - started;

  const progress = createProgress(inputs.length, process.stderr, { alreadyDone: resumed });
  let failed = 0;
  const record = (entry: SummaryEntry) => {
    entries.push(entry);
    if (!entry.ok) {
      failed++;
      const where = entry.error.message.includes(entry.input) ? '' : `${entry.input}: `;
      progress.log(`sparsevit: ${where}${entry.error.code}: ${oneLine(entry.error.message)}`);
    }
    progress.update(entries.length, failed);
  };
  const write = async (input: InputFile, outcome: DetectionOutcome<NodeImageInput>): Promise<void> => {
    const at = { input: input.path, stem: input.stem };
    if (!outcome.ok) return record({ ...at, ok: false, error: errorRecord(outcome.error) });
    try {
      const r = await writeOutputs(outDir, input.path, input.stem, outcome.result, model);
      record({ ...at, ok: true, width: r.width, height: r.height, score: r.score, milliseconds: r.milliseconds, files: r.files });
    } catch (error) {
      record({ ...at, ok: false, error: errorRecord(error) });
    }
  };

  const order = new Map(inputs.map((i, n) => [i.stem, n]));
  const byInput = (a: SummaryEntry, b: SummaryEntry) => order.get(a.stem)! - order.get(b.stem)!;
  const summary = (interrupted: boolean) => ({
    command: 'detect',
    version,
    createdAt: new Date().toISOString(),
    settings: {
      weights: settings.weights,
      config: settings.config ?? null,
      device: model.device,
      requestedDevice: settings.device,
      backend: model.backend,
      threshold: settings.threshold,
      batchSize: settings.batchSize,
      maxPixels: settings.maxPixels ?? null,
      fallbackCpu: settings.fallbackCpu,
      resume: settings.resume,
    },
    resumeIdentity: identity,
    model: model.config,
    interrupted,
    counts: { inputs: inputs.length, succeeded: entries.length - failed, failed, notRun: inputs.length - entries.length, resumed, skipped: skipped.length },
    milliseconds: { load: loadMs, total: performance.now() - started },
    renamed: inputs.filter((i) => i.stem !== i.naturalStem).map((i) => ({ input: i.path, stem: i.stem })),
    skipped,
    // In input order, resumed or not.
    entries: [...entries].sort(byInput),
  });
  const summaryText = (interrupted: boolean) => `${JSON.stringify(summary(interrupted), null, 2)}\n`;

  // Ctrl-C or SIGTERM stops after the current batch; what is done is kept and summarized (exit
  // 130). A second one writes the summary of what is done at once and exits.
  const interrupts = handleRunInterrupts(progress, summaryPath, () => summaryText(true));
  let pending: Promise<void> = Promise.resolve();
  try {
    // detectStream holds one batch at a time. One input's files are written while the next
    // batch runs; at most one write is pending.
    const stream = model.detectStream(
      toRun.map((i) => i.path),
      { threshold: settings.threshold, batchSize: settings.batchSize, returnImage: true, signal: interrupts.signal },
    );
    for await (const outcome of stream) {
      await pending;
      pending = write(toRun[outcome.index], outcome);
    }
  } catch (error) {
    if (!interrupts.interrupted) throw error;
  } finally {
    await pending;
    progress.stop();
    await model.dispose();
  }
  const interrupted = interrupts.interrupted;
  await writeFileAtomic(summaryPath, summaryText(interrupted));
  interrupts.dispose();
  const tail = failed > 0 ? `, ${failed} failed (see ${summaryPath})` : '';
  const kept = resumed > 0 ? ` (${resumed} kept from the previous run)` : '';
  const stop = interrupted ? ` (interrupted: ${inputs.length - entries.length} not run; --resume continues)` : '';
  process.stdout.write(`sparsevit: ${entries.length - failed}/${inputs.length} images written to ${outDir}${kept}${tail}${stop}\n`);
  return interrupted ? 130 : failed > 0 ? 1 : 0;
}
