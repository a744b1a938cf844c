import { readFileSync } from 'node:fs';
import { fixturePath, tinyCases } from '@sparsevit/fixtures';
import { prepareGraphWeights, readSafetensors, SparseViTError, toFloat32, validateConfig, type GraphWeights } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DTYPE_METADATA_KEY, lowerToOnnx, resolveDtype } from './lower-to-onnx';
import { isQ8MapWeight, isQ8Weight, quantizeInt8PerColumn } from './onnx-graph-builder';
import { onnx, type OnnxProto } from './onnx-proto';

// q8 against fp32 of the same weights, the tiny fixture's four cases (logits in [-1.9, 1.9]).
// Stages 1-2 are quantized too, and in this fixture they have 8 and 16 channels, far narrower
// than base's 64 and 128, so the error is larger than on base (max 8.1e-4, mean 2.7e-4 there).
// q8Target 'cpu' on ONNX Runtime CPU (AVX-512 VNNI), measured: max 1.3e-2..2.0e-2, mean
// 2.9e-3..3.4e-3, 2 of the 4096 logits (near 0) changed sign. Bounds: twice the largest figure.
const Q8_LOGITS_MAX = 4.1e-2;
const Q8_LOGITS_MEAN = 6.7e-3;
const Q8_SIGN_FLIPS = 4;
// q8Target 'wasm', the same weights quantized, its products on the NCHW map, measured on ONNX
// Runtime CPU: max 1.3e-2..2.0e-2, mean 2.9e-3..3.4e-3, 2 of the 4096 logits (near 0) changed
// sign. Bounds: max 4e-2, mean 7e-3, at most 4 signs.
const Q8_WASM_LOGITS_MAX = 4e-2;
const Q8_WASM_LOGITS_MEAN = 7e-3;
const Q8_WASM_SIGN_FLIPS = 4;

async function logitDiffs(a: Uint8Array, b: Uint8Array) {
  const sa = await ort.InferenceSession.create(a, { graphOptimizationLevel: 'all' });
  const sb = await ort.InferenceSession.create(b, { graphOptimizationLevel: 'all' });
  const out: Array<{ name: string; max: number; mean: number; flipped: number }> = [];
  for (const name of tinyCases) {
    const ref = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)));
    const input = new ort.Tensor('float32', toFloat32(ref.tensors.get('input')!), [1, 3, 512, 512]);
    const x = (await sa.run({ input }, ['logits'])).logits.data as Float32Array;
    const y = (await sb.run({ input }, ['logits'])).logits.data as Float32Array;
    let max = 0;
    let sum = 0;
    let flipped = 0;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]);
      max = Math.max(max, d);
      sum += d;
      if (x[i] > 0 !== y[i] > 0) flipped++;
    }
    out.push({ name, max, mean: sum / x.length, flipped });
  }
  await sa.release();
  await sb.release();
  return out;
}

const config = validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')));

describe('lowerToOnnx with dtype q8', () => {
  let weights: GraphWeights;
  let fp32: Uint8Array;
  let q8: Uint8Array;
  let graph: OnnxProto.IGraphProto;

  beforeAll(async () => {
    const store = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));
    weights = prepareGraphWeights(store, config);
    fp32 = lowerToOnnx(config, weights);
    q8 = lowerToOnnx(config, weights, { dtype: 'q8' });
    graph = onnx.ModelProto.decode(q8).graph!;
  });

  it('stores the linears and 1x1 convs of every block as int8 and everything else as float16', () => {
    const byName = new Map(graph.initializer!.map((t) => [t.name!, t]));
    const int8 = graph.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.INT8).map((t) => t.name!.replace(/\.int8$/, ''));
    const expected = [...weights.keys()].filter((name) => isQ8Weight(name) || isQ8MapWeight(name));
    // qkv, proj, fc1, fc2 of each of the 15 + 4 attention blocks; conv1, conv2, fc1, fc2 of each
    // of the 1 + 1 conv blocks.
    expect(expected).toHaveLength(4 * (config.depth[0] + config.depth[1] + config.depth[2] + config.depth[3]));
    expect(int8.sort()).toEqual(expected.sort());
    for (const name of expected) {
      expect(byName.has(name), `${name} has no float copy`).toBe(false);
      expect(byName.get(`${name}.scale`)!.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    }
    // Kept float (stored FLOAT16): the LFF head, every patch embedding, depthwise convs, norms.
    for (const name of ['lmu.conv_layer1.weight', 'lmu.conv_last.weight', 'encoder_net.patch_embed1.proj.weight', 'encoder_net.patch_embed2.proj.weight', 'encoder_net.blocks1.0.pos_embed.weight', 'encoder_net.blocks2.0.attn.weight', 'encoder_net.blocks3.0.norm1.weight', 'encoder_net.blocks3.0.mlp.dwconv.dwconv.weight']) {
      expect(byName.get(name)?.dataType, name).toBe(onnx.TensorProto.DataType.FLOAT16);
    }
    expect(q8.byteLength / fp32.byteLength).toBeLessThan(0.4);
  });

  it('quantizes activations dynamically into MatMulInteger and leaves the rest of the graph float', () => {
    const count = (op: string) => graph.node!.filter((n) => n.opType === op).length;
    const blocks = config.depth[2] + config.depth[3];
    const allBlocks = config.depth[0] + config.depth[1] + blocks;
    expect(count('MatMulInteger')).toBe(4 * allBlocks);
    expect(count('DynamicQuantizeLinear')).toBe(4 * allBlocks);
    expect(count('ConvInteger')).toBe(0);
    // Float products left: the two attention products per block and the LFF head's five linears.
    expect(count('MatMul')).toBe(2 * blocks + 5);
    for (const node of graph.node!.filter((n) => n.opType === 'MatMulInteger')) {
      expect(node.input![1]).toMatch(/^encoder_net\.(blocks[34]\.\d+\.(attn\.(qkv|proj)|mlp\.fc[12])|blocks[12]\.\d+\.(conv[12]|mlp\.fc[12]))\.weight\.int8$/);
    }
    // No value computed and left unused (the layout rewrites drop what they replace).
    const read = new Set([...graph.node!.flatMap((n) => n.input!), ...graph.output!.map((o) => o.name!)]);
    for (const node of graph.node!) for (const out of node.output!) expect(read.has(out), `${node.name} is unused`).toBe(true);
    expect(graph.node!.every((n) => !n.domain)).toBe(true);
    const meta = onnx.ModelProto.decode(q8).metadataProps!.find((p) => p.key === DTYPE_METADATA_KEY);
    expect(meta?.value).toBe('q8');
  });

  it(`stays within ${Q8_LOGITS_MAX} (max) and ${Q8_LOGITS_MEAN} (mean) of fp32 on ONNX Runtime CPU, at most ${Q8_SIGN_FLIPS} signs changed`, async () => {
    let flips = 0;
    for (const d of await logitDiffs(fp32, q8)) {
      expect(d.max, d.name).toBeLessThanOrEqual(Q8_LOGITS_MAX);
      expect(d.mean, d.name).toBeLessThanOrEqual(Q8_LOGITS_MEAN);
      flips += d.flipped;
    }
    expect(flips).toBeLessThanOrEqual(Q8_SIGN_FLIPS);
  });

  it('keeps the convolutional stages NHWC, with only transposes ONNX Runtime folds into its NCHWc reorders', () => {
    const readers = new Map<string, OnnxProto.INodeProto[]>();
    for (const n of graph.node!) for (const i of n.input!) readers.set(i, [...(readers.get(i) ?? []), n]);
    const producer = new Map(graph.node!.flatMap((n) => n.output!.map((o) => [o, n] as const)));
    const perm = (n: OnnxProto.INodeProto) => n.attribute!.find((a) => a.name === 'perm')!.ints!.map(Number).join(',');
    const transposes = graph.node!.filter((n) => n.opType === 'Transpose');
    // NHWC -> NCHW for a conv: read by that conv alone (ONNX Runtime then reorders straight from
    // NHWC). One per depthwise conv (2 per conv block, 1 per attention block's MLP) and per patch
    // embedding after the first.
    const toConv = transposes.filter((t) => perm(t) === '0,3,1,2' && readers.get(t.output![0])!.some((r) => r.opType === 'Conv'));
    for (const t of toConv) expect(readers.get(t.output![0])!.map((r) => r.opType)).toEqual(['Conv']);
    expect(toConv).toHaveLength(2 * (config.depth[0] + config.depth[1]) + config.depth[2] + config.depth[3] + 3);
    // NCHW -> NHWC: only of a conv's output, or of a GELU of one (ONNX Runtime reorders its NCHWc
    // result straight to NHWC): never of a sum, which would be a transpose of its own.
    for (const t of transposes.filter((n) => perm(n) === '0,2,3,1')) {
      let source = producer.get(t.input![0])!;
      // GELU ends in Mul(Mul(x, 1 + erf(.)), 0.5): its input x is two producers up.
      if (source.opType === 'Mul') source = producer.get(producer.get(source.input![0])!.input![0])!;
      expect(source.opType, t.name!).toBe('Conv');
    }
  });

  it('with q8Target wasm also runs the 1x1 convs of stages 1-2 as uint8 products on the map, within its bounds', async () => {
    const wasm = lowerToOnnx(config, weights, { dtype: 'q8', q8Target: 'wasm' });
    const g = onnx.ModelProto.decode(wasm).graph!;
    const uint8 = g.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.UINT8 && t.name!.endsWith('.uint8')).map((t) => t.name!.replace(/\.uint8$/, ''));
    const expected = [...weights.keys()].filter(isQ8MapWeight);
    expect(expected).toHaveLength(4 * (config.depth[0] + config.depth[1]));
    expect(uint8.sort()).toEqual(expected.sort());
    expect(g.node!.filter((n) => n.opType === 'MatMulInteger')).toHaveLength(4 * (config.depth[0] + config.depth[1] + config.depth[2] + config.depth[3]));
    // Stages 1-2 read their maps as [batch, C, H*W] with the weight on the left: no transposes.
    const producer = new Map(g.node!.flatMap((n) => n.output!.map((o) => [o, n] as const)));
    const onMap = g.node!.filter((n) => n.opType === 'MatMulInteger' && /^encoder_net\.blocks[12]\./.test(n.input![0]));
    expect(onMap).toHaveLength(4 * (config.depth[0] + config.depth[1]));
    for (const n of onMap) {
      const view = producer.get(producer.get(n.input![1])!.input![0])!;
      expect(view.opType).toBe('Reshape');
      expect(producer.get(view.input![0])?.opType).not.toBe('Transpose');
    }
    let flips = 0;
    for (const d of await logitDiffs(fp32, wasm)) {
      expect(d.max, d.name).toBeLessThanOrEqual(Q8_WASM_LOGITS_MAX);
      expect(d.mean, d.name).toBeLessThanOrEqual(Q8_WASM_LOGITS_MEAN);
      flips += d.flipped;
    }
    expect(flips).toBeLessThanOrEqual(Q8_WASM_SIGN_FLIPS);
  });
});

describe('quantizeInt8PerColumn', () => {
  it('maps each column symmetrically onto [-127, 127] with its own scale, within half a step', () => {
    // [3 rows, 2 columns]: column 0 spans +-2, column 1 is all zero.
    const w = Float32Array.from([2, 0, -1.5, 0, 0.5, 0]);
    const { data, scale } = quantizeInt8PerColumn(w, 3, 2);
    expect([...scale]).toEqual([Math.fround(2 / 127), 1]);
    expect([...data]).toEqual([127, 0, -95, 0, 32, 0]);
    for (let i = 0; i < w.length; i++) expect(Math.abs(data[i] * scale[i % 2] - w[i])).toBeLessThanOrEqual(scale[i % 2] / 2 + 1e-7);
  });

  it('reads an OIHW 1x1 conv weight [out, in] into [in, out] with one scale per output', () => {
    const w = Float32Array.from([1, -2, 4, 8]); // out 0: (1, -2), out 1: (4, 8)
    const { data, scale } = quantizeInt8PerColumn(w, 2, 2, true);
    expect([...scale]).toEqual([Math.fround(2 / 127), Math.fround(8 / 127)]);
    expect([...data]).toEqual([64, 64, -127, 127]);
  });
});

describe('resolveDtype', () => {
  it('maps weightStorage onto dtype and refuses unknown or contradicting values with a typed error', () => {
    expect(resolveDtype({})).toBe('fp32');
    expect(resolveDtype({ weightStorage: 'float16' })).toBe('fp16');
    expect(resolveDtype({ dtype: 'q8' })).toBe('q8');
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return error instanceof SparseViTError ? error.code : 'untyped';
      }
      return 'none';
    };
    expect(code(() => resolveDtype({ dtype: 'int4' as never }))).toBe('INVALID_ARGUMENT');
    expect(code(() => resolveDtype({ dtype: 'q8', weightStorage: 'float32' }))).toBe('INVALID_ARGUMENT');
  });
});
