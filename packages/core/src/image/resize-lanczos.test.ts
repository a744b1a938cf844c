import { describe, expect, it } from 'vitest';
import { tinyCases } from '@sparsevit/fixtures';
import { isSparseViTError } from '../errors';
import { resizeLanczosMap } from './resize-lanczos';
import { readReferenceCase, tensor } from './reference-case.test-helper';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('resizeLanczosMap (PIL mode F, Image.LANCZOS)', () => {
  for (const name of tinyCases) {
    it(`${name}: prob512 -> prob_full matches the reference`, () => {
      const ref = readReferenceCase(name);
      const p512 = tensor(ref, 'prob512');
      const full = tensor(ref, 'prob_full');
      expect(p512.shape).toEqual([512, 512]);
      const [h, w] = full.shape;
      const got = resizeLanczosMap(p512.data, 512, 512, w, h);
      expect(got.length).toBe(w * h);
      // Measured: bit-exact (max abs 0) on all four cases; allow one float32 ulp of slack for
      // a libm whose sin() differs in the last bit.
      expect(maxAbsDiff(got, full.data)).toBeLessThanOrEqual(1e-6);
    });
  }

  it('keeps constants constant and preserves a map on identity', () => {
    const src = new Float32Array(9 * 7).fill(0.375);
    const out = resizeLanczosMap(src, 9, 7, 23, 4);
    for (const v of out) expect(v).toBeCloseTo(0.375, 6);
    const noise = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const same = resizeLanczosMap(noise, 4, 3, 4, 3);
    expect(same).not.toBe(noise);
    expect(same).toEqual(noise);
  });

  it('resizes one axis only when the other keeps its size', () => {
    // A map constant along x: resizing only y must give the same column everywhere.
    const w = 5;
    const h = 8;
    const src = new Float32Array(w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src[y * w + x] = y / h;
    const out = resizeLanczosMap(src, w, h, w, 3);
    for (let y = 0; y < 3; y++) for (let x = 1; x < w; x++) expect(out[y * w + x]).toBe(out[y * w]);
    // Downscaled ramp stays increasing.
    expect(out[0]).toBeLessThan(out[w]);
    expect(out[w]).toBeLessThan(out[2 * w]);
  });

  it('rejects a map of the wrong length', () => {
    try {
      resizeLanczosMap(new Float32Array(5), 2, 3, 4, 4);
      expect.unreachable();
    } catch (err) {
      expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
