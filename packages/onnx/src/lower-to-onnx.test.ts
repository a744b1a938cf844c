import { readFileSync } from 'node:fs';
import { fixturePath, tinyCases } from '@sparsevit/fixtures';
import { FEATURE_NAMES, prepareGraphWeights, readSafetensors, toFloat32, validateConfig } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { lowerToOnnx, ONNX_OPSET, readOnnxConfig } from './lower-to-onnx';
import { onnx } from './onnx-proto';

// Parity with the authors' PyTorch implementation (fixtures made with it, see
// tooling/fixtures/README.md), through ONNX Runtime's CPU provider with full graph optimisation.
// Tolerances: logits 1e-4, each backbone feature 2e-4, prob512 1e-4 (float32 reordering only;
// measured ~1e-6 and ~3e-6).
const LOGITS_TOLERANCE = 1e-4;
const FEATURE_TOLERANCE = 2e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const config = validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')));

describe('lowerToOnnx on the tiny fixture model', () => {
  let model: Uint8Array;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    const store = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));
    model = lowerToOnnx(config, prepareGraphWeights(store, config), { features: true });
    session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  });

  it('emits a standard opset-17 model with a dynamic batch axis and the config in its metadata', async () => {
    const decoded = onnx.ModelProto.decode(model);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(decoded.graph!.input![0].type?.tensorType?.shape?.dim?.[0].dimParam).toBe('batch');
    const opTypes = new Set(decoded.graph!.node!.map((n) => n.opType));
    // Standard ops only (no contrib domain), BatchNorm folded away, LayerNorm as one op.
    expect(opTypes.has('BatchNormalization')).toBe(false);
    expect(opTypes.has('LayerNormalization')).toBe(true);
    expect(decoded.graph!.node!.every((n) => !n.domain)).toBe(true);
    expect(await readOnnxConfig(model)).toEqual(config);
    expect(decoded.graph!.output!.map((o) => o.name)).toEqual(['logits', 'probability', ...FEATURE_NAMES]);
  });

  for (const name of tinyCases) {
    it(`${name}: logits, prob512 and the six features match PyTorch`, async () => {
      const ref = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)));
      const input = toFloat32(ref.tensors.get('input')!);
      const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 512, 512]) });
      expect(out.logits.dims).toEqual([1, 1, 32, 32]);
      expect(maxAbsDiff(out.logits.data as Float32Array, toFloat32(ref.tensors.get('logits')!))).toBeLessThanOrEqual(LOGITS_TOLERANCE);
      expect(maxAbsDiff(out.probability.data as Float32Array, toFloat32(ref.tensors.get('prob512')!))).toBeLessThanOrEqual(LOGITS_TOLERANCE);
      for (const feature of FEATURE_NAMES) {
        const expected = ref.tensors.get(`feature.${feature}`)!;
        expect(out[feature].dims).toEqual(expected.shape);
        expect(maxAbsDiff(out[feature].data as Float32Array, toFloat32(expected)), feature).toBeLessThanOrEqual(FEATURE_TOLERANCE);
      }
    });
  }

  it('runs a batch of four in one pass with the same numbers as one at a time', async () => {
    const inputs = await Promise.all(
      tinyCases.map(async (name) => toFloat32((await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)))).tensors.get('input')!)),
    );
    const batch = new Float32Array(4 * 3 * 512 * 512);
    inputs.forEach((x, i) => batch.set(x, i * x.length));
    const out = await session.run({ input: new ort.Tensor('float32', batch, [4, 3, 512, 512]) }, ['logits']);
    expect(out.logits.dims).toEqual([4, 1, 32, 32]);
    for (let i = 0; i < 4; i++) {
      const single = await session.run({ input: new ort.Tensor('float32', inputs[i], [1, 3, 512, 512]) }, ['logits']);
      const slice = (out.logits.data as Float32Array).subarray(i * 1024, (i + 1) * 1024);
      expect(maxAbsDiff(slice, single.logits.data as Float32Array)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('stores float16 weights in half the bytes and stays within 1e-2 of float32', async () => {
    const store = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));
    const half = lowerToOnnx(config, prepareGraphWeights(store, config), { weightStorage: 'float16' });
    expect(half.byteLength / model.byteLength).toBeLessThan(0.55);
    const halfSession = await ort.InferenceSession.create(half, { graphOptimizationLevel: 'all' });
    for (const name of tinyCases) {
      const ref = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)));
      const input = new ort.Tensor('float32', toFloat32(ref.tensors.get('input')!), [1, 3, 512, 512]);
      const out = await halfSession.run({ input }, ['logits']);
      expect(maxAbsDiff(out.logits.data as Float32Array, toFloat32(ref.tensors.get('logits')!))).toBeLessThanOrEqual(1e-2);
    }
    await halfSession.release();
  });
});
