import { FEATURE_NAMES } from '@sparsevit/core';
import { describe, expect, it } from 'vitest';
import { loadTfjsBackend } from './load-model';
import { maxAbsDiff, referenceTensors, tiny, tinyConfig } from './parity.test-helper';

// The same parity on tfjs's plain-JavaScript cpu backend (slow; one case).
describe('SparseViT on the tfjs cpu backend', () => {
  it('case0: logits within 1e-4 and features within 2e-4 of PyTorch', async () => {
    const backend = await loadTfjsBackend({ weights: tiny('weights.safetensors'), config: tinyConfig, backend: 'cpu' });
    try {
      expect(backend.tf.getBackend()).toBe('cpu');
      const ref = await referenceTensors('case0');
      const t0 = performance.now();
      const out = await backend.runWithFeatures(ref.get('input')!.data, 1);
      const ms = performance.now() - t0;
      const logits = maxAbsDiff(out.logits, ref.get('logits')!.data);
      const features = Object.fromEntries(FEATURE_NAMES.map((f) => [f, maxAbsDiff(out.features![f], ref.get(`feature.${f}`)!.data)]));
      console.log(`tfjs-cpu case0 (${ms.toFixed(0)} ms): logits ${logits}`, features);
      expect(logits).toBeLessThanOrEqual(1e-4);
      for (const f of FEATURE_NAMES) expect(features[f], f).toBeLessThanOrEqual(2e-4);
    } finally {
      await backend.dispose();
    }
  });
});
