import { SparseViTError } from '../errors';

/** ImageNet channel means, as the reference's `transforms.Normalize`. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations. */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

export interface NormalizeOptions {
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
}

/**
 * 256-entry table per channel: an 8-bit input has only 256 values per channel, so the whole
 * normalization is a lookup. Each step is rounded to float32 as torch computes it on a float32
 * tensor (`x.float() / 255`, then `sub_(mean)`, then `div_(std)` with float32 mean/std), which
 * reproduces the reference `input` bit for bit on all four fixtures; computing in float64 and
 * rounding once agrees on only ~15-20% of values (off by an ulp elsewhere). `v / 255` in float64
 * rounded to float32 equals the correctly rounded float32 division for all 256 values.
 */
function normalizationTable(mean: readonly number[], std: readonly number[]): Float32Array {
  const f = Math.fround;
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const m = f(mean[c]);
    const s = f(std[c]);
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = f(f(f(v / 255) - m) / s);
  }
  return lut;
}

const DEFAULT_TABLE = normalizationTable(IMAGENET_MEAN, IMAGENET_STD);

/**
 * Packed 8-bit RGB (HWC) to a normalized float32 CHW tensor: `out[offset + c*H*W + y*W + x] =
 * (rgb[(y*W + x)*3 + c] / 255 - mean[c]) / std[c]`. Writes into the caller's `out` at `offset`,
 * so a batch `[N, 3, H, W]` is filled image by image (`offset = n * 3 * H * W`). Returns `out`.
 */
export function normalizeToChw(
  rgb: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  out: Float32Array,
  offset = 0,
  options?: NormalizeOptions,
): Float32Array {
  const plane = width * height;
  if (!(Number.isSafeInteger(width) && width > 0 && Number.isSafeInteger(height) && height > 0)) {
    throw new SparseViTError('INVALID_ARGUMENT', `width and height must be positive integers, got ${width}x${height}`);
  }
  if (rgb.length !== plane * 3) {
    throw new SparseViTError('INVALID_ARGUMENT', `rgb has ${rgb.length} values, expected ${width}x${height}x3 = ${plane * 3}`);
  }
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + plane * 3 > out.length) {
    throw new SparseViTError(
      'INVALID_ARGUMENT',
      `output of length ${out.length} cannot hold ${plane * 3} values at offset ${offset}`,
    );
  }
  let lut = DEFAULT_TABLE;
  if (options?.mean !== undefined || options?.std !== undefined) {
    const mean = options.mean ?? IMAGENET_MEAN;
    const std = options.std ?? IMAGENET_STD;
    if (mean.length !== 3 || std.length !== 3 || std.some((s) => !(s !== 0 && Number.isFinite(s))) || mean.some((m) => !Number.isFinite(m))) {
      throw new SparseViTError('INVALID_ARGUMENT', 'mean and std must be three finite numbers, std non-zero');
    }
    lut = normalizationTable(mean, std);
  }
  const o0 = offset;
  const o1 = offset + plane;
  const o2 = offset + 2 * plane;
  for (let i = 0, j = 0; i < plane; i++, j += 3) {
    out[o0 + i] = lut[rgb[j]];
    out[o1 + i] = lut[256 + rgb[j + 1]];
    out[o2 + i] = lut[512 + rgb[j + 2]];
  }
  return out;
}
