import { SparseViTError } from '../errors';
import { validateRawImage, type RawImage } from '../image/raw-image';

/** A binary ground-truth mask: row-major `height x width`, 1 = manipulated, 0 = authentic. */
export interface BinaryMask {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Binarises a decoded mask image as IMDLBenCo's dataset loader does: the file is opened with
 * PIL and `convert('RGB')` (gray replicated to three channels, alpha DROPPED, not composited),
 * then `np.mean(gt, axis=2) > 127.5`. Per channel layout:
 * - 1 (L): `v > 127.5`, i.e. `v >= 128`;
 * - 2 (LA): the gray value as for L; alpha ignored;
 * - 3 (RGB): `(r + g + b) / 3 > 127.5`, computed exactly in integers as `r + g + b >= 383`;
 * - 4 (RGBA): as RGB; alpha ignored (a transparent white pixel is still manipulated).
 * Throws `INVALID_IMAGE` for a malformed `RawImage`.
 */
export function binarizeMask(raw: RawImage): BinaryMask {
  validateRawImage(raw);
  const { data, width, height, channels } = raw;
  const n = width * height;
  const out = new Uint8Array(n);
  if (channels <= 2) {
    for (let i = 0, j = 0; i < n; i++, j += channels) out[i] = data[j] >= 128 ? 1 : 0;
  } else {
    for (let i = 0, j = 0; i < n; i++, j += channels) out[i] = data[j] + data[j + 1] + data[j + 2] >= 383 ? 1 : 0;
  }
  return { data: out, width, height };
}

/** The all-zero mask of an authentic image (IMDLBenCo's "Negative" ground truth). */
export function emptyMask(width: number, height: number): BinaryMask {
  checkSize(width, height, 'emptyMask');
  return { data: new Uint8Array(width * height), width, height };
}

/** True when the mask has no manipulated pixel. */
export function isEmptyMask(mask: ArrayLike<number>): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) return false;
  return true;
}

function checkSize(width: number, height: number, what: string): void {
  for (const v of [width, height]) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new SparseViTError('INVALID_ARGUMENT', `${what}: sizes must be positive integers, got ${String(width)}x${String(height)}`);
    }
  }
}

/**
 * Source index of each output index for a nearest-neighbour resize, the rule of OpenCV's
 * `cv2.resize(..., interpolation=INTER_NEAREST)` (what albumentations applies to masks, and so
 * what IMDLBenCo's `is_resizing` protocol uses): `scale = 1 / (out / in)` in float64 (OpenCV
 * stores `inv_scale = out / in` and inverts it), `src = min(floor(dst * scale), in - 1)`.
 * This is the top-left-biased rule, not the pixel-centre rule of `INTER_NEAREST_EXACT` or PIL.
 */
export function nearestSourceIndices(inSize: number, outSize: number): Uint32Array {
  const inverse = 1 / (outSize / inSize);
  const idx = new Uint32Array(outSize);
  for (let d = 0; d < outSize; d++) idx[d] = Math.min(Math.floor(d * inverse), inSize - 1);
  return idx;
}

function resizeNearestInto<T extends Uint8Array | Float32Array>(
  src: ArrayLike<number>,
  width: number,
  height: number,
  make: (length: number) => T,
  outWidth: number,
  outHeight: number,
  what: string,
): T {
  checkSize(width, height, what);
  checkSize(outWidth, outHeight, what);
  const out = make(outWidth * outHeight);
  if (src.length !== width * height) {
    throw new SparseViTError('INVALID_ARGUMENT', `${what}: data has ${src.length} values, expected ${width}x${height} = ${width * height}`);
  }
  const xs = nearestSourceIndices(width, outWidth);
  const ys = nearestSourceIndices(height, outHeight);
  for (let y = 0; y < outHeight; y++) {
    const row = ys[y] * width;
    const o = y * outWidth;
    for (let x = 0; x < outWidth; x++) out[o + x] = src[row + xs[x]];
  }
  return out;
}

/**
 * Resizes a binary mask (row-major `height x width`) to `outWidth x outHeight` with OpenCV's
 * INTER_NEAREST rule (see {@link nearestSourceIndices}). Values are copied, never blended, so a
 * binary mask stays binary.
 */
export function resizeMaskNearest(
  mask: ArrayLike<number>,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  return resizeNearestInto(mask, width, height, (n) => new Uint8Array(n), outWidth, outHeight, 'resizeMaskNearest');
}

/** Nearest-neighbour resize of a probability map, same rule as {@link resizeMaskNearest}. */
export function resizeProbabilityNearest(
  prob: ArrayLike<number>,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  return resizeNearestInto(prob, width, height, (n) => new Float32Array(n), outWidth, outHeight, 'resizeProbabilityNearest');
}
