import { SparseViTError, imageAuc, maxScore, pixelF1, type SparseViTConfig } from '@sparsevit/core';
import type { StepResult, TrainingBatch } from './trainer';

/**
 * What a training run drives: `Trainer` (TensorFlow.js, synchronous) and `OrtTrainer` (ONNX
 * Runtime, asynchronous) both are one.
 */
export interface TrainingEngine {
  readonly config: SparseViTConfig;
  /** Optimizer steps taken so far. */
  readonly step: number;
  trainStep(microBatches: readonly TrainingBatch[]): StepResult | Promise<StepResult>;
  loss(batch: TrainingBatch): number | Promise<number>;
  predict(images: Float32Array, n: number): { probability: Float32Array; logits: Float32Array } | Promise<{ probability: Float32Array; logits: Float32Array }>;
}

/** Validation figures at one point of a run (pixel F1 at 0.5 averaged over manipulated images, image AUC). */
export interface ValidationPoint {
  step: number;
  pixelF1: number;
  imageAuc: number | null;
  loss: number;
}

/** One logged optimizer step. */
export interface StepRecord {
  step: number;
  loss: number;
  lr: number;
  /** Training images per second over this step (data wait included). */
  imagesPerSecond: number;
}

/** A fixed validation set, already preprocessed (the same samples at every validation). */
export interface ValidationSet {
  batches: TrainingBatch[];
}

export interface TrainingRunOptions {
  trainer: TrainingEngine;
  /** Optimizer steps the run should reach (a resumed run continues from `trainer.step`). */
  steps: number;
  /** The micro-batches of optimizer step `step` (0-based): a pure function of `step` for reproducible runs. */
  batches(step: number): Promise<TrainingBatch[]>;
  /** Called after every step. */
  onStep?(record: StepRecord): void;
  /** Validate every this many steps (and at the end). Default: never. */
  validateEvery?: number;
  validation?: ValidationSet;
  onValidation?(point: ValidationPoint): void;
  /** Write a checkpoint every this many seconds (and at the end, and when stopped). Default 300. */
  checkpointSeconds?: number;
  /** Persists a checkpoint of the trainer's current state (atomically: the previous one must survive a failure). */
  saveCheckpoint(reason: 'interval' | 'end' | 'stopped'): Promise<void>;
  /** Stops the run after the current step (a checkpoint is written first). */
  signal?: AbortSignal;
}

export interface TrainingRunResult {
  /** The optimizer step reached. */
  step: number;
  /** True when `signal` stopped the run before `steps`. */
  stopped: boolean;
}

/** Validation: pixel F1 at 0.5 over the manipulated images, image AUC from the max score, and the loss. */
export async function validate(trainer: TrainingEngine, set: ValidationSet): Promise<ValidationPoint> {
  const size = trainer.config.img_size * trainer.config.img_size;
  const f1s: number[] = [];
  const scores: number[] = [];
  const labels: number[] = [];
  let loss = 0;
  for (const batch of set.batches) {
    loss += (await trainer.loss(batch)) * batch.n;
    const { probability } = await trainer.predict(batch.images, batch.n);
    for (let i = 0; i < batch.n; i++) {
      const prob = probability.subarray(i * size, (i + 1) * size);
      const gt = batch.masks.subarray(i * size, (i + 1) * size);
      const manipulated = gt.some((v) => v > 0.5);
      if (manipulated) f1s.push(pixelF1(prob, gt));
      scores.push(maxScore(prob));
      labels.push(manipulated ? 1 : 0);
    }
  }
  const count = set.batches.reduce((n, b) => n + b.n, 0);
  return {
    step: trainer.step,
    pixelF1: f1s.length > 0 ? f1s.reduce((a, b) => a + b, 0) / f1s.length : 0,
    imageAuc: imageAuc(scores, labels),
    loss: loss / count,
  };
}

/**
 * Runs optimizer steps until `steps`, prefetching the next step's data while the current one
 * trains, validating and checkpointing on schedule. A NaN/Inf loss stops the run with
 * `TRAINING_DIVERGED` and writes no checkpoint of the bad step (the last good one stays).
 */
export async function runTraining(options: TrainingRunOptions): Promise<TrainingRunResult> {
  const { trainer, steps } = options;
  if (!Number.isSafeInteger(steps) || steps < 0) throw new SparseViTError('INVALID_ARGUMENT', `steps must be a non-negative integer, got ${String(steps)}`);
  const checkpointMs = (options.checkpointSeconds ?? 300) * 1000;
  let lastCheckpoint = performance.now();
  let next = trainer.step < steps ? options.batches(trainer.step) : undefined;
  while (trainer.step < steps) {
    if (options.signal?.aborted) {
      await options.saveCheckpoint('stopped');
      return { step: trainer.step, stopped: true };
    }
    const started = performance.now();
    const batches = await (next as Promise<TrainingBatch[]>);
    // Start decoding the next step's samples; their async work overlaps this step.
    next = trainer.step + 1 < steps ? options.batches(trainer.step + 1) : undefined;
    let result: StepResult;
    try {
      result = await trainer.trainStep(batches);
    } catch (error) {
      await next?.catch(() => undefined);
      throw error;
    }
    const images = batches.reduce((n, b) => n + b.n, 0);
    options.onStep?.({ step: result.step, loss: result.loss, lr: result.lr, imagesPerSecond: images / ((performance.now() - started) / 1000) });
    const every = options.validateEvery;
    if (options.validation && every && (result.step % every === 0 || result.step === steps)) options.onValidation?.(await validate(trainer, options.validation));
    if (performance.now() - lastCheckpoint >= checkpointMs && trainer.step < steps) {
      await options.saveCheckpoint('interval');
      lastCheckpoint = performance.now();
    }
  }
  await options.saveCheckpoint('end');
  return { step: trainer.step, stopped: false };
}
