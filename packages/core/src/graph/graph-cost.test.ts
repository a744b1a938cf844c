import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { BASE_CONFIG, sparseSizes, stageSides, validateConfig, type SparseViTConfig } from '../config/sparsevit-config';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';
import { graphCost } from './graph-cost';
import { expectedStateDict } from './state-dict-layout';
import { numel } from '../weights/tensor';
import { prepareGraphWeights } from './prepare-graph-weights';

/**
 * Multiply-adds of the reference network, written from its module definitions (`SparseViT.py`)
 * layer by layer, independently of the graph code: the counter must agree with it exactly.
 */
function referenceMacs(config: SparseViTConfig): number {
  const [c1, c2, c3, c4] = config.embed_dim;
  const [s1, s2, s3, s4] = stageSides(config);
  const r = config.mlp_ratio;
  const px = (side: number) => side * side;
  // PatchEmbed: k x k conv with stride k.
  let macs = px(s1) * c1 * 3 * 16 + px(s2) * c2 * c1 * 4 + px(s3) * c3 * c2 * 4 + px(s4) * c4 * c3 * 4;
  // CBlock per pixel: pos_embed dw 3x3, conv1 1x1, attn dw 5x5, conv2 1x1, fc1 and fc2.
  const cblock = (c: number) => c * 9 + c * c + c * 25 + c * c + 2 * r * c * c;
  macs += config.depth[0] * px(s1) * cblock(c1) + config.depth[1] * px(s2) * cblock(c2);
  // SABlock per token: qkv, q k^T and attn v over the S*S tokens of its group, proj, fc1, dw 3x3 on
  // the hidden map, fc2.
  const sablock = (c: number, tokens: number) => 3 * c * c + 2 * tokens * c + c * c + r * c * c + r * c * 9 + r * c * c;
  const sparse = sparseSizes(config);
  for (const s of sparse.stage3) macs += px(s3) * sablock(c3, s * s);
  for (const s of sparse.stage4) macs += px(s4) * sablock(c4, s * s);
  // Fusion head: four C3 -> C4 linears on the stage-3 taps, then C4 -> 1.
  macs += 4 * px(s3) * c3 * c4 + px(s3) * c4;
  return macs;
}

/** Zero-filled weights of the config's checkpoint layout (the counter reads shapes only). */
function zeroWeights(config: SparseViTConfig) {
  const tensors = new Map(
    [...expectedStateDict(config)].map(([key, t]) => {
      const dtype = t.kind === 'int' ? ('I64' as const) : ('F32' as const);
      return [key, { dtype, shape: [...t.shape], data: new Uint8Array((dtype === 'I64' ? 8 : 4) * numel(t.shape)) }];
    }),
  );
  return prepareGraphWeights({ tensors, metadata: {} }, config);
}

describe('graphCost', () => {
  it('counts the published base model at 512x512 as the reference layers add up: 46 G multiply-adds, ~92 GFLOP', () => {
    const weights = zeroWeights(BASE_CONFIG);
    const cost = graphCost(BASE_CONFIG, weights);
    expect(cost.macs).toBe(referenceMacs(BASE_CONFIG));
    expect(cost.flops).toBe(2 * cost.macs);
    // The figure quoted for the reference implementation: about 92 GFLOP per 512x512 image.
    expect(Math.abs(cost.flops / 92e9 - 1)).toBeLessThan(0.02);
    expect(cost.macsByOp.conv2d + cost.macsByOp.matmul).toBe(cost.macs);
    expect(cost.elementwise).toBeGreaterThan(0);
  });

  it('scales with the batch and follows the config (the tiny fixture model)', () => {
    const config = validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')));
    const weights = zeroWeights(config);
    const one = graphCost(config, weights);
    expect(one.macs).toBe(referenceMacs(config));
    const four = graphCost(config, weights, 4);
    expect(four.macs).toBe(4 * one.macs);
    expect(four.elementwise).toBe(4 * one.elementwise);
  });

  it('rejects a bad batch and weights that do not fit the config', () => {
    const weights = zeroWeights(BASE_CONFIG);
    expectSparseViTErrorSync(() => graphCost(BASE_CONFIG, weights, 0), 'INVALID_ARGUMENT');
    const missing = new Map(weights);
    missing.delete('lmu.conv_last.weight');
    expectSparseViTErrorSync(() => graphCost(BASE_CONFIG, missing), 'WEIGHTS_MISMATCH', /lmu\.conv_last\.weight/);
    const wrong = new Map(weights);
    wrong.set('encoder_net.blocks1.0.conv1.weight', { shape: [64, 32, 1, 1], data: new Float32Array(0) });
    expectSparseViTErrorSync(() => graphCost(BASE_CONFIG, wrong), 'INVALID_ARGUMENT', /conv2d/);
  });
});
