import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { BASE_CONFIG, validateConfig } from '../config/sparsevit-config';
import { expectedStateDict } from './state-dict-layout';

// The key lists were dumped from the reference PyTorch model (`SparseViT(...).state_dict()`), so
// this checks our module tree against the authors' key for key, shape for shape.
function referenceKeys(preset: string): Array<[string, number[], string]> {
  const json = JSON.parse(readFileSync(fixturePath(preset, 'state_dict_keys.json'), 'utf8')) as Record<string, { shape: number[]; dtype: string }>;
  return Object.entries(json).map(([k, v]) => [k, v.shape, v.dtype]);
}

describe('expectedStateDict', () => {
  it.each([
    ['sparsevit-tiny', validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')))],
    ['sparsevit-base', BASE_CONFIG],
  ])('matches the reference key list of %s', (preset, config) => {
    const expected = expectedStateDict(config);
    const reference = referenceKeys(preset);
    expect([...expected.keys()].sort()).toEqual(reference.map(([k]) => k).sort());
    for (const [key, shape, dtype] of reference) {
      const spec = expected.get(key)!;
      expect(spec.shape, key).toEqual(shape);
      expect(spec.kind, key).toBe(dtype === 'int64' ? 'int' : 'float');
    }
  });

  it('counts the published 50.35 M parameters for the base preset', () => {
    // fixture.json "params": 50351297 counts every float tensor of the state dict (BatchNorm
    // running statistics included, step counters not).
    let params = 0;
    for (const spec of expectedStateDict(BASE_CONFIG).values()) {
      if (spec.kind === 'float') params += spec.shape.reduce((a, b) => a * b, 1);
    }
    expect(params).toBe(JSON.parse(readFileSync(fixturePath('sparsevit-base', 'fixture.json'), 'utf8')).params);
  });
});
