import { randomStateDict } from '@sparsevit/fixtures';
import { BASE_CONFIG, bytesSource, CONFIG_METADATA_KEY, writeSafetensors, type WeightTensor } from '@sparsevit/core';
import { buildOnnxModel } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load-model';

// The published configuration at full size: weights of every shape the authors' model has
// (`sparsevit-base/state_dict_keys.json`, dumped from the reference), filled with seeded noise
// (`randomStateDict`) and written with our own safetensors writer. No trained weights are shipped; this checks that a
// full-size checkpoint maps onto the graph key for key, lowers, and runs.
const tensors = randomStateDict('sparsevit-base') as Map<string, WeightTensor>;
const metadata = { [CONFIG_METADATA_KEY]: JSON.stringify(BASE_CONFIG) };

describe('the full-size (base) model', () => {
  it('loads weights of every published shape, lowers them and produces a [1,1,32,32] logit map at 512x512', async () => {
    const file = writeSafetensors({ tensors, metadata });
    const { model, config } = await buildOnnxModel(bytesSource(file));
    expect(config).toEqual(BASE_CONFIG);
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
    const input = new Float32Array(3 * 512 * 512).map((_, i) => Math.sin(i * 0.001));
    const out = await session.run({ input: new ort.Tensor('float32', input, [1, 3, 512, 512]) });
    expect(out.logits.dims).toEqual([1, 1, 32, 32]);
    expect(out.probability.dims).toEqual([1, 1, 512, 512]);
    expect((out.logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    await session.release();
  });

  const mutations: Array<[string, (t: Map<string, WeightTensor>) => void, RegExp]> = [
    [
      'a renamed key',
      (t) => {
        t.set('encoder_net.blocks3.7.attn.qkv.weights', t.get('encoder_net.blocks3.7.attn.qkv.weight')!);
        t.delete('encoder_net.blocks3.7.attn.qkv.weight');
      },
      /missing keys \(1\):\s+encoder_net\.blocks3\.7\.attn\.qkv\.weight\b[\s\S]*unexpected keys \(1\):\s+encoder_net\.blocks3\.7\.attn\.qkv\.weights/,
    ],
    ['a dropped key', (t) => t.delete('lmu.gamma4'), /missing keys \(1\):\s+lmu\.gamma4/],
    [
      'a reshaped key',
      (t) => t.set('encoder_net.blocks4.2.mlp.fc1.weight', { dtype: 'F32', shape: [2048, 256], data: new Uint8Array(2048 * 256 * 4) }),
      /wrong shape or dtype \(1\):\s+encoder_net\.blocks4\.2\.mlp\.fc1\.weight: expected \[2048, 512\], got \[2048, 256\]/,
    ],
  ];
  for (const [what, mutate, message] of mutations) {
    it(`fails to load with ${what}, naming it`, async () => {
      const changed = new Map(tensors);
      mutate(changed);
      const error = await loadModel({ weights: writeSafetensors({ tensors: changed, metadata }) }).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'WEIGHTS_MISMATCH' });
      expect((error as Error).message).toMatch(message);
    });
  }
});
