import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { toRgb } from './to-rgb';
import type { RawImage } from './raw-image';

describe('toRgb (PIL convert("RGB"))', () => {
  it('replicates gray', () => {
    expect([...toRgb({ data: new Uint8Array([0, 7, 255]), width: 3, height: 1, channels: 1 })]).toEqual([0, 0, 0, 7, 7, 7, 255, 255, 255]);
  });

  it('replicates gray and drops alpha for LA', () => {
    expect([...toRgb({ data: new Uint8Array([10, 0, 200, 128]), width: 1, height: 2, channels: 2 })]).toEqual([10, 10, 10, 200, 200, 200]);
  });

  it('drops alpha without compositing for RGBA', () => {
    // A fully transparent pixel keeps its stored color, as PIL's rgba2rgb does.
    const data = new Uint8ClampedArray([1, 2, 3, 0, 250, 251, 252, 200]);
    expect([...toRgb({ data, width: 2, height: 1, channels: 4 })]).toEqual([1, 2, 3, 250, 251, 252]);
  });

  it('returns RGB as a view without copying', () => {
    const data = new Uint8ClampedArray([1, 2, 3, 4, 5, 6]);
    const out = toRgb({ data, width: 2, height: 1, channels: 3 });
    expect(out).toBeInstanceOf(Uint8Array);
    expect(out.buffer).toBe(data.buffer);
    expect([...out]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('validates its input', () => {
    const bad = { data: new Uint8Array(5), width: 2, height: 1, channels: 3 } as RawImage;
    expect(() => toRgb(bad)).toThrow(expect.objectContaining({ code: 'INVALID_IMAGE' }));
    try {
      toRgb(bad);
    } catch (err) {
      expect(isSparseViTError(err, 'INVALID_IMAGE')).toBe(true);
    }
  });
});
