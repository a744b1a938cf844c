import { describe, expect, it } from 'vitest';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';
import { BASE_CONFIG, CONFIG_LIMITS, PRESETS, validateConfig } from './sparsevit-config';

describe('validateConfig bounds', () => {
  it('accepts every preset, and the base model at 1024 and 2048', () => {
    for (const preset of Object.values(PRESETS)) expect(validateConfig(preset)).toEqual(preset);
    expect(validateConfig({ ...BASE_CONFIG, img_size: 1024 }).img_size).toBe(1024);
    expect(validateConfig({ ...BASE_CONFIG, img_size: CONFIG_LIMITS.img_size }).img_size).toBe(2048);
  });

  it.each([
    ['img_size', { img_size: 8192 }, /img_size = 8192 is over the limit of 2048/],
    ['depth', { depth: [1e9, 8, 20, 7] }, /depth\[0\] = 1000000000 is over the limit of 64/],
    ['embed_dim', { embed_dim: [64, 128, 320, 8192] }, /embed_dim\[3\] = 8192 is over the limit of 4096/],
    ['head_dim', { head_dim: 1 << 20 }, /head_dim = 1048576 is over the limit/],
    ['mlp_ratio', { mlp_ratio: 1e6 }, /mlp_ratio = 1000000 is over the limit of 16/],
    ['s_blocks3', { s_blocks3: new Array(1000).fill(1) }, /s_blocks3 must be an array of at most 64 positive integers, got \[1, 1, 1, 1, 1, 1, \.\.\. 994 more\]/],
  ])('refuses %s beyond CONFIG_LIMITS with INVALID_CONFIG', (_key, change, message) => {
    expectSparseViTErrorSync(() => validateConfig({ ...BASE_CONFIG, ...change }), 'INVALID_CONFIG', message);
  });

  it('quotes hostile values within bounds', () => {
    const e = expectSparseViTErrorSync(
      () => validateConfig({ ...BASE_CONFIG, s_blocks3: new Array(1_000_000).fill(0.5), head_dim: 'h'.repeat(1_000_000), qkv_bias: ['x'.repeat(1e6)] }),
      'INVALID_CONFIG',
    );
    expect(e.message.length).toBeLessThan(1000);
  });
});
