import { existsSync, readFileSync, rmSync } from 'node:fs';
import { compareMaps, fixturePath } from '@sparsevit/fixtures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSparseViTError, readSafetensors, SparseViTError, toFloat32 } from '@sparsevit/core';
import { loadModel, type NodeSparseViTModel } from './load-model';

// End to end from the fixture PNGs (decode with sharp, preprocess, ONNX Runtime CPU, Lanczos
// resample) against the reference `prob_full` made with the authors' PyTorch pipeline.
// Bounds from the issue: mean abs diff <= 1e-3, max <= 0.02, 0.5-threshold masks agree on >= 99.5%
// of pixels (measured: mean ~4e-8, max ~3e-7, 100%).
const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
const config = JSON.parse(readFileSync(tiny('config.json'), 'utf8'));
const cases = JSON.parse(readFileSync(tiny('fixture.json'), 'utf8')).cases as Array<{ name: string; image: string; width: number; height: number }>;

async function expectPipelineParity(model: NodeSparseViTModel, options: { concurrent?: boolean } = {}) {
  // Concurrent: every case's detect is called before any resolves, as a service's requests are.
  const results = options.concurrent
    ? await Promise.all(cases.map((c) => model.detect(tiny('images', c.image))))
    : [];
  for (const [i, c] of cases.entries()) {
    const result = options.concurrent ? results[i] : await model.detect(tiny('images', c.image));
    const reference = toFloat32((await readSafetensors(readFileSync(tiny(`${c.name}.safetensors`)))).tensors.get('prob_full')!);
    expect([result.width, result.height]).toEqual([c.width, c.height]);
    expect(result.probability.length).toBe(reference.length);
    const d = compareMaps(result.probability, reference);
    expect(d.mean, c.name).toBeLessThanOrEqual(1e-3);
    expect(d.max, c.name).toBeLessThanOrEqual(0.02);
    expect(d.agreement, c.name).toBeGreaterThanOrEqual(0.995);
    // The mask is the same 0.5 threshold of the same map.
    expect(result.mask.every((m, i) => m === (result.probability[i] > 0.5 ? 1 : 0))).toBe(true);
    // The score is the maximum of the network-resolution map.
    expect(result.score).toBe(result.networkProbability.reduce((a, b) => Math.max(a, b), -Infinity));
  }
}

describe('loadModel + detect on the tiny fixture model (ONNX Runtime CPU)', () => {
  let fromPth: NodeSparseViTModel;

  beforeAll(async () => {
    fromPth = await loadModel({ weights: tiny('checkpoint.pth'), config });
  });
  afterAll(() => fromPth?.dispose());

  it('matches the reference from the authors’ .pth checkpoint', async () => {
    expect(fromPth.backend).toBe('onnxruntime-node');
    expect(fromPth.device).toBe('cpu');
    await expectPipelineParity(fromPth);
  });

  it('gives each of concurrent detect calls its own image’s result (no call preprocesses into the input ONNX Runtime is still reading)', async () => {
    // Before the fix, the 8 concurrent calls' maps differed from the reference by up to 0.67.
    for (let round = 0; round < 3; round++) await expectPipelineParity(fromPth, { concurrent: true });
  });

  it('matches the reference from .safetensors bytes, with the config given as an object', async () => {
    const model = await loadModel({ weights: readFileSync(tiny('weights.safetensors')), config });
    try {
      await expectPipelineParity(model);
    } finally {
      await model.dispose();
    }
  });

  it('takes the config as the path of a JSON file too, with typed errors for a bad one', async () => {
    const model = await loadModel({ weights: tiny('weights.safetensors'), config: tiny('config.json') });
    try {
      expect(model.config).toEqual(config);
      await expectPipelineParity(model);
    } finally {
      await model.dispose();
    }
    await expect(loadModel({ weights: tiny('weights.safetensors'), config: tiny('missing-config.json') })).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(loadModel({ weights: tiny('weights.safetensors'), config: tiny('weights.safetensors') })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    // A bare word is a preset name, and an unknown one is core's INVALID_CONFIG listing the presets.
    await expect(loadModel({ weights: tiny('weights.safetensors'), config: 'huge' })).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/base/) });
  });

  it('detectBatch keeps order, runs batches, and records failures without losing the others', async () => {
    const inputs = [
      tiny('images', cases[0].image),
      new Uint8Array(0),
      readFileSync(tiny('images', cases[1].image)),
      readFileSync(tiny('images', cases[2].image)).subarray(0, 2000),
      Buffer.from('definitely not an image'),
      tiny('images', 'no-such-file.png'),
      tiny('images', cases[3].image),
    ];
    const progress: number[] = [];
    const outcomes = await fromPth.detectBatch(inputs, { batchSize: 2, onProgress: (done) => progress.push(done) });
    expect(outcomes.map((o) => o.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, false, false, false, true]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const codes = outcomes.map((o) => (o.ok ? null : o.error.code));
    expect(codes).toEqual([null, 'INVALID_IMAGE', null, 'INVALID_IMAGE', 'INVALID_IMAGE', 'IO_ERROR', null]);
    const single = await fromPth.detect(inputs[2]);
    const batched = outcomes[2].ok ? outcomes[2].result : undefined;
    expect(batched).toBeDefined();
    let max = 0;
    for (let i = 0; i < single.probability.length; i++) max = Math.max(max, Math.abs(single.probability[i] - batched!.probability[i]));
    expect(max).toBeLessThanOrEqual(1e-5);
  });

  it('rejects bad images with typed errors', async () => {
    const png = readFileSync(tiny('images', cases[0].image));
    const expectCode = async (input: Parameters<NodeSparseViTModel['detect']>[0], code: string, options?: { maxPixels?: number }) => {
      const model = options ? await loadModel({ weights: tiny('checkpoint.pth'), config, ...options }) : fromPth;
      const error = await model.detect(input).then(() => undefined, (e: unknown) => e);
      if (options) await model.dispose();
      expect(isSparseViTError(error), String(error)).toBe(true);
      expect((error as SparseViTError).code).toBe(code);
      return error as SparseViTError;
    };
    expect((await expectCode(new Uint8Array(0), 'INVALID_IMAGE')).message).toMatch(/empty/);
    await expectCode(Buffer.from('%PDF-1.4 not an image at all'), 'INVALID_IMAGE');
    await expectCode(png.subarray(0, png.length >> 1), 'INVALID_IMAGE');
    // A JPEG cut in the middle of its entropy-coded data.
    const { default: sharp } = await import('sharp');
    const jpeg = await sharp(png).jpeg({ quality: 90 }).toBuffer();
    await expectCode(jpeg.subarray(0, jpeg.length >> 1), 'INVALID_IMAGE');
    // 640 x 480 = 307200 pixels, over a limit of 300000: refused from the header.
    expect((await expectCode(png, 'IMAGE_TOO_LARGE', { maxPixels: 300_000 })).message).toMatch(/307200|640/);
    // Raw pixels whose buffer does not match their declared size.
    await expectCode({ data: new Uint8Array(10), width: 4, height: 4, channels: 3 }, 'INVALID_IMAGE');
    // What JavaScript can pass that is no input at all: named in the message, not a TypeError's.
    for (const [input, named] of [[undefined, 'undefined'], [null, 'null'], [42, 'number'], [new ArrayBuffer(8), 'object']] as const) {
      expect((await expectCode(input as unknown as string, 'INVALID_IMAGE')).message).toContain(`unsupported input (${named})`);
    }
  });

  it('answers detectBatch and detectStream given no list with INVALID_ARGUMENT, and a bad thread count too', async () => {
    const batch = fromPth.detectBatch as (inputs: unknown, opts?: unknown) => Promise<unknown>;
    for (const inputs of [undefined, null, 42, tiny('images', cases[0].image)]) {
      await expect(batch(inputs)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('take a list of inputs') });
    }
    const stream = fromPth.detectStream as (inputs: unknown) => AsyncGenerator<unknown>;
    await expect(stream(42).next()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // Options given as null are the defaults, as undefined is.
    const [outcome] = (await batch([tiny('images', cases[0].image)], null)) as Array<{ ok: boolean }>;
    expect(outcome.ok).toBe(true);
    await expect(loadModel({ weights: tiny('weights.safetensors'), config, intraOpNumThreads: -2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('intraOpNumThreads') });
  });

  it('rejects a bad threshold and use after dispose', async () => {
    const model = await loadModel({ weights: tiny('weights.safetensors'), config });
    await expect(model.detect(tiny('images', cases[0].image), { threshold: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await model.dispose();
    await expect(model.detect(tiny('images', cases[0].image))).rejects.toMatchObject({ code: 'DISPOSED' });
  });
});

describe('loadModel with bad weights', () => {
  it('refuses a checkpoint whose pickle would call os.system, without running it', async () => {
    const marker = '/tmp/sparsevit-hostile-marker';
    rmSync(marker, { force: true });
    const error = await loadModel({ weights: fixturePath('hostile', 'os-system.pth') }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNSAFE_CHECKPOINT' });
    expect((error as Error).message).toMatch(/posix\.system|posix system/);
    expect(existsSync(marker)).toBe(false);
  });

  it('answers a missing options object or weights with INVALID_ARGUMENT, not a TypeError', async () => {
    const load = loadModel as (options: unknown) => Promise<unknown>;
    for (const options of [undefined, null, tiny('weights.safetensors')]) {
      await expect(load(options)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('loadModel takes an options object') });
    }
    for (const weights of [undefined, null, 42, { path: 'w.safetensors' }]) {
      await expect(load({ weights, config })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('weights must be a file path or the file') });
    }
  });

  it('reports truncated, empty and missing weight files with typed errors', async () => {
    const pth = readFileSync(tiny('checkpoint.pth'));
    await expect(loadModel({ weights: pth.subarray(0, pth.length - 100), config })).rejects.toMatchObject({ code: 'CORRUPT_WEIGHTS' });
    await expect(loadModel({ weights: new Uint8Array(0), config })).rejects.toMatchObject({ code: 'CORRUPT_WEIGHTS' });
    await expect(loadModel({ weights: tiny('missing.safetensors'), config })).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('explains how to get CUDA when its provider is not installed, and falls back only when asked', async () => {
    const error = await loadModel({ weights: tiny('weights.safetensors'), config, device: 'cuda' }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/);
    const warnings: string[] = [];
    const model = await loadModel({ weights: tiny('weights.safetensors'), config, device: 'cuda', fallbackToCpu: true, onWarning: (m) => warnings.push(m) });
    expect(model.device).toBe('cpu');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cuda is not available, running on the CPU/);
    await model.dispose();
  });
});
