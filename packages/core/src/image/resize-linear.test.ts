import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { resizeLinearU8 } from './resize-linear';

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s & 255;
  }
  return out;
}

/**
 * An independent float64 bilinear with OpenCV's geometry (half-pixel centers; horizontal taps
 * clamped at the borders, vertical rows clipped), unrounded. The fixed-point result must stay
 * within one 8-bit step of it everywhere.
 */
function floatBilinear(src: Uint8Array, w: number, h: number, ow: number, oh: number, cn: number): Float64Array {
  const out = new Float64Array(ow * oh * cn);
  for (let dy = 0; dy < oh; dy++) {
    const fy = ((dy + 0.5) * h) / oh - 0.5;
    const sy = Math.floor(fy);
    const wy = fy - sy;
    const r0 = Math.min(Math.max(sy, 0), h - 1);
    const r1 = Math.min(Math.max(sy + 1, 0), h - 1);
    for (let dx = 0; dx < ow; dx++) {
      let fx = ((dx + 0.5) * w) / ow - 0.5;
      if (fx < 0) fx = 0;
      let sx = Math.floor(fx);
      let wx = fx - sx;
      if (sx >= w - 1) {
        sx = w - 1;
        wx = 0;
      }
      const sx1 = Math.min(sx + 1, w - 1);
      for (let c = 0; c < cn; c++) {
        const p = (r: number, x: number) => src[(r * w + x) * cn + c];
        const top = p(r0, sx) * (1 - wx) + p(r0, sx1) * wx;
        const bot = p(r1, sx) * (1 - wx) + p(r1, sx1) * wx;
        out[(dy * ow + dx) * cn + c] = top * (1 - wy) + bot * wy;
      }
    }
  }
  return out;
}

describe('resizeLinearU8 (OpenCV uint8 INTER_LINEAR)', () => {
  it('returns an equal copy at the same size', () => {
    const src = noise(7 * 5 * 3, 1);
    const out = resizeLinearU8(src, 7, 5, 7, 5, 3);
    expect(out).not.toBe(src);
    expect([...out]).toEqual([...src]);
  });

  it('upscales 2x with border replication and quarter-pixel weights', () => {
    // Width 2 -> 4: centers map to -0.25 (clamped to pixel 0), 0.25, 0.75, 1.25 (clamped to
    // pixel 1). Weights 1536/512 of 2048. Height 1 -> 1 is the identity vertically.
    expect([...resizeLinearU8(new Uint8Array([0, 200]), 2, 1, 4, 1, 1)]).toEqual([0, 50, 150, 200]);
    // 0.25 * 2 = 0.5 and 0.75 * 2 = 1.5 both round up in the fixed-point path.
    expect([...resizeLinearU8(new Uint8Array([0, 2]), 2, 1, 4, 1, 1)]).toEqual([0, 1, 2, 2]);
    // The same along y (rows s = -1 and 0 both clip to row 0 at the top).
    expect([...resizeLinearU8(new Uint8Array([0, 200]), 1, 2, 1, 4, 1)]).toEqual([0, 50, 150, 200]);
  });

  it('upscales a 2x2 RGB image 2x as separable bilinear', () => {
    // Channel 0: [[0, 100], [200, 40]]; channel 1 = 2 * channel 0 (clamped); channel 2 constant.
    const src = new Uint8Array([0, 0, 9, 100, 200, 9, 200, 255, 9, 40, 80, 9]);
    const out = resizeLinearU8(src, 2, 2, 4, 4, 3);
    const ch0 = [...out].filter((_, i) => i % 3 === 0);
    // Rows: 0 -> [0, 25, 75, 100]; 200/40 -> [200, 160, 80, 40]; y taps 0, 0.25, 0.75, 1.
    expect(ch0).toEqual([0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40]);
    expect([...out].filter((_, i) => i % 3 === 2).every((v) => v === 9)).toBe(true);
  });

  it('downscales by an odd factor 5 -> 3', () => {
    // Centers 1/3, 2, 11/3: weights 1365/683 (round(0.6667 * 2048), round(0.3333 * 2048)), exact
    // pixel 2, then 683/1365.
    expect([...resizeLinearU8(new Uint8Array([0, 30, 60, 90, 120]), 5, 1, 3, 1, 1)]).toEqual([10, 60, 110]);
  });

  it('halves exactly like INTER_AREA (rounded 2x2 mean)', () => {
    const w = 10;
    const h = 6;
    const src = noise(w * h, 7);
    const out = resizeLinearU8(src, w, h, w / 2, h / 2, 1);
    for (let y = 0; y < h / 2; y++) {
      for (let x = 0; x < w / 2; x++) {
        const s = src[2 * y * w + 2 * x] + src[2 * y * w + 2 * x + 1] + src[(2 * y + 1) * w + 2 * x] + src[(2 * y + 1) * w + 2 * x + 1];
        expect(out[y * (w / 2) + x]).toBe((s + 2) >> 2);
      }
    }
  });

  it('stays within one step of an independent float bilinear for many sizes', () => {
    const sizes: [number, number, number, number, number][] = [
      [37, 41, 512, 512, 3],
      [640, 480, 512, 512, 3],
      [300, 500, 512, 512, 3],
      [257, 333, 512, 512, 1],
      [1000, 3, 7, 5, 4],
      [13, 17, 100, 9, 2],
      [1023, 767, 224, 224, 3],
    ];
    for (const [w, h, ow, oh, cn] of sizes) {
      const src = noise(w * h * cn, w * 31 + h);
      const got = resizeLinearU8(src, w, h, ow, oh, cn);
      const ref = floatBilinear(src, w, h, ow, oh, cn);
      let maxErr = 0;
      let rounded = 0;
      for (let i = 0; i < got.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
        if (got[i] === Math.round(ref[i])) rounded++;
      }
      expect(maxErr, `${w}x${h} -> ${ow}x${oh}`).toBeLessThan(1);
      // Fixed point rounds like the float result on most values (OpenCV: ~87-94%).
      expect(rounded / got.length, `${w}x${h} -> ${ow}x${oh}`).toBeGreaterThan(0.8);
    }
  });

  it('downsizes a 4000x3000 RGB image in well under a second', () => {
    const w = 4000;
    const h = 3000;
    const src = noise(w * h * 3, 3);
    const t0 = performance.now();
    const out = resizeLinearU8(src, w, h, 512, 512, 3);
    const ms = performance.now() - t0;
    expect(out.length).toBe(512 * 512 * 3);
    expect(ms).toBeLessThan(1000);
  });

  it('rejects inconsistent arguments', () => {
    const call = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isSparseViTError(err, 'INVALID_ARGUMENT');
      }
      return false;
    };
    expect(call(() => resizeLinearU8(new Uint8Array(5), 2, 1, 4, 1, 3))).toBe(true);
    expect(call(() => resizeLinearU8(new Uint8Array(6), 2, 1, 0, 1, 3))).toBe(true);
    expect(call(() => resizeLinearU8(new Uint8Array(6), 2, 1, 4, 1.5, 3))).toBe(true);
  });
});

describe('resizeLinearU8 with a channel selection', () => {
  it('equals converting to RGB first, for gray, gray+alpha and RGBA', () => {
    const w = 29;
    const h = 23;
    for (const [cn, select] of [
      [1, [0, 0, 0]],
      [2, [0, 0, 0]],
      [4, [0, 1, 2]],
    ] as const) {
      const src = noise(w * h * cn, cn);
      const rgb = new Uint8Array(w * h * 3);
      for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = src[i * cn + select[c]];
      expect(resizeLinearU8(src, w, h, 40, 17, cn, select)).toEqual(resizeLinearU8(rgb, w, h, 40, 17, 3));
    }
  });

  it('rejects channels outside the source', () => {
    expect(() => resizeLinearU8(new Uint8Array(8), 2, 2, 3, 3, 2, [0, 2])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
