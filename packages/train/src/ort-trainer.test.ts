import type * as tfc from '@tensorflow/tfjs-core';
import { prepareGraphWeights } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamwDefaults, adamwUpdate, AdamW } from './adamw';
import { initialStateDict } from './initial-weights';
import type { TrainingLoss } from './loss';
import { OrtTrainer } from './ort-trainer';
import { Random } from './random';
import { directionalDerivative, maxAbsDiff, ONE_WEIGHT_PER_LAYER_KIND, syntheticBatch, tf, tinyConfig, tinyTrainer } from './test-helpers.test-helper';
import { validate } from './training-run';

const schedule = { lr: 1e-3, minLr: 1e-5, warmupSteps: 2, totalSteps: 20 };

function tinyOrtTrainer(seed: number, loss: TrainingLoss = 'bce'): OrtTrainer {
  return new OrtTrainer({ ort, config: tinyConfig, weights: prepareGraphWeights(initialStateDict(tinyConfig, seed), tinyConfig), schedule, loss, sessionOptions: { intraOpNumThreads: 1 } });
}

/** max |a - b| over max |a|, per tensor: the worst tensor and its error. */
function worstRelative(a: ReadonlyMap<string, ArrayLike<number>>, b: ReadonlyMap<string, ArrayLike<number>>): { name: string; error: number } {
  let worst = { name: '', error: 0 };
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y) return { name, error: Number.POSITIVE_INFINITY };
    let scale = 0;
    for (let i = 0; i < x.length; i++) scale = Math.max(scale, Math.abs(x[i]));
    const error = maxAbsDiff(x, y) / Math.max(scale, 1e-30);
    if (error > worst.error) worst = { name, error };
  }
  return worst;
}

beforeAll(async () => {
  // The reference: tfjs-cpu, whose gradients are checked against finite differences in trainer.test.ts.
  await tf.setBackend('cpu');
  await tf.ready();
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('OrtTrainer (the training step lowered to ONNX, run by ONNX Runtime)', () => {
  // Measured: loss within 5e-7 relative, the worst tensor's gradient within 6.1e-6 of its largest
  // value (bce+dice; 9.3e-7 for bce), all gradients together 5e-7 relative L2.
  for (const loss of ['bce', 'bce+dice', 'bce+dice+image'] as const) {
    it(`gives tfjs's loss and gradients for every weight of the graph (${loss}; <= 1e-4 of each tensor's max)`, async () => {
      const batch = syntheticBatch(2, 9);
      const reference = tinyTrainer(5, schedule, loss);
      const trainer = tinyOrtTrainer(5, loss);
      try {
        const want = reference.gradients(batch);
        const got = await trainer.gradients(batch);
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(1e-5);
        expect(got.grads.size).toBe(want.grads.size);
        const worst = worstRelative(want.grads, got.grads);
        expect(worst.error, worst.name).toBeLessThanOrEqual(1e-4);
      } finally {
        reference.dispose();
        await trainer.dispose();
      }
    });
  }

  it('matches finite differences of its own loss (relative error <= 1e-2) through every kind of layer', async () => {
    const trainer = tinyOrtTrainer(5);
    const probe = tinyOrtTrainer(5);
    const batch = syntheticBatch(2, 9);
    const { grads } = await trainer.gradients(batch);
    const weights = trainer.graphWeights();
    const random = new Random(17);
    try {
      for (const name of ONE_WEIGHT_PER_LAYER_KIND) {
        const { analytic, fd, rel } = await directionalDerivative(grads.get(name) as Float32Array, random, (v, h) => {
          const w = new Map(weights);
          w.set(name, { shape: weights.get(name)!.shape, data: Float32Array.from(weights.get(name)!.data, (x, i) => x + h * v[i]) });
          probe.restore({ weights: w, optimizer: new Map(), step: 0 });
          return probe.loss(batch);
        });
        expect(Math.abs(analytic)).toBeGreaterThan(1e-4);
        expect(rel, `${name}: analytic ${analytic}, finite difference ${fd}`).toBeLessThanOrEqual(1e-2);
      }
    } finally {
      await trainer.dispose();
      await probe.dispose();
    }
  });

  it('takes the same optimizer steps as the tfjs Trainer, with accumulation (the updates of 3 steps within 1e-4 relative L2)', async () => {
    const reference = tinyTrainer(5, schedule, 'bce+dice');
    const trainer = tinyOrtTrainer(5, 'bce+dice');
    const start = trainer.graphWeights();
    try {
      for (let step = 0; step < 3; step++) {
        const batches = [syntheticBatch(2, 100 + step), syntheticBatch(1, 200 + step)];
        const want = reference.trainStep(batches);
        const got = await trainer.trainStep(batches);
        expect(got.step).toBe(want.step);
        expect(got.lr).toBe(want.lr);
        expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThanOrEqual(1e-5);
      }
      // Compared as updates (the weights' change over the run), all tensors together: Adam's
      // g / sqrt(v) turns a gradient that is float noise around 0 into a step of about +-lr
      // either way (the key third of each qkv bias has an exact gradient of 0, as it adds the same
      // q.b to every score of a softmax row), so no per-element bound holds for such entries.
      let num = 0;
      let den = 0;
      const ours = trainer.graphWeights();
      for (const [n, w] of reference.graphWeights()) {
        const w0 = start.get(n)!.data;
        const mine = ours.get(n)!.data;
        for (let i = 0; i < w.data.length; i++) {
          num += (w.data[i] - mine[i]) ** 2;
          den += (w.data[i] - w0[i]) ** 2;
        }
      }
      // Measured: 1.3e-5.
      expect(Math.sqrt(num / den)).toBeLessThanOrEqual(1e-4);
      // The checkpoint state is the same shape as Trainer's: a run moves between the engines.
      const state = reference.state();
      const resumed = tinyOrtTrainer(1, 'bce+dice');
      resumed.restore(state);
      expect(resumed.step).toBe(3);
      const next = syntheticBatch(2, 300);
      const a = reference.trainStep([next]);
      const b = await resumed.trainStep([next]);
      expect(Math.abs(a.loss - b.loss) / a.loss).toBeLessThanOrEqual(1e-5);
      await resumed.dispose();
    } finally {
      reference.dispose();
      await trainer.dispose();
    }
  });

  it('predicts the probability maps the tfjs Trainer predicts, and validates (<= 1e-5)', async () => {
    const reference = tinyTrainer(5);
    const trainer = tinyOrtTrainer(5);
    try {
      const batch = syntheticBatch(3, 4);
      const want = reference.predict(batch.images, batch.n);
      const got = await trainer.predict(batch.images, batch.n);
      expect(maxAbsDiff(want.probability, got.probability)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(want.logits, got.logits)).toBeLessThanOrEqual(1e-5);
      const set = { batches: [batch, syntheticBatch(1, 5)] };
      const [v1, v2] = [await validate(reference, set), await validate(trainer, set)];
      expect(Math.abs(v1.loss - v2.loss)).toBeLessThanOrEqual(1e-5);
      expect(Math.abs(v1.pixelF1 - v2.pixelF1)).toBeLessThanOrEqual(1e-3);
    } finally {
      reference.dispose();
      await trainer.dispose();
    }
  });

  it('refuses a diverged loss without touching the weights, and a batch of the wrong size', async () => {
    const trainer = tinyOrtTrainer(5);
    try {
      const before = trainer.graphWeights();
      const bad = syntheticBatch(1, 3);
      bad.images[0] = Number.NaN;
      await expect(trainer.trainStep([bad])).rejects.toMatchObject({ code: 'TRAINING_DIVERGED' });
      expect(trainer.step).toBe(0);
      for (const [name, w] of trainer.graphWeights()) expect(maxAbsDiff(w.data, before.get(name)!.data), name).toBe(0);
      await expect(trainer.trainStep([{ images: new Float32Array(10), masks: new Float32Array(10), n: 1 }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(trainer.trainStep([])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await trainer.dispose();
    }
  });
});

describe('OrtTrainer on onnxruntime-web (the browser runtime; its wasm build, here in Node)', () => {
  it("gives onnxruntime-node's gradients (<= 1e-4 of each tensor's max) and lowers the loss over a few steps", async () => {
    ortWeb.env.wasm.numThreads = 1;
    const batch = syntheticBatch(2, 9);
    const weights = prepareGraphWeights(initialStateDict(tinyConfig, 5), tinyConfig);
    const web = new OrtTrainer({ ort: ortWeb, config: tinyConfig, weights, schedule, loss: 'bce+dice', sessionOptions: { executionProviders: ['wasm'] } });
    const node = tinyOrtTrainer(5, 'bce+dice');
    try {
      const [a, b] = [await node.gradients(batch), await web.gradients(batch)];
      const worst = worstRelative(a.grads, b.grads);
      expect(worst.error, worst.name).toBeLessThanOrEqual(1e-4);
      const first = (await web.trainStep([batch])).loss;
      let last = first;
      for (let i = 0; i < 4; i++) last = (await web.trainStep([batch])).loss;
      expect(last).toBeLessThan(first * 0.9);
    } finally {
      await web.dispose();
      await node.dispose();
    }
  });
});

describe('adamwUpdate', () => {
  it('is the AdamW step of the tfjs optimizer (<= 1e-6 relative, with and without decay)', () => {
    const random = new Random(3);
    const shape = [4, 5];
    const start = Float32Array.from({ length: 20 }, () => random.normal());
    const p = tf.variable(tf.tensor2d(start, [4, 5]));
    const bias = tf.variable(tf.tensor1d(start.subarray(0, 5)));
    const optimizer = new AdamW(tf as never, new Map<string, tfc.Variable>([['w', p], ['b', bias]]), { weightDecay: 0.05 });
    const mine = { w: Float32Array.from(start), b: Float32Array.from(start.subarray(0, 5)) };
    const slots = { w: { m: new Float32Array(20), v: new Float32Array(20) }, b: { m: new Float32Array(5), v: new Float32Array(5) } };
    for (let step = 1; step <= 4; step++) {
      const gw = Float32Array.from({ length: 20 }, () => random.normal());
      const gb = Float32Array.from({ length: 5 }, () => random.normal());
      tf.tidy(() => optimizer.apply({ w: tf.tensor(gw, shape), b: tf.tensor(gb, [5]) }, 1e-2));
      adamwUpdate(mine.w, gw, slots.w, 1e-2, step, adamwDefaults({ weightDecay: 0.05 }), true);
      adamwUpdate(mine.b, gb, slots.b, 1e-2, step, adamwDefaults({ weightDecay: 0.05 }), false);
    }
    expect(maxAbsDiff(p.dataSync(), mine.w)).toBeLessThanOrEqual(1e-6 * 3);
    expect(maxAbsDiff(bias.dataSync(), mine.b)).toBeLessThanOrEqual(1e-6 * 3);
    optimizer.dispose();
    p.dispose();
    bias.dispose();
  });
});
