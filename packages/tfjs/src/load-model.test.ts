import { readFileSync } from 'node:fs';
import { writeSafetensors, type RawImage } from '@sparsevit/core';
import { buildOnnxModel } from '@sparsevit/onnx';
import { bytesSource } from '@sparsevit/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type TfjsSparseViTModel } from './load-model';
import { fixtureCases, referenceTensors, tiny, tinyConfig as config } from './parity.test-helper';
import { compareMaps } from '@sparsevit/fixtures';

// End to end on the wasm backend: pixels (decoded here with sharp, as stored: gray stays one
// channel, alpha is kept) -> core preprocessing -> tfjs -> Lanczos resample, against the reference
// `prob_full` of the authors' PyTorch pipeline. Bounds: mean abs diff <= 1e-3, max <= 0.02, masks
// at 0.5 agree on >= 99.5% of pixels.
async function pixels(file: string): Promise<RawImage> {
  const { data, info } = await sharp(tiny('images', file)).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
}

describe('loadModel + detect on the tiny fixture model (tfjs wasm)', () => {
  let model: TfjsSparseViTModel;
  const images = new Map<string, RawImage>();

  beforeAll(async () => {
    model = await loadModel({ weights: tiny('checkpoint.pth'), config, backend: 'wasm' });
    for (const c of fixtureCases) images.set(c.name, await pixels(c.image));
  });
  afterAll(() => model?.dispose());

  it('matches the reference prob_full from the authors’ .pth checkpoint', async () => {
    expect([model.backend, model.device]).toEqual(['tfjs', 'wasm']);
    const measured: Record<string, { mean: number; max: number; agree: number }> = {};
    for (const c of fixtureCases) {
      const result = await model.detect(images.get(c.name)!);
      const reference = (await referenceTensors(c.name)).get('prob_full')!.data;
      expect([result.width, result.height]).toEqual([c.width, c.height]);
      expect(result.probability.length).toBe(reference.length);
      const d = compareMaps(result.probability, reference);
      measured[c.name] = { mean: d.mean, max: d.max, agree: d.agreement };
      expect(d.mean, c.name).toBeLessThanOrEqual(1e-3);
      expect(d.max, c.name).toBeLessThanOrEqual(0.02);
      expect(d.agreement, c.name).toBeGreaterThanOrEqual(0.995);
    }
    console.log('tfjs-wasm end to end vs prob_full', measured);
  });

  it('leaks no tensor: 50 detections leave the tensor count where the first left it', async () => {
    const { tf } = await import('./tfjs-runtime.test-helper');
    const image = images.get('case2')!;
    await model.detect(image);
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < 50; i++) await model.detect(image);
    expect(tf.memory().numTensors).toBe(after1);
  }, 600_000); // 50 forward passes: ~25 s on two idle cores

  it('runs batches: detectBatch equals detect image by image', async () => {
    const inputs = fixtureCases.slice(0, 3).map((c) => images.get(c.name)!);
    const outcomes = await model.detectBatch(inputs, { batchSize: 2 });
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, true]);
    const single = await model.detect(inputs[1]);
    const batched = outcomes[1].ok ? outcomes[1].result : undefined;
    let max = 0;
    for (let i = 0; i < single.probability.length; i++) max = Math.max(max, Math.abs(single.probability[i] - batched!.probability[i]));
    expect(max).toBeLessThanOrEqual(1e-5);
  });

  it('refuses encoded images without a decoder, bad pixels and oversized images with typed errors', async () => {
    await expect(model.detect(readFileSync(tiny('images', fixtureCases[0].image)) as unknown as RawImage)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    await expect(model.detect({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 })).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    const small = await loadModel({ weights: tiny('weights.safetensors'), config, maxPixels: 300_000 });
    await expect(small.detect(images.get('case0')!)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    await small.dispose();
  });

  it('takes a custom decoder for encoded inputs', async () => {
    const decoding = await loadModel<string>({ weights: tiny('weights.safetensors'), config, decode: (file) => pixels(file) });
    const result = await decoding.detect(fixtureCases[3].image);
    const direct = await model.detect(images.get('case3')!);
    expect(Array.from(result.probability.subarray(0, 1000))).toEqual(Array.from(direct.probability.subarray(0, 1000)));
    await decoding.dispose();
  });
});

describe('loadModel: weights, backends and disposal', () => {
  it('answers a missing options object or weights with INVALID_ARGUMENT, not a TypeError', async () => {
    const load = loadModel as (options: unknown) => Promise<unknown>;
    for (const options of [undefined, null, 'weights.safetensors']) {
      await expect(load(options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('loadModel takes an options object') });
    }
    for (const weights of [undefined, null, 42]) {
      await expect(load({ weights, config })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('weights must be') });
    }
  });

  it('frees every weight tensor on dispose and refuses use afterwards', async () => {
    const { tf } = await import('./tfjs-runtime.test-helper');
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const model = await loadModel({ weights: new Blob([readFileSync(tiny('weights.safetensors'))]), config });
    expect(tf.memory().numTensors).toBeGreaterThan(before + 100);
    await model.detect({ data: new Uint8Array(64 * 48 * 3).fill(128), width: 64, height: 48, channels: 3 });
    await model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(model.detect({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 })).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('takes the config from the weights’ metadata', async () => {
    const bytes = readFileSync(tiny('weights.safetensors'));
    const { readSafetensors, CONFIG_METADATA_KEY } = await import('@sparsevit/core');
    const store = await readSafetensors(bytes);
    const withConfig = writeSafetensors({ tensors: store.tensors, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(config) } });
    const model = await loadModel({ weights: withConfig });
    expect(model.config).toEqual(config);
    await model.dispose();
  });

  it('refuses .onnx files, pointing to the ONNX Runtime adapters', async () => {
    const { model: onnxBytes } = await buildOnnxModel(bytesSource(readFileSync(tiny('weights.safetensors'))), { config });
    const error = await loadModel({ weights: onnxBytes, config }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSUPPORTED_FORMAT' });
    expect((error as Error).message).toMatch(/@sparsevit\/node/);
  });

  it('reports truncated, empty and missing weight files with typed errors', async () => {
    const pth = readFileSync(tiny('checkpoint.pth'));
    await expect(loadModel({ weights: pth.subarray(0, pth.length - 100), config })).rejects.toMatchObject({ code: 'CORRUPT_WEIGHTS' });
    await expect(loadModel({ weights: new Uint8Array(0), config })).rejects.toMatchObject({ code: 'CORRUPT_WEIGHTS' });
    await expect(loadModel({ weights: tiny('missing.safetensors'), config })).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('says why a backend is unavailable', async () => {
    // WebGL needs a browser; this package is installed but cannot start in Node.
    const webgl = await loadModel({ weights: tiny('weights.safetensors'), config, backend: 'webgl' }).then(() => undefined, (e: unknown) => e);
    expect(webgl).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((webgl as Error).message).toMatch(/webgl/i);
    const unknown = await loadModel({ weights: tiny('weights.safetensors'), config, backend: 'tpu' }).then(() => undefined, (e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((unknown as Error).message).toMatch(/"tpu" is not registered/);
  });
});
