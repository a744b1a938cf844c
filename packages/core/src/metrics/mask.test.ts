import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { binarizeMask, emptyMask, isEmptyMask, nearestSourceIndices, resizeMaskNearest, resizeProbabilityNearest } from './mask';

describe('binarizeMask', () => {
  it('gray: v > 127.5', () => {
    const m = binarizeMask({ data: Uint8Array.from([0, 127, 128, 255]), width: 2, height: 2, channels: 1 });
    expect([...m.data]).toEqual([0, 0, 1, 1]);
    expect(m.width).toBe(2);
    expect(m.height).toBe(2);
  });

  it('RGB: channel mean > 127.5 (sum >= 383)', () => {
    const data = Uint8Array.from([128, 127, 127, /* 382 */ 128, 128, 127, /* 383 */ 255, 0, 0, /* 255 */ 255, 255, 0 /* 510 */]);
    expect([...binarizeMask({ data, width: 4, height: 1, channels: 3 }).data]).toEqual([0, 1, 0, 1]);
  });

  it('ignores alpha (PIL convert("RGB") drops it)', () => {
    const rgba = Uint8Array.from([255, 255, 255, 0, 0, 0, 0, 255, 200, 200, 200, 17]);
    expect([...binarizeMask({ data: rgba, width: 3, height: 1, channels: 4 }).data]).toEqual([1, 0, 1]);
    const la = Uint8Array.from([255, 0, 10, 255]);
    expect([...binarizeMask({ data: la, width: 2, height: 1, channels: 2 }).data]).toEqual([1, 0]);
  });

  it('rejects malformed images', () => {
    try {
      binarizeMask({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 });
      expect.unreachable();
    } catch (err) {
      expect(isSparseViTError(err, 'INVALID_IMAGE')).toBe(true);
    }
  });
});

describe('nearest resize (cv2 INTER_NEAREST rule)', () => {
  it('maps dst to floor(dst * in / out), clamped', () => {
    expect([...nearestSourceIndices(3, 5)]).toEqual([0, 0, 1, 1, 2]); // 0, 0.6, 1.2, 1.8, 2.4
    expect([...nearestSourceIndices(5, 2)]).toEqual([0, 2]); // 0, 2.5
    expect([...nearestSourceIndices(4, 4)]).toEqual([0, 1, 2, 3]);
    expect([...nearestSourceIndices(2, 4)]).toEqual([0, 0, 1, 1]);
    // 640 -> 512: scale 1.25
    const idx = nearestSourceIndices(640, 512);
    expect(idx[0]).toBe(0);
    expect(idx[1]).toBe(1);
    expect(idx[4]).toBe(5);
    expect(idx[511]).toBe(638);
  });

  it('keeps masks binary and picks source pixels', () => {
    // 3x2 source
    const src = Uint8Array.from([1, 0, 1, 0, 1, 0]);
    const out = resizeMaskNearest(src, 3, 2, 5, 4);
    expect(out.length).toBe(20);
    expect([...out.slice(0, 5)]).toEqual([1, 1, 0, 0, 1]);
    expect([...out.slice(15, 20)]).toEqual([0, 0, 1, 1, 0]);
    expect([...resizeMaskNearest(src, 3, 2, 3, 2)]).toEqual([...src]);
    const p = resizeProbabilityNearest(Float32Array.from([0.25, 0.75]), 2, 1, 4, 2);
    expect([...p]).toEqual([0.25, 0.25, 0.75, 0.75, 0.25, 0.25, 0.75, 0.75]);
  });

  it('rejects bad sizes', () => {
    for (const fn of [() => resizeMaskNearest([1, 0], 3, 1, 2, 2), () => resizeMaskNearest([1, 0], 2, 1, 0, 2), () => emptyMask(-1, 2)]) {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});

describe('emptyMask', () => {
  it('is all zero at the given size', () => {
    const m = emptyMask(3, 2);
    expect(m.data.length).toBe(6);
    expect(isEmptyMask(m.data)).toBe(true);
    expect(isEmptyMask([0, 1])).toBe(false);
  });
});
