import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DetectionOutcome, NodeImageInput, NodeSparseViTModel } from '@sparsevit/node';
import { parseCommandArgs } from '../args';
import { loadCliModel } from '../load-cli-model';
import { MODEL_OPTIONS, parseModelOptions, type ModelCommandSettings } from '../model-options';
import { collectInputs, type InputFile } from '../collect-inputs';
import { errorRecord, oneLine } from '../errors';
import { DETECT_USAGE, printHelp } from '../help';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';
import { version } from '../version';
import type { OutputFiles } from '../write-outputs';


/** One input's line in `summary.json`. */
type SummaryEntry =
  | { input: string; stem: string; ok: true; width: number; height: number; score: number; milliseconds: number; files: OutputFiles }
  | { input: string; stem: string; ok: false; error: { code: string; message: string } };

type DetectSettings = ModelCommandSettings;

function parseDetectArgs(argv: string[]): { settings: DetectSettings; paths: string[] } | undefined {
  const { values, positionals } = parseCommandArgs('detect', argv, MODEL_OPTIONS);
  if (values.help) return undefined;
  const settings = parseModelOptions('detect', values);
  if (positionals.length === 0) throw new UsageError('no input files or folders given', 'detect');
  return { settings, paths: positionals };
}

/** `sparsevit detect`: returns the exit code (0 every input succeeded, 1 any failed). */
export async function detectCommand(argv: string[]): Promise<number> {
  const parsed = parseDetectArgs(argv);
  if (!parsed) return printHelp(DETECT_USAGE);
  const { settings, paths } = parsed;
  const inputs = await collectInputs(paths);
  if (inputs.length === 0) throw new UsageError(`no image files found in ${paths.join(', ')}`, 'detect');

  const { writeOutputs } = await import('../write-outputs');
  const started = performance.now();
  const model: NodeSparseViTModel = await loadCliModel(settings, (message) => process.stderr.write(`${message}\n`));
  const loadMs = performance.now() - started;

  const { outDir } = settings;
  await mkdir(outDir, { recursive: true });
  const entries: SummaryEntry[] = [];
  const progress = createProgress(inputs.length);
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

  // Ctrl-C stops after the current batch; what is done is kept and summarized (exit 130).
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  let pending: Promise<void> = Promise.resolve();
  try {
    // detectStream holds one batch at a time. One input's files are written while the next
    // batch runs; at most one write is pending.
    const stream = model.detectStream(
      inputs.map((i) => i.path),
      { threshold: settings.threshold, batchSize: settings.batchSize, returnImage: true, signal: interrupt.signal },
    );
    for await (const outcome of stream) {
      await pending;
      pending = write(inputs[outcome.index], outcome);
    }
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
  } finally {
    await pending;
    process.removeListener('SIGINT', onSigint);
    progress.stop();
    await model.dispose();
  }
  const interrupted = interrupt.signal.aborted;

  const summary = {
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
    },
    model: model.config,
    interrupted,
    counts: { inputs: inputs.length, succeeded: entries.length - failed, failed, notRun: inputs.length - entries.length },
    milliseconds: { load: loadMs, total: performance.now() - started },
    renamed: inputs.filter((i) => i.stem !== i.naturalStem).map((i) => ({ input: i.path, stem: i.stem })),
    entries,
  };
  await writeFile(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const tail = failed > 0 ? `, ${failed} failed (see ${join(outDir, 'summary.json')})` : '';
  const stop = interrupted ? ` (interrupted: ${inputs.length - entries.length} not run)` : '';
  process.stdout.write(`sparsevit: ${entries.length - failed}/${inputs.length} images written to ${outDir}${tail}${stop}\n`);
  return interrupted ? 130 : failed > 0 ? 1 : 0;
}
