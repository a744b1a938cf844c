import { SparseViTError } from '../errors';

/**
 * Decoded 8-bit pixels, interleaved and row-major: pixel `(x, y)` channel `c` is
 * `data[(y * width + x) * channels + c]`. `channels` is 1 (gray, PIL 'L'), 2 (gray + alpha, 'LA'),
 * 3 (RGB) or 4 (RGBA, straight alpha as decoders and `ImageData` store it). A browser's
 * `ImageData` fits as is (`{ data, width, height, channels: 4 }`).
 */
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * Whether `input` is decoded pixels (`{ data, width, height, channels }`) rather than something
 * to decode. The shape only: `validateRawImage` checks the values. A browser `ImageData` has no
 * `channels`, so it is not one until given `channels: 4`.
 */
export function isRawImage(input: unknown): input is RawImage {
  return typeof input === 'object' && input !== null && 'data' in input && 'width' in input && 'height' in input && 'channels' in input;
}

/**
 * Default ceiling on the pixels of one input image. 100 megapixels is above every common camera
 * and scan in forgery datasets (a 108 MP phone sensor excepted, which callers can allow), while
 * bounding what one image can cost: decoded RGBA at 100 MP is 400 MB, the most a browser tab can
 * usually hold for one image, and a hostile file declaring 50000 x 50000 pixels is rejected from
 * its header before anything is allocated. The model itself only sees `imgSize`^2 pixels, so a
 * larger image adds memory, not accuracy.
 */
export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * Longest side of an input image, in pixels. JPEG's own limit is 65,535 and WebP's 16,383; at the
 * default pixel limit and aspect ratio no image comes near it. It bounds what one image costs
 * along a side whatever `maxPixels` a caller sets (resampling tables grow with each side).
 */
export const MAX_IMAGE_SIDE = 100_000;

/**
 * Largest ratio of an input image's long side to its short side. Panoramas and long screenshots
 * stay well inside 100:1; a 50,000,000 x 1 strip (48 KB as a PNG, under the pixel limit) does
 * not, and the model, which sees every image squeezed to a square, could say nothing about it.
 */
export const MAX_ASPECT_RATIO = 100;

/**
 * Throws `UNSUPPORTED_IMAGE_SHAPE` when a side is longer than `MAX_IMAGE_SIDE` or the aspect
 * ratio beyond `MAX_ASPECT_RATIO`. `assertPixelLimit` calls it, so decoders refuse such an image
 * from its header, before decoding it.
 */
export function assertImageShape(width: number, height: number): void {
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new SparseViTError('INVALID_IMAGE', `image dimensions must be positive integers, got ${String(width)}x${String(height)}`);
  }
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  if (long > MAX_IMAGE_SIDE) {
    throw new SparseViTError(
      'UNSUPPORTED_IMAGE_SHAPE',
      `image of ${width}x${height} has a side longer than the limit of ${MAX_IMAGE_SIDE} pixels (MAX_IMAGE_SIDE)`,
      { details: { width, height, maxSide: MAX_IMAGE_SIDE } },
    );
  }
  if (long > short * MAX_ASPECT_RATIO) {
    throw new SparseViTError(
      'UNSUPPORTED_IMAGE_SHAPE',
      `image of ${width}x${height} has an aspect ratio of ${(long / short).toFixed(1)}:1, beyond the limit of ${MAX_ASPECT_RATIO}:1 (MAX_ASPECT_RATIO)`,
      { details: { width, height, maxAspectRatio: MAX_ASPECT_RATIO } },
    );
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

/**
 * Throws `IMAGE_TOO_LARGE` when `width * height` exceeds `maxPixels`, and
 * `UNSUPPORTED_IMAGE_SHAPE` for a side or an aspect ratio beyond the limits
 * (`assertImageShape`). Call it with the dimensions from an image header before decoding, so an
 * oversized image costs nothing.
 */
export function assertPixelLimit(width: number, height: number, maxPixels: number = DEFAULT_MAX_PIXELS): void {
  if (!(typeof maxPixels === 'number' && maxPixels > 0 && !Number.isNaN(maxPixels))) {
    throw new SparseViTError('INVALID_ARGUMENT', `maxPixels must be a positive number, got ${String(maxPixels)}`);
  }
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new SparseViTError('INVALID_IMAGE', `image dimensions must be positive integers, got ${String(width)}x${String(height)}`);
  }
  const pixels = width * height;
  if (pixels > maxPixels) {
    throw new SparseViTError(
      'IMAGE_TOO_LARGE',
      `image of ${width}x${height} (${pixels} pixels) exceeds the limit of ${maxPixels} pixels`,
      { details: { width, height, pixels, maxPixels } },
    );
  }
  assertImageShape(width, height);
}

export interface ValidateRawImageOptions {
  /** When given, also enforce this pixel limit (`IMAGE_TOO_LARGE`). */
  maxPixels?: number;
}

/**
 * Checks that `image` is a well-formed `RawImage`: positive integer dimensions, 1-4 channels, an
 * 8-bit typed array whose length is exactly `width * height * channels`. Throws `INVALID_IMAGE`
 * otherwise (a wrong length is what a truncated decode looks like), and `IMAGE_TOO_LARGE` when
 * `options.maxPixels` is given and exceeded.
 */
export function validateRawImage(image: RawImage, options?: ValidateRawImageOptions): void {
  if (typeof image !== 'object' || image === null) {
    throw new SparseViTError('INVALID_IMAGE', 'image must be an object { data, width, height, channels }');
  }
  const { data, width, height, channels } = image;
  if (!isPositiveInt(width) || !isPositiveInt(height)) {
    throw new SparseViTError('INVALID_IMAGE', `image dimensions must be positive integers, got ${String(width)}x${String(height)}`);
  }
  if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
    throw new SparseViTError('INVALID_IMAGE', `image channels must be 1, 2, 3 or 4, got ${String(channels)}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new SparseViTError('INVALID_IMAGE', 'image data must be a Uint8Array or Uint8ClampedArray of 8-bit samples');
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new SparseViTError(
      'INVALID_IMAGE',
      `image data has ${data.length} bytes, expected ${width}x${height}x${channels} = ${expected}`,
      { details: { width, height, channels, length: data.length, expected } },
    );
  }
  if (options?.maxPixels !== undefined) assertPixelLimit(width, height, options.maxPixels);
}
