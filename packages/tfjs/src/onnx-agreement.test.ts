import { readFileSync } from 'node:fs';
import { prepareGraphWeights, readSafetensors } from '@sparsevit/core';
import { lowerToOnnx } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type TfjsBackend } from './tfjs-backend';
import { maxAbsDiff, referenceTensors, tiny, tinyConfig as config } from './parity.test-helper';
import { selectBackend } from './select-backend';
import { tf } from './tfjs-runtime.test-helper';

// The two executions of the one SparseViT definition: recorded as an ONNX graph and run by ONNX
// Runtime, and executed eagerly by TensorFlow.js (wasm). Same prepared weights, same inputs.
describe('the ONNX lowering and the tfjs backend agree', () => {
  let session: ort.InferenceSession;
  let backend: TfjsBackend;

  beforeAll(async () => {
    const weights = prepareGraphWeights(await readSafetensors(readFileSync(tiny('weights.safetensors'))), config);
    session = await ort.InferenceSession.create(lowerToOnnx(config, weights), { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
    await selectBackend(tf, 'wasm');
    backend = createTfjsBackend({ tf, config, weights });
  });
  afterAll(async () => {
    await session?.release();
    await backend?.dispose();
  });

  it('on a fixture input and on a two-image batch of noise, logits within 1e-4', async () => {
    const fixture = (await referenceTensors('case1')).get('input')!.data;
    const noise = new Float32Array(2 * 3 * 512 * 512).map((_, i) => 2 * Math.sin(i * 0.37) * Math.cos(i * 0.0011));
    const measured: number[] = [];
    for (const [input, batch] of [[fixture, 1], [noise, 2]] as const) {
      const ortOut = await session.run({ input: new ort.Tensor('float32', input, [batch, 3, 512, 512]) });
      const tfjsOut = await backend.runWithFeatures(input, batch, {});
      const diff = maxAbsDiff(tfjsOut.logits, ortOut.logits.data as Float32Array);
      measured.push(diff);
      expect(diff).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(tfjsOut.probability, ortOut.probability.data as Float32Array)).toBeLessThanOrEqual(1e-4);
    }
    console.log('tfjs-wasm vs onnxruntime-node logits max abs diff (fixture, noise batch)', measured);
  });
});
