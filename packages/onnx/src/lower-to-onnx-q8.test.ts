import { readFileSync } from 'node:fs';
import { fixturePath, tinyCases } from '@sparsevit/fixtures';
import { prepareGraphWeights, readSafetensors, SparseViTError, toFloat32, validateConfig, type GraphWeights } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { DTYPE_METADATA_KEY, lowerToOnnx, resolveDtype } from './lower-to-onnx';
import { isQ8Weight, quantizeInt8PerColumn } from './onnx-graph-builder';
import { onnx, type OnnxProto } from './onnx-proto';

// q8 against fp32 of the same weights, ONNX Runtime CPU, the tiny fixture's four cases (logits in
// [-1.9, 1.9]). Measured on AVX-512 VNNI: logits max |diff| 1.6e-3..2.1e-3, mean 3.5e-4..4.5e-4,
// every logit's sign the same. Bounds: twice the largest measured figure.
const Q8_LOGITS_MAX = 4.2e-3;
const Q8_LOGITS_MEAN = 9e-4;

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

  it('stores the attention stages linears as int8 and everything else as float16', () => {
    const byName = new Map(graph.initializer!.map((t) => [t.name!, t]));
    const int8 = graph.initializer!.filter((t) => t.dataType === onnx.TensorProto.DataType.INT8).map((t) => t.name!.replace(/\.int8$/, ''));
    const expected = [...weights.keys()].filter(isQ8Weight);
    // qkv, proj, fc1, fc2 of each of the 15 + 4 attention blocks.
    expect(expected).toHaveLength(4 * (config.depth[2] + config.depth[3]));
    expect(int8.sort()).toEqual(expected.sort());
    for (const name of expected) {
      expect(byName.has(name), `${name} has no float copy`).toBe(false);
      expect(byName.get(`${name}.scale`)!.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
    }
    // Kept float (stored FLOAT16): the LFF head, every patch embedding, stages 1 and 2, norms.
    for (const name of ['lmu.conv_layer1.weight', 'lmu.conv_last.weight', 'encoder_net.patch_embed1.proj.weight', 'encoder_net.blocks1.0.conv1.weight', 'encoder_net.blocks2.0.mlp.fc1.weight', 'encoder_net.blocks3.0.norm1.weight', 'encoder_net.blocks3.0.mlp.dwconv.dwconv.weight']) {
      expect(byName.get(name)?.dataType, name).toBe(onnx.TensorProto.DataType.FLOAT16);
    }
    expect(q8.byteLength / fp32.byteLength).toBeLessThan(0.4);
  });

  it('quantizes activations dynamically into MatMulInteger and leaves the rest of the graph float', () => {
    const count = (op: string) => graph.node!.filter((n) => n.opType === op).length;
    const blocks = config.depth[2] + config.depth[3];
    expect(count('MatMulInteger')).toBe(4 * blocks);
    expect(count('DynamicQuantizeLinear')).toBe(4 * blocks);
    expect(count('ConvInteger')).toBe(0);
    // Float products left: the two attention products per block and the LFF head's five linears.
    expect(count('MatMul')).toBe(2 * blocks + 5);
    for (const node of graph.node!.filter((n) => n.opType === 'MatMulInteger')) {
      expect(node.input![1]).toMatch(/^encoder_net\.blocks[34]\.\d+\.(attn\.(qkv|proj)|mlp\.fc[12])\.weight\.int8$/);
    }
    // No value computed and left unused (the layout rewrites drop what they replace).
    const read = new Set([...graph.node!.flatMap((n) => n.input!), ...graph.output!.map((o) => o.name!)]);
    for (const node of graph.node!) for (const out of node.output!) expect(read.has(out), `${node.name} is unused`).toBe(true);
    expect(graph.node!.every((n) => !n.domain)).toBe(true);
    const meta = onnx.ModelProto.decode(q8).metadataProps!.find((p) => p.key === DTYPE_METADATA_KEY);
    expect(meta?.value).toBe('q8');
  });

  it(`stays within ${Q8_LOGITS_MAX} (max) and ${Q8_LOGITS_MEAN} (mean) of fp32 on ONNX Runtime CPU, every logit's sign kept`, async () => {
    const s32 = await ort.InferenceSession.create(fp32, { graphOptimizationLevel: 'all' });
    const s8 = await ort.InferenceSession.create(q8, { graphOptimizationLevel: 'all' });
    for (const name of tinyCases) {
      const ref = await readSafetensors(readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`)));
      const input = new ort.Tensor('float32', toFloat32(ref.tensors.get('input')!), [1, 3, 512, 512]);
      const a = (await s32.run({ input }, ['logits'])).logits.data as Float32Array;
      const b = (await s8.run({ input }, ['logits'])).logits.data as Float32Array;
      let max = 0;
      let sum = 0;
      let flipped = 0;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]);
        max = Math.max(max, d);
        sum += d;
        if (a[i] > 0 !== b[i] > 0) flipped++;
      }
      expect(max, name).toBeLessThanOrEqual(Q8_LOGITS_MAX);
      expect(sum / a.length, name).toBeLessThanOrEqual(Q8_LOGITS_MEAN);
      expect(flipped, name).toBe(0);
    }
    await s32.release();
    await s8.release();
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
