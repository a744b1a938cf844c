import { SparseViTError } from '../errors';
import type { RawImage } from './raw-image';
import { assertImageShape, validateRawImage } from './raw-image';
import { toRgb } from './to-rgb';
import { resizeLinearU8 } from './resize-linear';
import { normalizeToChw } from './normalize';

/** Source channels that PIL's `convert('RGB')` takes for R, G, B, by channel count. */
const RGB_CHANNELS: Record<1 | 2 | 3 | 4, readonly number[]> = {
  1: [0, 0, 0],
  2: [0, 0, 0],
  3: [0, 1, 2],
  4: [0, 1, 2],
};

/**
 * The reference preprocessing, producing the model input `[3, imgSize, imgSize]` (float32, CHW):
 * PIL `convert('RGB')` -> OpenCV `cv2.resize(..., (imgSize, imgSize), INTER_LINEAR)` on uint8 ->
 * `x / 255`, minus ImageNet mean, divided by std.
 *
 * Writes into `out` at `offset` when given (batching: `offset = n * 3 * imgSize * imgSize`), else
 * allocates. Returns the array written. Throws `UNSUPPORTED_IMAGE_SHAPE` for an image with a side
 * over `MAX_IMAGE_SIDE` or an aspect ratio over `MAX_ASPECT_RATIO` (`assertImageShape`).
 */
export function preprocess(image: RawImage, imgSize: number, out?: Float32Array, offset = 0): Float32Array {
  validateRawImage(image);
  // Decoders refuse these from the header; pixels handed in directly are checked here, before
  // the full-size probability map (Lanczos, at the image's size) is ever asked for.
  assertImageShape(image.width, image.height);
  if (!(Number.isSafeInteger(imgSize) && imgSize > 0)) {
    throw new SparseViTError('INVALID_ARGUMENT', `imgSize must be a positive integer, got ${String(imgSize)}`);
  }
  const size = 3 * imgSize * imgSize;
  const target = out ?? new Float32Array(size);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > target.length) {
    throw new SparseViTError(
      'INVALID_ARGUMENT',
      `output of length ${target.length} cannot hold ${size} values at offset ${String(offset)}`,
    );
  }
  const { data, width, height, channels } = image;
  let rgb: Uint8Array;
  if (width === imgSize && height === imgSize) {
    // cv2.resize to the same size is a copy.
    rgb = toRgb(image);
  } else {
    // convert('RGB') is a per-pixel channel pick (gray replicated, alpha dropped), so it is folded
    // into the resize: same values, without a full-size RGB copy of a large image.
    rgb = resizeLinearU8(data, width, height, imgSize, imgSize, channels, RGB_CHANNELS[channels]);
  }
  return normalizeToChw(rgb, imgSize, imgSize, target, offset);
}
