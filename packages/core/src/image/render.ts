import { SparseViTError } from '../errors';
import type { RawImage } from './raw-image';
import { toRgb } from './to-rgb';

export interface OverlayOptions {
  /** Tint strength at probability 1, in [0, 1]. Default 0.5. */
  opacity?: number;
  /** Tint color, 8-bit RGB. Default red `[255, 0, 0]`. */
  color?: readonly [number, number, number];
  /** When given, pixels with `prob <= threshold` are left untinted. */
  threshold?: number;
  /**
   * Also draw the contour of the mask (`prob > threshold`, 0.5 when no threshold is given): white
   * on its inner edge, black on its outer edge, so that it reads on any photo (a red tint alone
   * vanishes on a red flower). Default false.
   */
  outline?: boolean;
}

/** Probability clamped into [0, 1]; NaN (and anything not a number) as 0. */
function unit(p: number): number {
  return p > 0 ? (p < 1 ? p : 1) : 0;
}

function checkMapLength(name: string, length: number, width: number, height: number): void {
  if (!(Number.isSafeInteger(width) && width > 0 && Number.isSafeInteger(height) && height > 0)) {
    throw new SparseViTError('INVALID_ARGUMENT', `width and height must be positive integers, got ${width}x${height}`);
  }
  if (length !== width * height) {
    throw new SparseViTError('INVALID_ARGUMENT', `${name} has ${length} values, expected ${width}x${height} = ${width * height}`);
  }
}

/**
 * The image with a tint proportional to the probability: `out = rgb * (1 - a) + color * a`,
 * `a = opacity * prob` (0 at or below `threshold` when one is given). RGBA, opaque, same size as
 * the image, ready for `new ImageData(out, width, height)`. The image is shown as the model saw
 * it: RGB, alpha dropped (`toRgb`). `prob` is the map at the image's size (`prob_full`).
 */
export function renderOverlay(image: RawImage, prob: ArrayLike<number>, options: OverlayOptions = {}): Uint8ClampedArray {
  const rgb = toRgb(image);
  const { width, height } = image;
  checkMapLength('prob', prob.length, width, height);
  const opacity = options.opacity ?? 0.5;
  if (!(typeof opacity === 'number' && opacity >= 0 && opacity <= 1)) {
    throw new SparseViTError('INVALID_ARGUMENT', `opacity must be in [0, 1], got ${String(opacity)}`);
  }
  const color = options.color ?? [255, 0, 0];
  if (color.length !== 3 || color.some((c) => !(typeof c === 'number' && c >= 0 && c <= 255))) {
    throw new SparseViTError('INVALID_ARGUMENT', 'color must be three numbers in [0, 255]');
  }
  const threshold = options.threshold;
  if (threshold !== undefined && !(typeof threshold === 'number' && Number.isFinite(threshold))) {
    throw new SparseViTError('INVALID_ARGUMENT', `threshold must be a finite number, got ${String(threshold)}`);
  }
  const outline = options.outline ?? false;
  if (typeof outline !== 'boolean') throw new SparseViTError('INVALID_ARGUMENT', `outline must be a boolean, got ${String(outline)}`);
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  const [cr, cg, cb] = color;
  for (let i = 0, j = 0, o = 0; i < n; i++, j += 3, o += 4) {
    const p = prob[i];
    const a = threshold !== undefined && !(p > threshold) ? 0 : opacity * unit(p);
    const b = 1 - a;
    // Uint8ClampedArray rounds (half to even) and clamps on store.
    out[o] = rgb[j] * b + cr * a;
    out[o + 1] = rgb[j + 1] * b + cg * a;
    out[o + 2] = rgb[j + 2] * b + cb * a;
    out[o + 3] = 255;
  }
  if (outline) drawContour(out, prob, width, height, threshold ?? 0.5);
  return out;
}

/**
 * The mask's contour as two bands `r` pixels wide (`r` grows with the image, 1 px up to 600 px on
 * the long side, so the line stays visible on a 4000 px photo): inside pixels within `r` of an
 * outside one white, outside pixels within `r` of an inside one black (Chebyshev distance; off
 * the image counts as outside). Two separable passes per band: O(pixels) whatever `r`.
 */
function drawContour(rgba: Uint8ClampedArray, prob: ArrayLike<number>, width: number, height: number, threshold: number): void {
  const n = width * height;
  const r = Math.max(1, Math.round(Math.max(width, height) / 600));
  const inside = new Uint8Array(n);
  const outside = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (prob[i] > threshold) inside[i] = 1;
    else outside[i] = 1;
  }
  const nearInside = dilate(inside, width, height, r, 0);
  const nearOutside = dilate(outside, width, height, r, 1);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const v = inside[i] ? (nearOutside[i] ? 255 : -1) : nearInside[i] ? 0 : -1;
    if (v < 0) continue;
    rgba[o] = v;
    rgba[o + 1] = v;
    rgba[o + 2] = v;
  }
}

/** 1 where `mask` has a 1 within `r` pixels (a square window); `border` is what lies off the image. */
function dilate(mask: Uint8Array, width: number, height: number, r: number, border: 0 | 1): Uint8Array {
  const pass = (src: Uint8Array, lines: number, length: number, at: (line: number, k: number) => number): Uint8Array => {
    const out = new Uint8Array(src.length);
    const prefix = new Int32Array(length + 1);
    for (let line = 0; line < lines; line++) {
      for (let k = 0; k < length; k++) prefix[k + 1] = prefix[k] + src[at(line, k)];
      for (let k = 0; k < length; k++) {
        const lo = k - r;
        const hi = k + r;
        const any = prefix[Math.min(length, hi + 1)] - prefix[Math.max(0, lo)] > 0 || (border === 1 && (lo < 0 || hi >= length));
        out[at(line, k)] = any ? 1 : 0;
      }
    }
    return out;
  };
  const rows = pass(mask, height, width, (y, x) => y * width + x);
  return pass(rows, width, height, (x, y) => y * width + x);
}

/**
 * Google's Turbo colormap (Anton Mikhailov, 2019; Copyright 2019 Google LLC, Apache-2.0), a
 * perceptually ordered, high-contrast rainbow. Every 8th entry of the published 256-entry LUT
 * (https://gist.github.com/mikhailov-work/ee72ba4191942acecc03fe6da94fc73f, the same data as
 * matplotlib's `turbo`) plus the last one, linearly interpolated in between: within about two
 * 8-bit levels of the full table, where the common degree-5 polynomial fit is off by up to ~30
 * levels at the dark ends.
 */
const TURBO_KEYS: readonly (readonly [number, number, number])[] = [
  [0.18995, 0.07176, 0.23217], [0.225, 0.16354, 0.45096], [0.25107, 0.25237, 0.63374], [0.26816, 0.33825, 0.7805],
  [0.27628, 0.42118, 0.89123], [0.27543, 0.50115, 0.96594], [0.25862, 0.57958, 0.99876], [0.21382, 0.65886, 0.97959],
  [0.15844, 0.73551, 0.92305], [0.11167, 0.80569, 0.84525], [0.09267, 0.86554, 0.7623], [0.12014, 0.91193, 0.6866],
  [0.19659, 0.94901, 0.59466], [0.30513, 0.97697, 0.48987], [0.42778, 0.99419, 0.38575], [0.54658, 0.99907, 0.29581],
  [0.64362, 0.98999, 0.23356], [0.72596, 0.9647, 0.2064], [0.80473, 0.92452, 0.20459], [0.8753, 0.87267, 0.21555],
  [0.93301, 0.81236, 0.22667], [0.97323, 0.74682, 0.22536], [0.99314, 0.67408, 0.20348], [0.99593, 0.58703, 0.16899],
  [0.9836, 0.49291, 0.12849], [0.95801, 0.39958, 0.08831], [0.92105, 0.31489, 0.05475], [0.87422, 0.24526, 0.03297],
  [0.81608, 0.18462, 0.01809], [0.74617, 0.13098, 0.00851], [0.66449, 0.08436, 0.00424], [0.57103, 0.04474, 0.00529],
  [0.4796, 0.01583, 0.01055],
];
/** LUT index of each key: 0, 8, ..., 248, then 255. */
const keyIndex = (j: number): number => Math.min(j * 8, 255);

/** 256-entry RGB table of the colormap, built once: rendering is then a lookup per pixel. */
const TURBO_LUT: Uint8ClampedArray = (() => {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const j = Math.min(i >> 3, TURBO_KEYS.length - 2);
    const i0 = keyIndex(j);
    const t = (i - i0) / (keyIndex(j + 1) - i0);
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = (TURBO_KEYS[j][c] * (1 - t) + TURBO_KEYS[j + 1][c] * t) * 255;
  }
  return lut;
})();

/** The Turbo color of a value in [0, 1] (clamped), as 8-bit RGB. */
export function turboColor(value: number): [number, number, number] {
  const i = Math.round(unit(value) * 255) * 3;
  return [TURBO_LUT[i], TURBO_LUT[i + 1], TURBO_LUT[i + 2]];
}

/**
 * A probability map (row-major `width x height`, values in [0, 1]) as an opaque RGBA image in
 * the perceptually ordered Turbo colormap: dark blue at 0 through green and yellow to dark red
 * at 1. Values outside [0, 1] are clamped; NaN shows as 0.
 */
export function renderHeatmap(prob: ArrayLike<number>, width: number, height: number): Uint8ClampedArray {
  checkMapLength('prob', prob.length, width, height);
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const k = Math.round(unit(prob[i]) * 255) * 3;
    out[o] = TURBO_LUT[k];
    out[o + 1] = TURBO_LUT[k + 1];
    out[o + 2] = TURBO_LUT[k + 2];
    out[o + 3] = 255;
  }
  return out;
}

/**
 * A binary mask (any non-zero value is "manipulated") as an opaque RGBA image, white on black:
 * the convention of forgery-localization ground-truth masks.
 */
export function renderMask(mask: ArrayLike<number>, width: number, height: number): Uint8ClampedArray {
  checkMapLength('mask', mask.length, width, height);
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0, o = 0; i < n; i++, o += 4) {
    const v = mask[i] ? 255 : 0;
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
    out[o + 3] = 255;
  }
  return out;
}
