import { describe, expect, it } from 'vitest';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';
import { preprocess } from './preprocess';
import { assertImageShape, assertPixelLimit, MAX_ASPECT_RATIO, MAX_IMAGE_SIDE } from './raw-image';

describe('image shape bounds', () => {
  it('accepts panoramas and long screenshots up to 100:1', () => {
    for (const [w, h] of [[1, 1], [30_000, 3_000], [1080, 20_000], [100_000, 1_000], [1, 100]]) expect(() => assertImageShape(w, h)).not.toThrow();
  });

  it('refuses a strip beyond MAX_ASPECT_RATIO or a side beyond MAX_IMAGE_SIDE, from the header', () => {
    expect(MAX_ASPECT_RATIO).toBe(100);
    expect(MAX_IMAGE_SIDE).toBe(100_000);
    expectSparseViTErrorSync(() => assertPixelLimit(50_000_000, 1), 'UNSUPPORTED_IMAGE_SHAPE', /side longer than the limit of 100000/);
    expectSparseViTErrorSync(() => assertPixelLimit(20_000, 100), 'UNSUPPORTED_IMAGE_SHAPE', /aspect ratio of 200\.0:1, beyond the limit of 100:1/);
    expectSparseViTErrorSync(() => assertPixelLimit(1, 101), 'UNSUPPORTED_IMAGE_SHAPE', /aspect ratio/);
    // Raising the pixel limit does not lift the side limit.
    expectSparseViTErrorSync(() => assertPixelLimit(200_000, 200_000, 1e12), 'UNSUPPORTED_IMAGE_SHAPE', /side longer/);
    // The pixel limit is still checked first, with its own code.
    expectSparseViTErrorSync(() => assertPixelLimit(20_000, 20_000), 'IMAGE_TOO_LARGE');
  });

  it('preprocess refuses pixels of such a shape handed in directly', () => {
    const image = { data: new Uint8Array(200_000), width: 200_000, height: 1, channels: 1 as const };
    expectSparseViTErrorSync(() => preprocess(image, 32), 'UNSUPPORTED_IMAGE_SHAPE');
  });
});
