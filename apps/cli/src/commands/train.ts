import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TrainingLoss } from '@sparsevit/train';
import { CONFIG_METADATA_KEY, SparseViTError, prepareGraphWeights, readWeights, resolveConfig, type ConfigInput, type SparseViTConfig } from '@sparsevit/core';
import { numberOption, parseCommandArgs } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { loadConfigOption } from '../config-option';
import { oneLine } from '../errors';
import { TRAIN_USAGE, printHelp } from '../help';
import { parseKindsOption, type KindWeights } from '../kinds-option';
import { UsageError } from '../usage-error';
import { version } from '../version';

/** `--loss`; spelled out, as `--dtype` is, so that usage errors load no runtime. */
const TRAINING_LOSSES = ['bce', 'bce+dice', 'bce+dice+image'] as const satisfies readonly TrainingLoss[];
// Fails to compile when @sparsevit/train gains a loss this list lacks.
const everyLoss: Exclude<TrainingLoss, (typeof TRAINING_LOSSES)[number]> extends never ? true : never = true;
void everyLoss;

const TRAIN_OPTIONS = {
  data: { type: 'string' },
  val: { type: 'string' },
  preset: { type: 'string' },
  config: { type: 'string' },
  init: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  accumulate: { type: 'string' },
  lr: { type: 'string' },
  'min-lr': { type: 'string' },
  'warmup-steps': { type: 'string' },
  'weight-decay': { type: 'string' },
  loss: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  'checkpoint-minutes': { type: 'string' },
  'validate-every': { type: 'string' },
  'val-count': { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  kinds: { type: 'string' },
  'photo-shaped': { type: 'string' },
} as const;

/** Everything that defines a run; stored in its checkpoint so `--resume` continues the same run. */
export interface TrainSettings {
  data: string;
  val: string;
  steps: number;
  batch: number;
  accumulate: number;
  lr: number;
  minLr: number;
  warmupSteps: number;
  weightDecay: number;
  /** Absent in checkpoints written before the option existed: `bce`. */
  loss?: TrainingLoss;
  seed: number;
  init: string | null;
  /** `ort`: ONNX Runtime CPU; `wasm`, `cpu`: TensorFlow.js. */
  backend: 'ort' | 'wasm' | 'cpu';
  checkpointMinutes: number;
  validateEvery: number;
  valCount: number;
  /** Kind weights of synthetic training samples; absent: the synthesizer's defaults (the eval sets' mix). */
  kinds?: KindWeights;
  /** Fraction of synthetic samples made photo-shaped, then resized to the input; absent: 0. */
  photoShaped?: number;
}

interface RunState {
  settings: TrainSettings;
  history: import('@sparsevit/train').StepRecord[];
  validation: import('@sparsevit/train').ValidationPoint[];
  wallSeconds: number;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const MODEL_FILE = 'model.safetensors';
export const MODEL_FP16_FILE = 'model-fp16.safetensors';
export const REPORT_FILE = 'train-report.html';

async function parseSettings(values: Record<string, string | boolean | undefined>): Promise<TrainSettings> {
  const num = (name: keyof typeof TRAIN_OPTIONS, rules: { integer?: boolean; min?: number; max?: number } = {}) => numberOption('train', name, values[name] as string | undefined, rules);
  const steps = num('steps', { integer: true, min: 1 }) ?? 2000;
  const backend = parseBackend(values.backend as string | undefined) ?? 'ort';
  const loss = (values.loss as string | undefined) ?? 'bce';
  if (!(TRAINING_LOSSES as readonly string[]).includes(loss)) throw new UsageError(`--loss must be one of ${TRAINING_LOSSES.join(', ')}, got "${loss}"`, 'train');
  return {
    data: (values.data as string | undefined) ?? 'synth:data/photos',
    val: (values.val as string | undefined) ?? 'synth:data/photos#val',
    steps,
    batch: num('batch', { integer: true, min: 1, max: 256 }) ?? 4,
    accumulate: num('accumulate', { integer: true, min: 1, max: 256 }) ?? 2,
    lr: num('lr', { min: 0, max: 1 }) ?? 2e-4,
    minLr: num('min-lr', { min: 0, max: 1 }) ?? 5e-7,
    warmupSteps: num('warmup-steps', { integer: true, min: 0 }) ?? Math.min(500, Math.ceil(steps * 0.05)),
    weightDecay: num('weight-decay', { min: 0, max: 1 }) ?? 0.05,
    loss: loss as TrainingLoss,
    seed: num('seed', { integer: true, min: 0, max: 2 ** 31 }) ?? 1,
    init: (values.init as string | undefined) ?? null,
    backend,
    checkpointMinutes: num('checkpoint-minutes', { min: 0.01 }) ?? 3,
    validateEvery: num('validate-every', { integer: true, min: 1 }) ?? 100,
    valCount: num('val-count', { integer: true, min: 1, max: 10000 }) ?? 32,
    ...(values.kinds === undefined ? {} : { kinds: await parseKindsOption('train', values.kinds as string) }),
    ...(values['photo-shaped'] === undefined ? {} : { photoShaped: num('photo-shaped', { min: 0, max: 1 }) }),
  };
}

function parseBackend(value: string | undefined): TrainSettings['backend'] | undefined {
  if (value === undefined) return undefined;
  if (value !== 'ort' && value !== 'wasm' && value !== 'cpu') throw new UsageError(`--backend must be ort, wasm or cpu, got "${value}"`, 'train');
  return value;
}

async function openSource(spec: string, config: SparseViTConfig, seed: number, defaultSplit: 'train' | 'val', kinds?: KindWeights, photoShaped?: number) {
  const { synthSource, datasetSource } = await import('../train/training-data');
  if (spec.startsWith('synth:')) {
    const [root, split = defaultSplit] = spec.slice('synth:'.length).split('#');
    if (split !== 'train' && split !== 'val' && split !== 'test') throw new UsageError(`unknown photo split "${split}" (train, val, test)`, 'train');
    return synthSource(root, split, config, seed, kinds, photoShaped);
  }
  return datasetSource(spec, config);
}

/** `sparsevit train`: returns the exit code (0 done, 1 failed, 130 interrupted with a checkpoint). */
export async function trainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('train', argv, TRAIN_OPTIONS);
  if (values.help) return printHelp(TRAIN_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, 'train');
  if (typeof values.out !== 'string') throw new UsageError('--out is required (the run folder: checkpoint, model, report)', 'train');
  const out = resolve(values.out);
  const checkpointPath = join(out, CHECKPOINT_FILE);
  const train = await import('@sparsevit/train');

  // Settings and config: from the checkpoint when resuming, from the flags otherwise.
  let settings: TrainSettings;
  let config: SparseViTConfig;
  let resumed: Awaited<ReturnType<typeof train.decodeCheckpoint<RunState>>> | undefined;
  if (values.resume) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(checkpointPath);
    } catch (error) {
      throw new SparseViTError('IO_ERROR', `--resume: no checkpoint at ${checkpointPath}`, { cause: error });
    }
    resumed = await train.decodeCheckpoint<RunState>(bytes);
    config = resumed.config;
    settings = resumed.run.settings;
    // A resumed run may be extended (--steps) and move between engines (--backend: both take
    // the same steps from the same checkpoint); nothing else may change.
    if (values.steps !== undefined) settings = { ...settings, steps: (await parseSettings(values)).steps };
    settings = { ...settings, backend: parseBackend(values.backend as string | undefined) ?? settings.backend };
  } else {
    settings = await parseSettings(values);
    // --config as detect and eval read it (a JSON file or a preset name), else --preset.
    const given = typeof values.config === 'string' ? await loadConfigOption(values.config) : undefined;
    config = resolveConfig(given ?? (((values.preset as string | undefined) ?? 'small') as ConfigInput), undefined);
  }
  await mkdir(out, { recursive: true });

  const threads = numberOption('train', 'threads', values.threads as string | undefined, { integer: true, min: 1, max: 256 });
  // Starting weights: a checkpoint, --init (any weights file: fine-tuning), or a fresh init.
  let weights;
  if (resumed) weights = resumed.state.weights;
  else if (settings.init) {
    const { openFileSource } = await import('@sparsevit/node');
    const source = await openFileSource(settings.init);
    try {
      let store = await readWeights(source);
      // Weights of a narrower model of the same topology (the default model into --preset
      // medium, say) are widened to the training config, computing the same function.
      const initConfig = store.metadata[CONFIG_METADATA_KEY] === undefined ? undefined : resolveConfig(undefined, store.metadata);
      const factors = initConfig && train.widthFactors(initConfig, config);
      if (initConfig && factors && factors.some((f) => f > 1)) {
        console.error(`sparsevit train: widening --init from embed_dim ${JSON.stringify(initConfig.embed_dim)} to ${JSON.stringify(config.embed_dim)} (each channel copied, the same function)`);
        store = train.widenStateDict(store, initConfig, config, { seed: settings.seed });
      }
      weights = prepareGraphWeights(store, config, { consume: true });
    } finally {
      await source.close?.();
    }
  } else weights = prepareGraphWeights(train.initialStateDict(config, settings.seed), config, { consume: true });

  const schedule = { lr: settings.lr, minLr: settings.minLr, warmupSteps: settings.warmupSteps, totalSteps: settings.steps };
  const common = { config, weights, weightDecay: settings.weightDecay, loss: settings.loss ?? 'bce', schedule } as const;
  let trainer: import('@sparsevit/train').OrtTrainer | import('@sparsevit/train').Trainer;
  if (settings.backend === 'ort') {
    const ort = await import('onnxruntime-node');
    // ONNX Runtime's default is one thread per physical core: one on a 2-vCPU VM, which halves
    // the step rate measured here (9.4 against 16.8 img/s at batch 4).
    const { availableParallelism } = await import('node:os');
    trainer = new train.OrtTrainer({ ...common, ort, sessionOptions: { intraOpNumThreads: threads ?? availableParallelism() } });
  } else {
    // TensorFlow.js: wasm (XNNPACK, with the training kernels @sparsevit/train registers) or cpu.
    const tf = await import('@tensorflow/tfjs-core');
    if (settings.backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    else await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend(settings.backend);
    await tf.ready();
    trainer = new train.Trainer({ ...common, tf: tf as never });
  }
  if (resumed) trainer.restore(resumed.state);
  const state: RunState = resumed?.run ?? { settings, history: [], validation: [], wallSeconds: 0 };
  state.settings = settings;

  const { stepBatches, validationBatches } = await import('../train/training-data');
  const source = await openSource(settings.data, config, settings.seed, 'train', settings.kinds, settings.photoShaped);
  // Validation images are shaped like the training ones, so the curve tracks what is trained.
  const valSource = await openSource(settings.val, config, settings.seed + 1, 'val', undefined, settings.photoShaped);
  const validation = { batches: await validationBatches(valSource, config, settings.valCount, settings.batch) };
  const { renderTrainReport } = await import('../train/train-report');
  const { createProgress } = await import('../progress');
  process.stderr.write(`sparsevit train: ${source.describe}; validation: ${valSource.describe}\n`);
  process.stderr.write(`sparsevit train: config ${JSON.stringify(config)}, ${settings.backend}, batch ${settings.batch} x ${settings.accumulate}, ${settings.steps} steps, out ${out}\n`);

  // Training wall time across resumed sessions: what earlier sessions recorded, plus this one's.
  const started = performance.now();
  const earlierSeconds = state.wallSeconds;
  const wall = () => earlierSeconds + (performance.now() - started) / 1000;
  const log = join(out, 'train-log.jsonl');
  const progress = createProgress(settings.steps, process.stderr, { alreadyDone: trainer.step, label: 'train' });
  const report = async (status: string) => {
    const sample = validation.batches[0];
    const samples = sample ? { batch: sample, probability: (await trainer.predict(sample.images, sample.n)).probability } : undefined;
    const html = await renderTrainReport({
      title: `sparsevit train: ${out}`,
      settings: { ...settings, sparsevit: version },
      config,
      history: state.history,
      validation: state.validation,
      skipped: [...source.skipped, ...valSource.skipped],
      samples,
      wallSeconds: wall(),
      status,
    });
    await writeFileAtomic(join(out, REPORT_FILE), html);
  };
  const exportModel = async () => {
    const graph = trainer.graphWeights();
    const metadata = {
      'sparsevit.trained': JSON.stringify({ data: source.describe, steps: trainer.step, seed: settings.seed, by: `sparsevit train ${version}` }),
    };
    await writeFileAtomic(join(out, MODEL_FILE), train.exportInferenceWeights(graph, config, { metadata }));
    await writeFileAtomic(join(out, MODEL_FP16_FILE), train.exportInferenceWeights(graph, config, { metadata, fp16: true }));
  };
  const saveCheckpoint = async (reason: string) => {
    state.wallSeconds = wall();
    const bytes = train.encodeCheckpoint<RunState>({ state: trainer.state(), config, run: state });
    await writeFileAtomic(checkpointPath, bytes);
    await exportModel();
    await report(reason === 'end' ? 'finished' : reason === 'stopped' ? 'stopped (resume with --resume)' : 'in progress');
  };

  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) progress.log('sparsevit train: stopping after this step (a checkpoint is written; resume with --resume)');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let lastLoss = Number.NaN;
  try {
    const result = await train.runTraining({
      trainer,
      steps: settings.steps,
      batches: stepBatches(source, config, settings.batch, settings.accumulate, settings.seed),
      validation,
      validateEvery: settings.validateEvery,
      checkpointSeconds: settings.checkpointMinutes * 60,
      signal: controller.signal,
      saveCheckpoint,
      onStep(record) {
        state.history.push(record);
        lastLoss = record.loss;
        progress.setLabel(`train loss ${record.loss.toFixed(4)} ${record.imagesPerSecond.toFixed(2)} img/s`);
        progress.update(record.step, 0);
        void writeFile(log, `${JSON.stringify({ type: 'step', ...record, wallSeconds: wall() })}\n`, { flag: 'a' }).catch(() => undefined);
      },
      onValidation(point) {
        state.validation.push(point);
        progress.log(`step ${point.step}: validation pixel F1 ${point.pixelF1.toFixed(3)}, image AUC ${point.imageAuc?.toFixed(3) ?? 'n/a'}, loss ${point.loss.toFixed(4)}`);
        void writeFile(log, `${JSON.stringify({ type: 'validation', ...point, wallSeconds: wall() })}\n`, { flag: 'a' }).catch(() => undefined);
      },
    });
    progress.stop();
    process.stderr.write(
      `sparsevit train: ${result.stopped ? 'stopped' : 'done'} at step ${result.step} (loss ${lastLoss.toFixed(4)}, ${(wall() / 60).toFixed(1)} min); ${join(out, MODEL_FILE)}, ${join(out, MODEL_FP16_FILE)}, ${join(out, REPORT_FILE)}\n`,
    );
    return result.stopped ? 130 : 0;
  } catch (error) {
    progress.stop();
    // A diverged loss or a failed write (a full disk) leaves the previous checkpoint as it was.
    const code = (error as SparseViTError).code;
    if (code === 'TRAINING_DIVERGED' || code === 'IO_ERROR') {
      process.stderr.write(`sparsevit train: ${oneLine(String((error as Error).message))}; the last good checkpoint is ${checkpointPath}${existsSync(checkpointPath) ? '' : ' (none written yet)'}\n`);
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await trainer.dispose();
    await source.close();
    await valSource.close();
  }
}
