import { readFileSync } from 'node:fs';
import { CONFIG_METADATA_KEY, convertStore, readSafetensors, writeSafetensors } from '@sparsevit/core';
import { describe, expect, it } from 'vitest';
import { loadTfjsBackend } from './load-model';
import { fixtureCases, maxAbsDiff, referenceTensors, tiny, tinyConfig } from './parity.test-helper';

// fp16 weights (what `sparsevit convert --fp16` writes: half the file) on tfjs-wasm: the logits
// stay within 1e-2 of the float32 PyTorch reference on every fixture case.
describe('float16 weights on TensorFlow.js (wasm)', () => {
  it('halve the file and keep logits within 1e-2 of the reference', async () => {
    const fp32 = readFileSync(tiny('weights.safetensors'));
    const store = convertStore(await readSafetensors(fp32), 'F16');
    const fp16 = writeSafetensors({ tensors: store.tensors, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(tinyConfig) } });
    expect(fp16.byteLength / fp32.byteLength).toBeLessThan(0.55);
    const backend = await loadTfjsBackend({ weights: fp16, backend: 'wasm' });
    try {
      for (const { name } of fixtureCases) {
        const ref = await referenceTensors(name);
        const out = await backend.runWithFeatures(ref.get('input')!.data, 1);
        expect(maxAbsDiff(out.logits, ref.get('logits')!.data), name).toBeLessThanOrEqual(1e-2);
      }
    } finally {
      await backend.dispose();
    }
  });
});
