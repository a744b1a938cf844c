import { expectedStateDict, float32Tensor, numel, prepareGraphWeights, toFloat32, validateConfig, type TensorStore } from '@sparsevit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initialStateDict } from './initial-weights';
import { Random } from './random';
import { maxAbsDiff, syntheticBatch, tf, tinyConfig } from './test-helpers.test-helper';
import { Trainer } from './trainer';
import { widenStateDict, widthFactors } from './widen-state-dict';

const wideConfig = validateConfig({ ...tinyConfig, embed_dim: [16, 32, 64, 128] });
const schedule = { lr: 1e-3, minLr: 1e-5, warmupSteps: 2, totalSteps: 20 };

/** A state dict whose every float tensor is random (biases, norms and BatchNorm statistics too). */
function trainedLikeStateDict(seed: number): TensorStore {
  const random = new Random(seed);
  const store = initialStateDict(tinyConfig, seed);
  for (const [key, t] of store.tensors) {
    if (t.dtype !== 'F32') continue;
    const positive = /(running_var|norm\d*\.weight|norm\.weight|gamma\w*)$/.test(key);
    const values = toFloat32(t).map((v) => (positive ? 0.5 + random.uniform(0, 1) : v + 0.1 * random.normal()));
    store.tensors.set(key, float32Tensor(t.shape, values));
  }
  return store;
}

function trainerOn(store: TensorStore, config = tinyConfig): Trainer {
  return new Trainer({ tf: tf as never, config, weights: prepareGraphWeights(store, config), schedule, loss: 'bce+dice' });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('widenStateDict (Net2WiderNet)', () => {
  it('gives every key of the wider config its shape, and the wider model the same logits (<= 1e-5) on every stage and the head', () => {
    const narrow = trainedLikeStateDict(5);
    const wide = widenStateDict(narrow, tinyConfig, wideConfig, { seed: 2 });
    const expected = expectedStateDict(wideConfig);
    expect([...wide.tensors.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, spec] of expected) expect(wide.tensors.get(key)!.shape, key).toEqual(spec.shape);
    expect([...wide.tensors.values()].reduce((n, t) => n + numel(t.shape), 0)).toBeGreaterThan(3.5 * [...narrow.tensors.values()].reduce((n, t) => n + numel(t.shape), 0));

    const batch = syntheticBatch(2, 11);
    const a = trainerOn(narrow).predict(batch.images, batch.n);
    const b = trainerOn(wide, wideConfig).predict(batch.images, batch.n);
    const scale = Math.max(...a.logits.map(Math.abs));
    expect(scale).toBeGreaterThan(0.1);
    // float32 sums in another order: measured 7.0e-7 of the largest logit.
    expect(maxAbsDiff(a.logits, b.logits) / scale).toBeLessThan(1e-5);
  });

  it('splits each input weight unequally among the copies, so the copies get different gradients', () => {
    const wide = widenStateDict(trainedLikeStateDict(6), tinyConfig, wideConfig, { seed: 3 });
    const c = tinyConfig.embed_dim[2];
    // fc1 of a stage-3 block: [4C', C'] with C' = 2C; columns i and i + C share the old column i.
    const fc1 = toFloat32(wide.tensors.get('encoder_net.blocks3.0.mlp.fc1.weight')!);
    const narrowFc1 = toFloat32(trainedLikeStateDict(6).tensors.get('encoder_net.blocks3.0.mlp.fc1.weight')!);
    const cols = 2 * c;
    let unequal = 0;
    for (let r = 0; r < 8; r++) {
      for (let i = 0; i < c; i++) {
        const [x, y] = [fc1[r * cols + i], fc1[r * cols + i + c]];
        expect(x + y).toBeCloseTo(narrowFc1[r * c + i], 6);
        if (Math.abs(x - y) > 1e-3 * Math.abs(x + y)) unequal++;
      }
    }
    expect(unequal).toBeGreaterThan(0.9 * 8 * c);

    // The first patch embedding's output rows are exact copies; their gradients are not.
    const { grads } = trainerOn(wide, wideConfig).gradients(syntheticBatch(2, 12));
    const g = grads.get('encoder_net.patch_embed1.proj.weight')!;
    const rowLength = 3 * 4 * 4;
    const c1 = tinyConfig.embed_dim[0];
    const row = (r: number) => g.subarray(r * rowLength, (r + 1) * rowLength);
    const gap = maxAbsDiff(row(0), row(c1));
    expect(gap).toBeGreaterThan(1e-3 * Math.max(...row(0).map(Math.abs)));
  });

  it('refuses configs it cannot grow between, with INVALID_CONFIG', () => {
    const store = initialStateDict(tinyConfig, 1);
    expect(widthFactors(tinyConfig, validateConfig({ ...tinyConfig, embed_dim: [12, 16, 32, 64] }))).toBeNull();
    expect(widthFactors(tinyConfig, validateConfig({ ...tinyConfig, depth: [2, 1, 15, 4] }))).toBeNull();
    expect(widthFactors(tinyConfig, wideConfig)).toEqual([2, 2, 2, 2]);
    expect(() => widenStateDict(store, wideConfig, tinyConfig)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    store.tensors.delete('lmu.conv_last.weight');
    expect(() => widenStateDict(store, tinyConfig, wideConfig)).toThrow(expect.objectContaining({ code: 'WEIGHTS_MISMATCH' }));
  });
});
