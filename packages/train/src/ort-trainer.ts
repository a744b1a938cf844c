import { SparseViTError, checkOneOf, type GraphWeight, type GraphWeights, type SparseViTConfig } from '@sparsevit/core';
import { gradientName, LOGITS_NAME, LOSS_NAME, lowerTrainingGraph, MASK_NAME, INPUT_NAME, PROBABILITY_NAME } from '@sparsevit/onnx';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { adamwDefaults, adamwUpdate, type AdamWOptions, type AdamWSlot } from './adamw';
import { TRAINING_LOSSES, type TrainingLoss } from './loss';
import { learningRate, type LrSchedule } from './lr-schedule';
import { checkTrainingBatch, divergedError, type StepResult, type TrainerState, type TrainingBatch } from './trainer';

/** What `OrtTrainer` needs of an ONNX Runtime package (`onnxruntime-node`, `onnxruntime-web`). */
export interface OrtRuntime {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
}

export interface OrtTrainerOptions extends AdamWOptions {
  /** `await import('onnxruntime-node')` (or `onnxruntime-web`). */
  ort: OrtRuntime;
  config: SparseViTConfig;
  /** The starting weights, prepared for `config` (see `prepareGraphWeights`). */
  weights: GraphWeights;
  schedule: LrSchedule;
  /** The loss minimised: `bce` (the reference's, default) or `bce+dice`. */
  loss?: TrainingLoss;
  /** Passed to every session (threads, execution providers). Default: all optimizations, CPU. */
  sessionOptions?: InferenceSession.SessionOptions;
}

/**
 * Trains SparseViT on ONNX Runtime: each step runs `lowerTrainingGraph` (the forward pass of the
 * one graph definition, the loss and the gradients of every weight, all lowered to ONNX) and
 * applies AdamW in JavaScript. The same parameters, loss, schedule and checkpoints as `Trainer`
 * (a run may move between the two), about ten times faster on a CPU than tfjs's wasm backend
 * (measured by `pnpm bench:train`), because ONNX Runtime's products run at 60-120 GFLOP/s per
 * core where tfjs-wasm's run at 2-10 here.
 *
 * The graph's shapes are static, so there is one session per micro-batch size (and one for
 * evaluation), made on first use.
 *
 * ```ts
 * const ort = await import('onnxruntime-node');
 * const trainer = new OrtTrainer({ ort, config, weights, loss: 'bce+dice', schedule: { lr: 2e-4, minLr: 5e-7, warmupSteps: 50, totalSteps: 2000 } });
 * const { loss } = await trainer.trainStep([batch]);
 * ```
 */
export class OrtTrainer {
  readonly config: SparseViTConfig;
  readonly lossKind: TrainingLoss;
  private readonly ort: OrtRuntime;
  private readonly schedule: LrSchedule;
  private readonly adam: Required<AdamWOptions>;
  private readonly params = new Map<string, GraphWeight & { data: Float32Array }>();
  private readonly moments = new Map<string, AdamWSlot>();
  private readonly sessions = new Map<string, Promise<{ session: InferenceSession; weights: string[] }>>();
  private readonly sessionOptions: InferenceSession.SessionOptions;
  private steps = 0;

  constructor(options: OrtTrainerOptions) {
    this.ort = options.ort;
    this.config = options.config;
    this.schedule = options.schedule;
    this.lossKind = checkOneOf('loss', options.loss ?? 'bce', TRAINING_LOSSES);
    this.adam = adamwDefaults(options);
    this.sessionOptions = { graphOptimizationLevel: 'all', executionProviders: ['cpu'], ...options.sessionOptions };
    for (const [name, w] of options.weights) {
      this.params.set(name, { shape: [...w.shape], data: Float32Array.from(w.data) });
      this.moments.set(name, { m: new Float32Array(w.data.length), v: new Float32Array(w.data.length) });
    }
  }

  /** Optimizer steps taken so far. */
  get step(): number {
    return this.steps;
  }

  /** The session for `n` images, with gradients or without (evaluation). */
  private session(n: number, gradients: boolean): Promise<{ session: InferenceSession; weights: string[] }> {
    const key = `${gradients ? 'train' : 'eval'}:${n}`;
    let made = this.sessions.get(key);
    if (!made) {
      made = (async () => {
        const graph = lowerTrainingGraph(this.config, this.params, { batch: n, loss: this.lossKind, gradients });
        const session = await this.ort.InferenceSession.create(graph.model, this.sessionOptions);
        return { session, weights: graph.weights.map((w) => w.name) };
      })();
      this.sessions.set(key, made);
      made.catch(() => this.sessions.delete(key));
    }
    return made;
  }

  private async run(batch: TrainingBatch, gradients: boolean): Promise<InferenceSession.OnnxValueMapType> {
    checkTrainingBatch(this.config, batch);
    const s = this.config.img_size;
    const { session, weights } = await this.session(batch.n, gradients);
    const { Tensor } = this.ort;
    const feeds: Record<string, Tensor> = {
      [INPUT_NAME]: new Tensor('float32', batch.images, [batch.n, 3, s, s]),
      [MASK_NAME]: new Tensor('float32', batch.masks, [batch.n, 1, s, s]),
    };
    for (const name of weights) {
      const p = this.params.get(name) as GraphWeight & { data: Float32Array };
      feeds[name] = new Tensor('float32', p.data, [...p.shape]);
    }
    try {
      return await session.run(feeds);
    } catch (error) {
      throw new SparseViTError('BACKEND_UNAVAILABLE', `ONNX Runtime failed on a training micro-batch of ${batch.n} at ${s}x${s}: ${String((error as Error)?.message ?? error).slice(0, 300)}`, { cause: error });
    }
  }

  /** The loss of `batch` and its gradient with respect to every weight, by graph weight name. */
  async gradients(batch: TrainingBatch): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
    const out = await this.run(batch, true);
    const grads = new Map<string, Float32Array>();
    for (const name of this.params.keys()) grads.set(name, out[gradientName(name)].data as Float32Array);
    return { loss: (out[LOSS_NAME].data as Float32Array)[0], grads };
  }

  /**
   * One optimizer step over `microBatches` (their gradients are averaged). A NaN or infinite
   * loss throws `TRAINING_DIVERGED` before anything is updated.
   */
  async trainStep(microBatches: readonly TrainingBatch[]): Promise<StepResult> {
    if (microBatches.length === 0) throw new SparseViTError('INVALID_ARGUMENT', 'a training step needs at least one micro-batch');
    let total: Map<string, Float32Array> | undefined;
    let lossSum = 0;
    for (const batch of microBatches) {
      const { loss, grads } = await this.gradients(batch);
      if (!Number.isFinite(loss)) throw divergedError(loss, this.step + 1);
      lossSum += loss;
      // Each run's outputs are fresh arrays of ours: the first micro-batch's are the running sum.
      if (!total) total = grads;
      else for (const [name, g] of grads) {
        const sum = total.get(name) as Float32Array;
        for (let i = 0; i < g.length; i++) sum[i] += g[i];
      }
    }
    const lr = learningRate(this.schedule, this.step);
    const scale = 1 / microBatches.length;
    this.steps++;
    for (const [name, p] of this.params) {
      const g = total!.get(name) as Float32Array;
      if (scale !== 1) for (let i = 0; i < g.length; i++) g[i] *= scale;
      adamwUpdate(p.data, g, this.moments.get(name) as AdamWSlot, lr, this.steps, this.adam, p.shape.length >= 2);
    }
    return { loss: lossSum / microBatches.length, lr, step: this.step };
  }

  /** The loss of `batch` under the current weights, no update. */
  async loss(batch: TrainingBatch): Promise<number> {
    return ((await this.run(batch, false))[LOSS_NAME].data as Float32Array)[0];
  }

  /** The probability maps `[n, img, img]` and raw logit maps of `images` (`[n, 3, img, img]`, normalised). */
  async predict(images: Float32Array, n: number): Promise<{ probability: Float32Array; logits: Float32Array }> {
    const s = this.config.img_size;
    const out = await this.run({ images, masks: new Float32Array(n * s * s), n }, false);
    return { probability: out[PROBABILITY_NAME].data as Float32Array, logits: out[LOGITS_NAME].data as Float32Array };
  }

  /** The current weights, prepared layout (copies). */
  graphWeights(): Map<string, GraphWeight> {
    return new Map([...this.params].map(([name, p]) => [name, { shape: [...p.shape], data: Float32Array.from(p.data) }]));
  }

  /** Everything a checkpoint needs to resume bit for bit (the same as `Trainer.state`). */
  state(): TrainerState {
    const optimizer = new Map([...this.moments].map(([name, s]) => [name, { m: Float32Array.from(s.m), v: Float32Array.from(s.v) }]));
    return { weights: this.graphWeights(), optimizer, step: this.step };
  }

  /** Restores weights, optimizer moments and step (from `state()`, `Trainer.state()` or a checkpoint file). */
  restore(state: TrainerState): void {
    for (const [name, p] of this.params) {
      const w = state.weights.get(name);
      if (!w || w.data.length !== p.data.length) throw new SparseViTError('WEIGHTS_MISMATCH', `the checkpoint has no weight "${name}" of ${p.data.length} values`);
      p.data.set(w.data);
      const slot = state.optimizer.get(name);
      const mine = this.moments.get(name) as AdamWSlot;
      if (slot && slot.m.length === p.data.length && slot.v.length === p.data.length) {
        mine.m.set(slot.m);
        mine.v.set(slot.v);
      }
    }
    this.steps = state.step;
  }

  async dispose(): Promise<void> {
    const made = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of made) await s.then(({ session }) => session.release()).catch(() => undefined);
  }
}
