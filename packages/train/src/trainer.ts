import { SparseViTError, checkOneOf, sparseViTGraph, type GraphWeight, type GraphWeights, type SparseViTConfig } from '@sparsevit/core';
import { TfjsTensorOps, type Tfjs } from '@sparsevit/tfjs';
import type * as tfc from '@tensorflow/tfjs-core';
import { AdamW, type AdamWOptions, type AdamWSlot } from './adamw';
import { TRAINING_LOSSES, trainingLoss, type TrainingLoss } from './loss';
import { learningRate, type LrSchedule } from './lr-schedule';
import { installResizeBilinearGradient } from './resize-bilinear-gradient';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

/** One micro-batch: normalised images (as `preprocess` makes them) and 0/1 masks, both NCHW. */
export interface TrainingBatch {
  /** `[n, 3, img_size, img_size]`, row-major. */
  images: Float32Array;
  /** `[n, 1, img_size, img_size]`, 0 or 1. */
  masks: Float32Array;
  n: number;
}

export interface TrainerOptions extends AdamWOptions {
  /** A TensorFlow.js namespace whose backend is set (wasm, cpu, webgl, webgpu, tfjs-node). */
  tf: Tfjs;
  config: SparseViTConfig;
  /** The starting weights, prepared for `config` (see `prepareGraphWeights`). */
  weights: GraphWeights;
  schedule: LrSchedule;
  /** The loss minimised: `bce` (the reference's, default) or `bce+dice`. */
  loss?: TrainingLoss;
}

export interface StepResult {
  /** Mean loss over the step's micro-batches. */
  loss: number;
  /** The learning rate the step used. */
  lr: number;
  /** Optimizer steps done after this one. */
  step: number;
}

/** Refuses a batch whose arrays do not hold `n` images and masks of the config's size. */
export function checkTrainingBatch(config: SparseViTConfig, batch: TrainingBatch): void {
  const s = config.img_size;
  const expected = batch.n * s * s;
  if (!Number.isInteger(batch.n) || batch.n < 1 || batch.images.length !== 3 * expected || batch.masks.length !== expected) {
    throw new SparseViTError('INVALID_ARGUMENT', `a batch of ${batch.n} needs ${3 * expected} image and ${expected} mask values, got ${batch.images.length} and ${batch.masks.length}`);
  }
}

/** `TRAINING_DIVERGED` for a NaN or infinite loss at optimizer step `step` (1-based), before any update. */
export function divergedError(loss: number, step: number): SparseViTError {
  return new SparseViTError('TRAINING_DIVERGED', `the training loss is ${loss} at step ${step}; the weights were not updated (lower the learning rate, or check the data)`);
}

/** What a checkpoint holds besides the parameters: optimizer moments and step. */
export interface TrainerState {
  weights: Map<string, GraphWeight>;
  optimizer: Map<string, AdamWSlot>;
  step: number;
}

/**
 * Trains SparseViT's prepared parameters: the graph `sparseViTGraph` that inference runs, executed
 * by `TfjsTensorOps` with its weights as variables, differentiated by tfjs's tape. BatchNorm is
 * frozen (folded into the 1x1 convs after it, as batches here are small) and layer scales are
 * folded into their projections; `exportInferenceWeights` writes the result back in the authors'
 * layout. Gradient accumulation: a step takes any number of micro-batches and averages their
 * gradients before one AdamW update.
 */
export class Trainer {
  readonly tf: Tfjs;
  readonly config: SparseViTConfig;
  private readonly ops: TfjsTensorOps;
  private readonly optimizer: AdamW;
  private readonly schedule: LrSchedule;
  readonly lossKind: TrainingLoss;
  /** tfjs's name of each variable (what `variableGrads` keys its result by) -> graph weight name. */
  private readonly graphNameOf: Map<string, string>;

  constructor(options: TrainerOptions) {
    this.tf = options.tf;
    this.config = options.config;
    this.schedule = options.schedule;
    this.lossKind = checkOneOf('loss', options.loss ?? 'bce', TRAINING_LOSSES);
    installResizeBilinearGradient(this.tf);
    if (this.tf.getBackend() === 'wasm') registerWasmTrainingKernels(this.tf);
    this.ops = new TfjsTensorOps(this.tf, options.weights, { trainable: true });
    this.optimizer = new AdamW(this.tf, this.ops.variables(), options);
    this.graphNameOf = new Map([...this.ops.variables()].map(([name, v]) => [v.name, name]));
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.optimizer.steps;
  }

  private input(batch: TrainingBatch): { x: tfc.Tensor; y: tfc.Tensor } {
    checkTrainingBatch(this.config, batch);
    const s = this.config.img_size;
    return { x: this.tf.tensor4d(batch.images, [batch.n, 3, s, s]), y: this.tf.tensor4d(batch.masks, [batch.n, 1, s, s]) };
  }

  /** The loss of `batch` under the current weights, no update. */
  loss(batch: TrainingBatch): number {
    return this.tf.tidy(() => {
      const { x, y } = this.input(batch);
      return trainingLoss(this.tf, this.lossKind, sparseViTGraph(this.ops, this.config, x).logits, y).dataSync()[0];
    });
  }

  /**
   * Gradients of the loss of `batch` with respect to every weight, by graph weight name (for
   * tests: finite differences check these).
   */
  gradients(batch: TrainingBatch): { loss: number; grads: Map<string, Float32Array> } {
    const tf = this.tf;
    const { value, grads } = tf.tidy(() => {
      const { x, y } = this.input(batch);
      return tf.variableGrads(() => trainingLoss(tf, this.lossKind, sparseViTGraph(this.ops, this.config, x).logits, y), [...this.ops.variables().values()]);
    });
    const byName = new Map<string, Float32Array>();
    for (const [varName, g] of Object.entries(grads)) {
      byName.set(this.graphNameOf.get(varName) as string, g.dataSync() as Float32Array);
      g.dispose();
    }
    const loss = value.dataSync()[0];
    value.dispose();
    return { loss, grads: byName };
  }

  /**
   * One optimizer step over `microBatches` (gradient accumulation: their gradients are averaged).
   * A NaN or infinite loss throws `TRAINING_DIVERGED` before anything is updated.
   */
  trainStep(microBatches: readonly TrainingBatch[]): StepResult {
    const tf = this.tf;
    if (microBatches.length === 0) throw new SparseViTError('INVALID_ARGUMENT', 'a training step needs at least one micro-batch');
    const varList = [...this.ops.variables().values()];
    const nameOf = this.graphNameOf;
    let total: Record<string, tfc.Tensor> | undefined;
    let lossSum = 0;
    try {
      for (const batch of microBatches) {
        const { value, grads } = this.guardMemory(batch, () =>
          tf.tidy(() => {
            const { x, y } = this.input(batch);
            return tf.variableGrads(() => trainingLoss(tf, this.lossKind, sparseViTGraph(this.ops, this.config, x).logits, y), varList);
          }),
        );
        const loss = value.dataSync()[0];
        value.dispose();
        lossSum += loss;
        if (!Number.isFinite(loss)) {
          for (const g of Object.values(grads)) g.dispose();
          throw divergedError(loss, this.step + 1);
        }
        if (!total) {
          total = {};
          for (const [varName, g] of Object.entries(grads)) total[nameOf.get(varName) as string] = g;
        } else {
          for (const [varName, g] of Object.entries(grads)) {
            const name = nameOf.get(varName) as string;
            const sum = tf.add(total[name], g);
            total[name].dispose();
            g.dispose();
            total[name] = sum;
          }
        }
      }
      const grads = total as Record<string, tfc.Tensor>;
      if (microBatches.length > 1) {
        for (const name of Object.keys(grads)) {
          const mean = tf.div(grads[name], microBatches.length);
          grads[name].dispose();
          grads[name] = mean;
        }
      }
      const lr = learningRate(this.schedule, this.step);
      this.optimizer.apply(grads, lr);
      return { loss: lossSum / microBatches.length, lr, step: this.step };
    } finally {
      if (total) for (const g of Object.values(total)) g.dispose();
    }
  }

  /**
   * A training step keeps every activation for the backward pass. On wasm they live in one
   * WebAssembly heap (at most 4 GB), which aborts the module when it cannot grow ("Aborted()",
   * untyped): measured here, a micro-batch of 8 at the small preset's 256x256 did, 4 did not.
   * That becomes a typed error saying what to change.
   */
  private guardMemory<R>(batch: TrainingBatch, fn: () => R): R {
    try {
      return fn();
    } catch (error) {
      if (error instanceof SparseViTError) throw error;
      const message = String((error as Error)?.message ?? error);
      if (/Aborted|out of memory|Cannot enlarge memory|Invalid typed array length|Array buffer allocation failed/i.test(message)) {
        throw new SparseViTError(
          'BACKEND_UNAVAILABLE',
          `the ${this.tf.getBackend()} backend ran out of memory on a micro-batch of ${batch.n} at ${this.config.img_size}x${this.config.img_size} (${message.slice(0, 200)}); use a smaller batch and accumulate gradients (sparsevit train --batch 4 --accumulate 2). The engine cannot continue after this: restart from the last checkpoint.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * The probability maps `[n, img_size, img_size]` and the raw logit maps of `images`
   * (`[n, 3, img, img]`, normalised) under the current weights.
   */
  predict(images: Float32Array, n: number): { probability: Float32Array; logits: Float32Array } {
    const s = this.config.img_size;
    // Typed arrays are read outside `tidy`: it scans what its callback returns element by element.
    const out = this.tf.tidy(() => {
      const { probability, logits } = sparseViTGraph(this.ops, this.config, this.tf.tensor4d(images, [n, 3, s, s]));
      return [probability, logits];
    });
    try {
      return { probability: out[0].dataSync() as Float32Array, logits: out[1].dataSync() as Float32Array };
    } finally {
      for (const t of out) t.dispose();
    }
  }

  /** The current weights, prepared layout (what `exportInferenceWeights` takes). */
  graphWeights(): Map<string, GraphWeight> {
    const out = new Map<string, GraphWeight>();
    for (const [name, v] of this.ops.variables()) out.set(name, { shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) });
    return out;
  }

  /** Everything a checkpoint needs to resume bit for bit. */
  state(): TrainerState {
    return { weights: this.graphWeights(), optimizer: this.optimizer.state(), step: this.step };
  }

  /** Restores weights, optimizer moments and step (from `state()` or a checkpoint file). */
  restore(state: TrainerState): void {
    const tf = this.tf;
    for (const [name, v] of this.ops.variables()) {
      const w = state.weights.get(name);
      if (!w || w.data.length !== v.size) throw new SparseViTError('WEIGHTS_MISMATCH', `the checkpoint has no weight "${name}" of ${v.size} values`);
      v.assign(tf.tensor(w.data, v.shape, 'float32'));
    }
    this.optimizer.restore(state.optimizer, state.step);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ops.dispose();
  }
}
