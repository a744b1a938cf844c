import { describe, expect, it } from 'vitest';
import { tinyCases } from '@sparsevit/fixtures';
import { resizeBilinearMap } from './resize-bilinear-map';
import { readReferenceCase, tensor } from './reference-case.test-helper';

describe('resizeBilinearMap (F.interpolate bilinear, align_corners=False)', () => {
  for (const name of tinyCases) {
    it(`${name}: sigmoid(upsample(logits)) matches prob512`, () => {
      const ref = readReferenceCase(name);
      const logits = tensor(ref, 'logits');
      const p512 = tensor(ref, 'prob512');
      expect(logits.shape).toEqual([1, 1, 32, 32]);
      const up = resizeBilinearMap(logits.data, 32, 32, 512, 512);
      let maxAbs = 0;
      for (let i = 0; i < up.length; i++) {
        const p = Math.fround(1 / (1 + Math.exp(-up[i])));
        maxAbs = Math.max(maxAbs, Math.abs(p - p512.data[i]));
      }
      // Measured max 1.2e-7 (one float32 ulp near 1: torch's vectorized exp vs Math.exp).
      expect(maxAbs).toBeLessThanOrEqual(2.5e-7);
    });
  }

  it('uses half-pixel centers with edge clamping', () => {
    // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (i1 clamped): 0, 2.5, 7.5, 10.
    expect([...resizeBilinearMap(new Float32Array([0, 10]), 2, 1, 4, 1)]).toEqual([0, 2.5, 7.5, 10]);
    // 4 -> 2: sources 0.5 and 2.5.
    expect([...resizeBilinearMap(new Float32Array([0, 1, 2, 3]), 4, 1, 2, 1)]).toEqual([0.5, 2.5]);
  });
});
