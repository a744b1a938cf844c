/**
 * Interleaved 8-bit rasters (RGB images with 3 channels, masks with 1) and the pixel operations
 * the synthesizer needs, in plain TypeScript: resampling, flips, quarter turns, blur and a
 * brightness/contrast curve. Small and allocation-light, so a 256x256 sample costs a few ms.
 */
export interface Raster {
  data: Uint8Array;
  width: number;
  height: number;
  /** 3 for RGB, 1 for a mask. */
  channels: number;
}

export function createRaster(width: number, height: number, channels: number): Raster {
  return { data: new Uint8Array(width * height * channels), width, height, channels };
}

export function cloneRaster(r: Raster): Raster {
  return { data: r.data.slice(), width: r.width, height: r.height, channels: r.channels };
}

/** A source rectangle in pixels (may be fractional). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  /** Taps per output sample in `weights` (the stride). */
  stride: number;
}

/**
 * Filter taps of a triangle (linear) kernel widened by the downscale factor, so downscaling
 * averages every source pixel (antialiased, like Pillow's BILINEAR) and upscaling is plain
 * bilinear interpolation. Source indices are clamped to the edge.
 */
function taps(sourceSize: number, offset: number, span: number, outSize: number): Taps {
  const scale = span / outSize;
  const support = Math.max(1, scale);
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    const center = offset + (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(center - support));
    const hi = Math.min(sourceSize - 1, Math.ceil(center + support) - 1);
    let n = 0;
    let sum = 0;
    for (let i = lo; i <= hi && n < stride; i++) {
      const w = 1 - Math.abs((i + 0.5 - center) / support);
      if (w <= 0) continue;
      if (n === 0) start[o] = i;
      // Taps are contiguous: indices between the first and this one get weight 0.
      const slot = i - start[o];
      if (slot >= stride) break;
      weights[o * stride + slot] = w;
      n = slot + 1;
      sum += w;
    }
    if (n === 0) {
      // The center lies outside the source: take the nearest edge pixel.
      start[o] = Math.min(sourceSize - 1, Math.max(0, Math.floor(center)));
      weights[o * stride] = 1;
      n = 1;
      sum = 1;
    }
    count[o] = n;
    for (let k = 0; k < n; k++) weights[o * stride + k] /= sum;
  }
  return { start, count, weights, stride };
}

/**
 * Resamples the rectangle `region` of `src` (default: all of it) to `width` x `height`,
 * antialiased when shrinking (see {@link taps}). Used for images; masks use {@link resizeNearest}.
 */
export function resample(src: Raster, width: number, height: number, region?: Rect): Raster {
  const c = src.channels;
  const rx = region?.x ?? 0;
  const ry = region?.y ?? 0;
  const tx = taps(src.width, rx, region?.width ?? src.width, width);
  const ty = taps(src.height, ry, region?.height ?? src.height, height);
  // Source rows the vertical pass reads.
  let rowLo = src.height;
  let rowHi = -1;
  for (let o = 0; o < height; o++) {
    rowLo = Math.min(rowLo, ty.start[o]);
    rowHi = Math.max(rowHi, ty.start[o] + ty.count[o] - 1);
  }
  const rows = rowHi - rowLo + 1;
  const mid = new Float32Array(rows * width * c);
  const s = src.data;
  for (let r = 0; r < rows; r++) {
    const rowBase = (rowLo + r) * src.width * c;
    const outBase = r * width * c;
    for (let o = 0; o < width; o++) {
      const st = tx.start[o];
      const n = tx.count[o];
      const wb = o * tx.stride;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += s[rowBase + (st + k) * c + ch] * tx.weights[wb + k];
        mid[outBase + o * c + ch] = acc;
      }
    }
  }
  const out = createRaster(width, height, c);
  const d = out.data;
  const rowLen = width * c;
  for (let o = 0; o < height; o++) {
    const st = ty.start[o] - rowLo;
    const n = ty.count[o];
    const wb = o * ty.stride;
    const outBase = o * rowLen;
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += mid[(st + k) * rowLen + i] * ty.weights[wb + k];
      d[outBase + i] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
  return out;
}

/** Nearest-neighbour resize (pixel centers), for masks: values are copied, never blended. */
export function resizeNearest(src: Raster, width: number, height: number): Raster {
  const c = src.channels;
  const out = createRaster(width, height, c);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = Math.min(src.width - 1, Math.floor(((x + 0.5) * src.width) / width));
  for (let y = 0; y < height; y++) {
    const sy = Math.min(src.height - 1, Math.floor(((y + 0.5) * src.height) / height));
    const srow = sy * src.width * c;
    const orow = y * width * c;
    for (let x = 0; x < width; x++) for (let ch = 0; ch < c; ch++) out.data[orow + x * c + ch] = src.data[srow + xs[x] * c + ch];
  }
  return out;
}

/** Mirror left-right. */
export function flipHorizontal(src: Raster): Raster {
  const { width, height, channels: c } = src;
  const out = createRaster(width, height, c);
  for (let y = 0; y < height; y++) {
    const row = y * width * c;
    for (let x = 0; x < width; x++) {
      const from = row + x * c;
      const to = row + (width - 1 - x) * c;
      for (let ch = 0; ch < c; ch++) out.data[to + ch] = src.data[from + ch];
    }
  }
  return out;
}

/** Mirror top-bottom. */
export function flipVertical(src: Raster): Raster {
  const { width, height, channels: c } = src;
  const out = createRaster(width, height, c);
  const rowLen = width * c;
  for (let y = 0; y < height; y++) out.data.set(src.data.subarray(y * rowLen, (y + 1) * rowLen), (height - 1 - y) * rowLen);
  return out;
}

/**
 * Rotates by `k` quarter turns counter-clockwise (numpy's `rot90(img, k)`, which albumentations'
 * `RandomRotate90` applies); odd `k` swaps width and height.
 */
export function rotate90(src: Raster, k: number): Raster {
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return cloneRaster(src);
  const { width: w, height: h, channels: c } = src;
  const ow = turns % 2 === 1 ? h : w;
  const oh = turns % 2 === 1 ? w : h;
  const out = createRaster(ow, oh, c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Counter-clockwise: (x, y) -> (y, w-1-x) for one turn.
      let nx: number;
      let ny: number;
      if (turns === 1) {
        nx = y;
        ny = w - 1 - x;
      } else if (turns === 2) {
        nx = w - 1 - x;
        ny = h - 1 - y;
      } else {
        nx = h - 1 - y;
        ny = x;
      }
      const from = (y * w + x) * c;
      const to = (ny * ow + nx) * c;
      for (let ch = 0; ch < c; ch++) out.data[to + ch] = src.data[from + ch];
    }
  }
  return out;
}

/**
 * OpenCV's kernels for `GaussianBlur(ksize, sigma=0)`, which albumentations' `GaussianBlur`
 * calls: for ksize <= 7 `getGaussianKernel` uses these fixed tables, not the sigma formula.
 */
const SMALL_GAUSSIAN_KERNELS: Record<number, readonly number[]> = {
  1: [1],
  3: [0.25, 0.5, 0.25],
  5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
  7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
};

/** OpenCV's Gaussian kernel for an odd size and sigma 0 (default). */
export function gaussianKernel(ksize: number): Float32Array {
  const table = SMALL_GAUSSIAN_KERNELS[ksize];
  if (table) return Float32Array.from(table);
  const sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8;
  const r = (ksize - 1) >> 1;
  const k = Float32Array.from({ length: ksize }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / sum);
}

/** Index reflection without repeating the edge (OpenCV's BORDER_REFLECT_101). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Gaussian blur as OpenCV's `GaussianBlur(src, (k, k), 0)`: separable, reflect-101 border. */
export function gaussianBlur(src: Raster, ksize: number): Raster {
  if (ksize < 1 || ksize % 2 !== 1) throw new RangeError(`gaussianBlur: ksize must be odd and >= 1, got ${ksize}`);
  const r = (ksize - 1) >> 1;
  const kernel = gaussianKernel(ksize);
  const { width: w, height: h, channels: c } = src;
  const mid = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let k = 0; k < ksize; k++) acc += kernel[k] * src.data[row + reflect101(x + k - r, w) * c + ch];
        mid[row + x * c + ch] = acc;
      }
    }
  }
  const out = createRaster(w, h, c);
  const rowLen = w * c;
  for (let y = 0; y < h; y++) {
    for (let i = 0; i < rowLen; i++) {
      let acc = 0;
      for (let k = 0; k < ksize; k++) acc += kernel[k] * mid[reflect101(y + k - r, h) * rowLen + i];
      out.data[y * rowLen + i] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.round(acc);
    }
  }
  return out;
}

/**
 * albumentations' `RandomBrightnessContrast` on uint8 (brightness by max): `v * alpha + beta * 255`,
 * clipped, through a lookup table.
 */
export function brightnessContrast(src: Raster, alpha: number, beta: number): Raster {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const x = v * alpha + beta * 255;
    lut[v] = x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
  }
  const out = createRaster(src.width, src.height, src.channels);
  for (let i = 0; i < src.data.length; i++) out.data[i] = lut[src.data[i]];
  return out;
}
