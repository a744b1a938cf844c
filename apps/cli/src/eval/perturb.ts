import { resizeLinearU8, toRgb, type RawImage } from '@sparsevit/core';
import { UsageError } from '../usage-error';

/**
 * Robustness perturbations, applied to the decoded image before detection (the mask is left as
 * it is), after IMDLBenCo's robustness wrappers (`IMDLBenCo/transforms/robustness_wrapper.py`,
 * albumentations on the PIL-loaded RGB image):
 * - `jpeg:q`: JPEG re-compression at quality q, then decoded again, as albumentations'
 *   `JpegCompression` does it: `cv2.imencode` on the RGB array (which OpenCV takes for BGR, so R
 *   and B are swapped through the encoder), 4:2:0 chroma. Same bytes as OpenCV 4.6 (tested).
 *   IMDLBenCo draws the quality from [q-1, q]; here it is exactly q, so runs are reproducible.
 * - `blur:k`: Gaussian blur with a k x k kernel, as `cv2.GaussianBlur(img, (k, k), 0)` (what
 *   albumentations' `GaussianBlur(blur_limit=(k, k))` calls): for k <= 7 OpenCV's fixed kernels,
 *   otherwise sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8; borders reflected (BORDER_REFLECT_101);
 *   OpenCV's fixed-point arithmetic reproduced, so the pixels are OpenCV 4.6's (tested). In JS:
 *   sharp's `blur(sigma)` chooses its own kernel width and borders, not the k x k kernel asked for.
 * - `noise:s`: additive Gaussian noise of standard deviation s, drawn per pixel and per channel
 *   from a seeded PRNG (seed from `--seed`, the perturbation and the image's id, so a run, a
 *   resumed run and any batch size give the same pixels), then clipped to [0, 255] and truncated
 *   as albumentations' `GaussNoise` does. NOTE: IMDLBenCo's `GaussianNoiseWrapper(param)` passes
 *   `param` as albumentations' `var_limit`, a VARIANCE: its noise "7" has a standard deviation
 *   of sqrt(7). `noisevar:v` reproduces that (standard deviation sqrt(v)).
 * - `resize:f`: resize by the factor f with bilinear interpolation (OpenCV's uint8 INTER_LINEAR,
 *   core's `resizeLinearU8`); the model sees the resized image. The mask is compared as the
 *   protocol says: `imdlbenco` resizes it to the network size as always; `native` resizes it
 *   (nearest) to the resized image's size, the size the prediction has.
 * Every perturbation works on the image converted to RGB first (as IMDLBenCo's loader does).
 */

export type PerturbationKind = 'jpeg' | 'blur' | 'noise' | 'noisevar' | 'resize';

export interface Perturbation {
  kind: PerturbationKind;
  strength: number;
  /** `jpeg:50`, the CSV's `perturbation` column. */
  name: string;
}

export const PERTURBATION_KINDS: readonly PerturbationKind[] = ['jpeg', 'blur', 'noise', 'noisevar', 'resize'];

const RULES: Record<PerturbationKind, { check: (v: number) => boolean; what: string }> = {
  jpeg: { check: (v) => Number.isInteger(v) && v >= 1 && v <= 100, what: 'an integer quality in [1, 100]' },
  blur: { check: (v) => Number.isInteger(v) && v >= 1 && v <= 255 && v % 2 === 1, what: 'an odd integer kernel size in [1, 255]' },
  noise: { check: (v) => Number.isFinite(v) && v >= 0 && v <= 255, what: 'a standard deviation in [0, 255]' },
  noisevar: { check: (v) => Number.isFinite(v) && v >= 0 && v <= 65025, what: 'a variance in [0, 65025]' },
  resize: { check: (v) => Number.isFinite(v) && v > 0 && v <= 8, what: 'a factor in (0, 8]' },
};

/**
 * Parses `--perturb` values: each is `kind:v1,v2,...`, several kinds may be `;`-separated, and the
 * flag may be repeated. Order is kept (kinds, then values as written); duplicates are dropped.
 */
export function parsePerturbations(values: readonly string[], command = 'eval'): Perturbation[] {
  const out: Perturbation[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    for (const spec of value.split(';').map((s) => s.trim()).filter((s) => s.length > 0)) {
      const colon = spec.indexOf(':');
      const kind = (colon < 0 ? spec : spec.slice(0, colon)).trim().toLowerCase() as PerturbationKind;
      if (!PERTURBATION_KINDS.includes(kind)) {
        throw new UsageError(`--perturb: unknown kind "${kind}" in "${spec}" (expected ${PERTURBATION_KINDS.join(', ')})`, command);
      }
      const list = colon < 0 ? '' : spec.slice(colon + 1);
      const strengths = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (strengths.length === 0) throw new UsageError(`--perturb: "${spec}" has no values (e.g. ${kind}:${kind === 'resize' ? '0.5,0.75' : '3,7'})`, command);
      for (const s of strengths) {
        const v = Number(s);
        if (!RULES[kind].check(v)) throw new UsageError(`--perturb: ${kind} takes ${RULES[kind].what}, got "${s}"`, command);
        const name = `${kind}:${String(v)}`;
        if (seen.has(name)) continue;
        seen.add(name);
        out.push({ kind, strength: v, name });
      }
    }
  }
  return out;
}

/** Packed RGB of any RawImage (PIL `convert('RGB')`), as a 3-channel RawImage. */
function rgbOf(image: RawImage): RawImage {
  return { data: toRgb(image), width: image.width, height: image.height, channels: 3 };
}

/** OpenCV's `getGaussianKernel(k, 0)`: fixed kernels for k <= 7, else the sigma rule. */
export function gaussianKernel(k: number): Float64Array {
  if (!Number.isInteger(k) || k < 1 || k % 2 === 0) throw new RangeError(`kernel size must be a positive odd integer, got ${k}`);
  const fixed: Record<number, number[]> = {
    1: [1],
    3: [0.25, 0.5, 0.25],
    5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
  };
  if (fixed[k]) return Float64Array.from(fixed[k]);
  const sigma = 0.3 * ((k - 1) * 0.5 - 1) + 0.8;
  const scale2X = -0.5 / (sigma * sigma);
  const out = new Float64Array(k);
  let sum = 0;
  for (let i = 0; i < k; i++) {
    const x = i - (k - 1) * 0.5;
    out[i] = Math.exp(scale2X * x * x);
    sum += out[i];
  }
  for (let i = 0; i < k; i++) out[i] /= sum;
  return out;
}

/** Fraction bits of OpenCV's `ufixedpoint16` kernel taps (uint8 Gaussian blur). */
const KERNEL_FRACTION_BITS = 8;

/**
 * The integer taps OpenCV's uint8 `GaussianBlur` really uses (`getGaussianKernelFixedPoint_ED`):
 * the kernel in units of 1/256, rounded left to right with the rounding error carried to the next
 * tap (error diffusion), mirrored, and the centre set so the taps sum to exactly 256.
 */
export function gaussianKernelFixedPoint(k: number): Int32Array {
  const kernel = gaussianKernel(k);
  const one = 1 << KERNEL_FRACTION_BITS;
  const out = new Int32Array(k);
  const half = (k - 1) >> 1;
  let error = 0;
  let sum = 0;
  for (let i = 0; i < half; i++) {
    const adjusted = kernel[i] * one + error;
    const v = roundHalfEven(adjusted);
    error = adjusted - v;
    out[i] = v;
    out[k - 1 - i] = v;
    sum += v;
  }
  out[half] = one - 2 * sum;
  return out;
}

/** `cvRound`: nearest integer, ties to even (the FPU's rounding mode). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** OpenCV's `borderInterpolate` for BORDER_REFLECT_101 (`gfedcb|abcdefgh|gfedcba`). */
export function reflect101(p: number, len: number): number {
  if (len === 1) return 0;
  while (p < 0 || p >= len) p = p < 0 ? -p : 2 * len - 2 - p;
  return p;
}

/**
 * `cv2.GaussianBlur(img, (k, k), 0)` on interleaved uint8 pixels, bit for bit: OpenCV's uint8
 * path is fixed-point (`GaussianBlurFixedPoint`). Rows are filtered with the integer taps into
 * 8.8 fixed point (exact), columns into 16.16 (exact), and the result is rounded half up.
 * Borders reflect (BORDER_REFLECT_101).
 */
export function gaussianBlurU8(data: Uint8Array, width: number, height: number, channels: number, k: number): Uint8Array {
  const taps = gaussianKernelFixedPoint(k);
  const r = (k - 1) >> 1;
  if (r === 0) return data.slice();
  // Horizontal pass: sums of uint8 x 8.8 taps, at most 255 * 256, exact in a Uint16Array.
  const rows = new Uint16Array(width * height * channels);
  const xs = new Int32Array(width + 2 * r);
  for (let i = 0; i < xs.length; i++) xs[i] = reflect101(i - r, width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += taps[t] * data[(row + xs[x + t]) * channels + c];
        rows[(row + x) * channels + c] = s;
      }
    }
  }
  // Vertical pass: 8.8 x 8.8 products summed in 16.16 (below 2^24), rounded half up to uint8.
  const out = new Uint8Array(data.length);
  const ys = new Int32Array(height + 2 * r);
  for (let i = 0; i < ys.length; i++) ys[i] = reflect101(i - r, height);
  const stride = width * channels;
  const round = 1 << (2 * KERNEL_FRACTION_BITS - 1);
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < stride; i++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += taps[t] * rows[ys[y + t] * stride + i];
      const v = (s + round) >>> (2 * KERNEL_FRACTION_BITS);
      out[y * stride + i] = v > 255 ? 255 : v;
    }
  }
  return out;
}

/** Packed RGB <-> BGR: a copy with the first and third channel of every pixel exchanged. */
export function swapRedBlue(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 3) {
    out[i] = data[i + 2];
    out[i + 1] = data[i + 1];
    out[i + 2] = data[i];
  }
  return out;
}

/** 32-bit FNV-1a of a string, the noise seed of one image. */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Standard normal deviates from mulberry32 through Box-Muller (both values of each pair used). */
export function gaussianSource(seed: number): () => number {
  let state = seed | 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const u1 = 1 - uniform(); // (0, 1]: log is finite
    const u2 = uniform();
    const m = Math.sqrt(-2 * Math.log(u1));
    spare = m * Math.sin(2 * Math.PI * u2);
    return m * Math.cos(2 * Math.PI * u2);
  };
}

/** Adds N(0, sigma^2) noise to every value, clips to [0, 255] and truncates (albumentations). */
export function addGaussianNoiseU8(data: Uint8Array, sigma: number, seed: number): Uint8Array {
  const next = gaussianSource(seed);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] + sigma * next();
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
  }
  return out;
}

/**
 * Applies one perturbation to a decoded image; returns an RGB RawImage for the model. `key`
 * (the image's id) and `seed` make the noise reproducible.
 */
export async function applyPerturbation(image: RawImage, p: Perturbation, key: string, seed: number): Promise<RawImage> {
  const rgb = rgbOf(image);
  const { width, height } = rgb;
  const data = rgb.data as Uint8Array;
  switch (p.kind) {
    case 'jpeg': {
      // albumentations hands the RGB array to cv2.imencode, which reads it as BGR: the colour
      // transform's luma weights fall on swapped channels. Swapping R and B around the round trip
      // reproduces it (sharp's libjpeg-turbo encoder and decoder then give OpenCV's bytes).
      const { default: sharp } = await import('sharp');
      const jpeg = await sharp(swapRedBlue(data), { raw: { width, height, channels: 3 } })
        .jpeg({ quality: p.strength, chromaSubsampling: '4:2:0' })
        .toBuffer();
      const { decodeImage } = await import('@sparsevit/node');
      const decoded = await decodeImage(new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength), { maxPixels: Number.MAX_SAFE_INTEGER });
      return { ...decoded, data: swapRedBlue(decoded.data as Uint8Array) };
    }
    case 'blur':
      return { data: gaussianBlurU8(data, width, height, 3, p.strength), width, height, channels: 3 };
    case 'noise':
    case 'noisevar': {
      const sigma = p.kind === 'noise' ? p.strength : Math.sqrt(p.strength);
      return { data: addGaussianNoiseU8(data, sigma, hashString(`${p.name}\u0000${key}`, seed)), width, height, channels: 3 };
    }
    case 'resize': {
      const outW = Math.max(1, Math.round(width * p.strength));
      const outH = Math.max(1, Math.round(height * p.strength));
      if (outW === width && outH === height) return rgb;
      return { data: resizeLinearU8(data, width, height, outW, outH, 3), width: outW, height: outH, channels: 3 };
    }
    default:
      throw new Error(`unknown perturbation ${String((p as Perturbation).kind)}`);
  }
}
