import { BASE_CONFIG, CONFIG_METADATA_KEY, writeSafetensors, type WeightTensor } from '@sparsevit/core';
import { randomStateDict } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { loadTfjsBackend } from './load-model';
import { selectBackend } from './select-backend';
import { tf } from './tfjs-runtime.test-helper';

// The published configuration at full size (depth [5, 8, 20, 7], widths [64, 128, 320, 512]):
// seeded random weights of every shape of the authors' state dict, in a safetensors file that
// carries its config. Checks that a full-size checkpoint maps onto the graph and runs on wasm.
describe('the full-size (base) model on tfjs wasm', () => {
  it('loads weights of every published shape and produces a [1,1,32,32] logit map at 512x512', async () => {
    const tensors = randomStateDict('sparsevit-base') as Map<string, WeightTensor>;
    const file = writeSafetensors({ tensors, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(BASE_CONFIG) } });
    tensors.clear();
    await selectBackend(tf, 'wasm');
    const before = tf.memory().numTensors;
    const backend = await loadTfjsBackend({ weights: file, backend: 'wasm' });
    try {
      expect(backend.config).toEqual(BASE_CONFIG);
      const input = tf.tensor4d(new Float32Array(3 * 512 * 512).map((_, i) => Math.sin(i * 0.001)), [1, 3, 512, 512]);
      const t0 = performance.now();
      const outputs = backend.forward(input);
      const logits = (await outputs.logits.data()) as Float32Array;
      console.log(`base on tfjs-wasm: ${(performance.now() - t0).toFixed(0)} ms for one 512x512 forward pass (first run)`);
      expect(outputs.logits.shape).toEqual([1, 1, 32, 32]);
      expect(outputs.probability.shape).toEqual([1, 1, 512, 512]);
      expect(logits.every(Number.isFinite)).toBe(true);
      tf.dispose([input, outputs.logits, outputs.probability]);
    } finally {
      await backend.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
