import { FEATURE_NAMES } from '@sparsevit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsBackend } from './load-model';
import { fixtureCases, maxAbsDiff, referenceTensors, tiny, tinyConfig } from './parity.test-helper';
import type { TfjsBackend } from './tfjs-backend';

// Parity with the authors' PyTorch implementation (fixtures made with it, see
// tooling/fixtures/README.md) on the tfjs wasm backend, from each case's preprocessed `input`.
// Bounds: logits and prob512 1e-4, each of the six backbone features 2e-4.
const LOGITS_TOLERANCE = 1e-4;
const FEATURE_TOLERANCE = 2e-4;

describe('SparseViT on TensorFlow.js (wasm) against PyTorch', () => {
  let backend: TfjsBackend;
  const measured: Record<string, Record<string, number>> = {};

  beforeAll(async () => {
    backend = await loadTfjsBackend({ weights: tiny('weights.safetensors'), config: tinyConfig, backend: 'wasm' });
  });
  afterAll(async () => {
    await backend?.dispose();
    console.log('tfjs-wasm max abs diff vs PyTorch', measured);
  });

  it('runs on the wasm backend', () => {
    expect(backend.name).toBe('tfjs');
    expect(backend.device).toBe('wasm');
    expect(backend.tf.getBackend()).toBe('wasm');
  });

  for (const { name } of fixtureCases) {
    it(`${name}: logits, prob512 and the six features match`, async () => {
      const ref = await referenceTensors(name);
      const out = await backend.runWithFeatures(ref.get('input')!.data, 1);
      const diffs: Record<string, number> = {
        logits: maxAbsDiff(out.logits, ref.get('logits')!.data),
        prob512: maxAbsDiff(out.probability, ref.get('prob512')!.data),
      };
      for (const feature of FEATURE_NAMES) diffs[feature] = maxAbsDiff(out.features![feature], ref.get(`feature.${feature}`)!.data);
      measured[name] = diffs;
      expect(diffs.logits).toBeLessThanOrEqual(LOGITS_TOLERANCE);
      expect(diffs.prob512).toBeLessThanOrEqual(LOGITS_TOLERANCE);
      for (const feature of FEATURE_NAMES) expect(diffs[feature], feature).toBeLessThanOrEqual(FEATURE_TOLERANCE);
    });
  }

  it('forward() returns tensors of the documented shapes and leaves nothing else behind', async () => {
    const { tf } = backend;
    const before = tf.memory().numTensors;
    const input = tf.zeros([2, 3, 512, 512]);
    const out = backend.forward(input, { features: true });
    expect(out.logits.shape).toEqual([2, 1, 32, 32]);
    expect(out.probability.shape).toEqual([2, 1, 512, 512]);
    expect(out.features!.third.shape).toEqual([2, 32, 32, 32]);
    expect(out.features!.last.shape).toEqual([2, 64, 16, 16]);
    // Batch items are independent: both equal the single-image result.
    const single = await backend.runWithFeatures(new Float32Array(3 * 512 * 512), 1, {});
    const batched = (await out.logits.data()) as Float32Array;
    expect(maxAbsDiff(batched.subarray(0, 1024), single.logits)).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(batched.subarray(1024), single.logits)).toBeLessThanOrEqual(1e-5);
    tf.dispose([input, out.logits, out.probability, ...Object.values(out.features!)]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
