import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { assertPixelLimit, DEFAULT_MAX_PIXELS, validateRawImage, type RawImage } from './raw-image';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isSparseViTError(err) ? err.code : `non-SDK error: ${String(err)}`;
  }
  return undefined;
}

describe('validateRawImage', () => {
  it('accepts consistent images of 1-4 channels, Uint8Array or Uint8ClampedArray', () => {
    for (const channels of [1, 2, 3, 4] as const) {
      expect(() => validateRawImage({ data: new Uint8Array(6 * channels), width: 3, height: 2, channels })).not.toThrow();
    }
    expect(() => validateRawImage({ data: new Uint8ClampedArray(24), width: 3, height: 2, channels: 4 })).not.toThrow();
  });

  it('rejects a wrong data length as INVALID_IMAGE', () => {
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(17), width: 3, height: 2, channels: 3 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(19), width: 3, height: 2, channels: 3 }))).toBe('INVALID_IMAGE');
  });

  it('rejects zero, negative and fractional sizes', () => {
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(0), width: 0, height: 2, channels: 3 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(0), width: 2, height: 0, channels: 3 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(6), width: -2, height: -1, channels: 3 }))).toBe('INVALID_IMAGE');
    expect(codeOf(() => validateRawImage({ data: new Uint8Array(9), width: 1.5, height: 2, channels: 3 }))).toBe('INVALID_IMAGE');
  });

  it('rejects channels outside 1-4', () => {
    const bad = { data: new Uint8Array(30), width: 3, height: 2, channels: 5 } as unknown as RawImage;
    expect(codeOf(() => validateRawImage(bad))).toBe('INVALID_IMAGE');
    const zero = { data: new Uint8Array(0), width: 3, height: 2, channels: 0 } as unknown as RawImage;
    expect(codeOf(() => validateRawImage(zero))).toBe('INVALID_IMAGE');
  });

  it('rejects data that is not 8-bit', () => {
    const f32 = { data: new Float32Array(6), width: 3, height: 2, channels: 1 } as unknown as RawImage;
    expect(codeOf(() => validateRawImage(f32))).toBe('INVALID_IMAGE');
    expect(codeOf(() => validateRawImage(null as unknown as RawImage))).toBe('INVALID_IMAGE');
  });

  it('enforces maxPixels only when asked', () => {
    const img: RawImage = { data: new Uint8Array(12), width: 4, height: 3, channels: 1 };
    expect(() => validateRawImage(img)).not.toThrow();
    expect(() => validateRawImage(img, { maxPixels: 12 })).not.toThrow();
    expect(codeOf(() => validateRawImage(img, { maxPixels: 11 }))).toBe('IMAGE_TOO_LARGE');
  });
});

describe('assertPixelLimit', () => {
  it('allows up to the limit and rejects above it with details', () => {
    expect(() => assertPixelLimit(10_000, 10_000)).not.toThrow();
    expect(DEFAULT_MAX_PIXELS).toBe(10_000 * 10_000);
    try {
      assertPixelLimit(10_000, 10_001);
      expect.unreachable();
    } catch (err) {
      expect(isSparseViTError(err, 'IMAGE_TOO_LARGE')).toBe(true);
      expect((err as { details: unknown }).details).toEqual({ width: 10_000, height: 10_001, pixels: 100_010_000, maxPixels: DEFAULT_MAX_PIXELS });
    }
    expect(codeOf(() => assertPixelLimit(50_000, 50_000))).toBe('IMAGE_TOO_LARGE');
    expect(codeOf(() => assertPixelLimit(3, 3, 8))).toBe('IMAGE_TOO_LARGE');
  });

  it('rejects bad arguments', () => {
    expect(codeOf(() => assertPixelLimit(3, 3, 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => assertPixelLimit(3, 3, Number.NaN))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => assertPixelLimit(0, 3))).toBe('INVALID_IMAGE');
  });
});
