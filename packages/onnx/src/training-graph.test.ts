import { readFileSync } from 'node:fs';
import { fixturePath, tinyCases } from '@sparsevit/fixtures';
import { bilinearResizeMatrix, prepareGraphWeights, readSafetensors, toFloat32, validateConfig, type GraphWeights } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { onnx } from './onnx-proto';
import { DifferentiableOnnxOps, gradientName, lowerTrainingGraph } from './training-graph';

const config = validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function feeds(weights: GraphWeights, names: readonly { name: string; shape: readonly number[] }[], input: Float32Array, mask: Float32Array, n: number) {
  const s = config.img_size;
  const out: Record<string, ort.Tensor> = {
    input: new ort.Tensor('float32', input, [n, 3, s, s]),
    mask: new ort.Tensor('float32', mask, [n, 1, s, s]),
  };
  for (const w of names) out[w.name] = new ort.Tensor('float32', weights.get(w.name)!.data, [...w.shape]);
  return out;
}

describe('lowerTrainingGraph', () => {
  let weights: GraphWeights;
  beforeAll(async () => {
    const store = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));
    weights = prepareGraphWeights(store, config);
  });

  it('runs the forward pass of PyTorch (logits and probability within 1e-4 of the fixtures), with the weights as inputs', async () => {
    // The gradients themselves are checked against tfjs and finite differences in @sparsevit/train.
    const { model, weights: inputs } = lowerTrainingGraph(config, weights, { batch: 1, gradients: false });
    const decoded = onnx.ModelProto.decode(model);
    expect(decoded.graph!.initializer!.some((t) => weights.has(t.name!))).toBe(false);
    expect(inputs.map((w) => w.name).sort()).toEqual([...weights.keys()].sort());
    expect(decoded.graph!.output!.map((o) => o.name)).toEqual(['loss', 'logits', 'probability']);
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
    for (const name of tinyCases.slice(0, 2)) {
      const ref = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)));
      const input = toFloat32(ref.tensors.get('input')!);
      const out = await session.run(feeds(weights, inputs, input, new Float32Array(512 * 512), 1));
      expect(maxAbsDiff(out.logits.data as Float32Array, toFloat32(ref.tensors.get('logits')!))).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(out.probability.data as Float32Array, toFloat32(ref.tensors.get('prob512')!))).toBeLessThanOrEqual(1e-4);
      // The loss with an empty mask is the mean of softplus(z) over the upsampled logits z = logit(p).
      const p = out.probability.data as Float32Array;
      let expected = 0;
      for (const v of p) expected += -Math.log(1 - v);
      expect(Math.abs((out.loss.data as Float32Array)[0] - expected / p.length)).toBeLessThanOrEqual(1e-5);
    }
    await session.release();
  });

  it('has one gradient output per weight input, of its shape', () => {
    const { model, weights: inputs } = lowerTrainingGraph(config, weights, { batch: 2, loss: 'bce+dice' });
    const outputs = onnx.ModelProto.decode(model).graph!.output!;
    for (const w of inputs) {
      const out = outputs.find((o) => o.name === gradientName(w.name));
      expect(out?.type?.tensorType?.shape?.dim?.map((d) => Number(d.dimValue)), w.name).toEqual([...w.shape]);
    }
  });

  it('differentiates a resize through the matrix of F.interpolate(bilinear, align_corners=False): ONNX Resize applies the same matrix (<= 1e-6)', async () => {
    // 4 -> 16 (the head's upsampling) and 5 -> 3 (a downsampling, for the clamped edges).
    for (const [from, to] of [[4, 16], [5, 3]] as const) {
      const x = Float32Array.from({ length: from * from }, (_, i) => Math.sin(i * 1.7));
      const m = bilinearResizeMatrix(from, to);
      const want = new Float32Array(to * to);
      for (let r = 0; r < to; r++) for (let c = 0; c < to; c++) {
        let sum = 0;
        for (let i = 0; i < from; i++) for (let j = 0; j < from; j++) sum += m[r * from + i] * x[i * from + j] * m[c * from + j];
        want[r * to + c] = sum;
      }
      const ops = new DifferentiableOnnxOps(new Map());
      const b = ops.builder;
      const y = ops.resizeBilinear(ops.input('x', [1, 1, from, from]), [from, from], [to, to]);
      b.nodes.push({ opType: 'Identity', name: 'out', input: [y], output: ['y'] });
      const graph = b.liveGraph(['y']);
      const model = onnx.ModelProto.encode({
        irVersion: 8,
        opsetImport: [{ domain: '', version: 17 }],
        graph: {
          name: 'resize',
          node: graph.nodes,
          initializer: graph.initializers,
          input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [1, 1, from, from].map((d) => ({ dimValue: d })) } } } }],
          output: [{ name: 'y', type: { tensorType: { elemType: 1 } } }],
        },
      }).finish();
      const session = await ort.InferenceSession.create(model);
      const out = await session.run({ x: new ort.Tensor('float32', x, [1, 1, from, from]) });
      expect(maxAbsDiff(out.y.data as Float32Array, want), `${from} -> ${to}`).toBeLessThanOrEqual(1e-6);
      await session.release();
    }
  });

  it('refuses a convolution it has no derivative for, by name', () => {
    const w = new Map([['w', { shape: [4, 4, 3, 3], data: new Float32Array(144) }]]);
    const ops = new DifferentiableOnnxOps(w);
    const y = ops.conv2d(ops.input('x', [1, 4, 8, 8]), ops.weight('w'), undefined, { stride: 2, padding: 1, groups: 1 });
    expect(() => ops.gradients(new Map([[y, 'g']]), ['w'])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('3x3 conv with stride 2') }));
  });

  it('refuses a bad batch or loss with a typed error', () => {
    expect(() => lowerTrainingGraph(config, weights, { batch: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => lowerTrainingGraph(config, weights, { batch: 1, loss: 'l2' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
