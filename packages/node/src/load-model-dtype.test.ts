import { readFileSync } from 'node:fs';
import { compareMaps, fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { isSparseViTError, prepareGraphWeights, readSafetensors, validateConfig } from '@sparsevit/core';
import { lowerToOnnx } from '@sparsevit/onnx';
import { loadModel } from './load-model';

// `dtype: 'q8'` through the whole pipeline (decode, ONNX Runtime CPU, resample) against `fp32` of
// the same weights, on the fixture images. The tiny fixture's convolutional stages have 8 and 16
// channels, so their int8 products err more than base's 64 and 128. Measured: probability max
// |diff| 3.1e-3..5.0e-3, mean 5.1e-4..6.0e-4, 99.885%..99.947% of the 0.5-threshold mask pixels
// the same. Bounds: max 1e-2 (twice the largest), masks >= 99.77% equal (twice the largest share
// that differed).
const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
const config = validateConfig(JSON.parse(readFileSync(tiny('config.json'), 'utf8')));
const images = JSON.parse(readFileSync(tiny('fixture.json'), 'utf8')).cases.map((c: { image: string }) => tiny('images', c.image)) as string[];

describe('loadModel dtype', () => {
  it('q8 gives the fp32 maps within 1e-2 and masks 99.77% the same', async () => {
    const fp32 = await loadModel({ weights: tiny('weights.safetensors'), config });
    const q8 = await loadModel({ weights: tiny('weights.safetensors'), config, dtype: 'q8' });
    try {
      for (const image of images) {
        const [a, b] = [await fp32.detect(image), await q8.detect(image)];
        const d = compareMaps(b.probability, a.probability);
        expect(d.max, image).toBeLessThanOrEqual(1e-2);
        let same = 0;
        for (let i = 0; i < a.mask.length; i++) same += a.mask[i] === b.mask[i] ? 1 : 0;
        expect(same / a.mask.length, image).toBeGreaterThanOrEqual(0.9977);
      }
    } finally {
      await fp32.dispose();
      await q8.dispose();
    }
  });

  it('refuses an unknown dtype, and one an .onnx file was not exported with, with typed errors', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => (isSparseViTError(e) ? e.code : 'untyped'));
    expect(await code(loadModel({ weights: tiny('weights.safetensors'), config, dtype: 'int4' as never }))).toBe('INVALID_ARGUMENT');
    const store = await readSafetensors(readFileSync(tiny('weights.safetensors')));
    const q8File = lowerToOnnx(config, prepareGraphWeights(store, config), { dtype: 'q8' });
    expect(await code(loadModel({ weights: q8File, dtype: 'fp32' }))).toBe('INVALID_ARGUMENT');
    const model = await loadModel({ weights: q8File, dtype: 'q8' });
    await model.dispose();
  });
});
