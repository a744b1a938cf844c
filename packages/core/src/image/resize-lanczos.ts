import { SparseViTError } from '../errors';

/** Pillow `Resample.c`: `sinc_filter`. */
function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Pillow `Resample.c`: `lanczos_filter`, a sinc windowed by a 3-lobe sinc, support 3. */
function lanczos(x: number): number {
  if (-3 <= x && x < 3) return sinc(x) * sinc(x / 3);
  return 0;
}

const LANCZOS_SUPPORT = 3;

interface Coeffs {
  /** Taps per output index (stride of `k`). */
  ksize: number;
  /** First source index of each output index. */
  xmin: Int32Array;
  /** Number of source taps of each output index. */
  count: Int32Array;
  /** Normalized weights, `ksize` per output index, float64 as in Pillow. */
  k: Float64Array;
}

/**
 * Pillow `Resample.c` `precompute_coeffs` for the box `[0, inSize)`: the filter is stretched by
 * the downscale factor (never shrunk), each output center is `(x + 0.5) * scale`, the window is
 * `[(int)(center - support + 0.5), (int)(center + support + 0.5))` clipped to the image, and the
 * weights are divided by their sum. The C casts truncate toward zero, as `Math.trunc`.
 */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = LANCZOS_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const xminArr = new Int32Array(outSize);
  const countArr = new Int32Array(outSize);
  const kk = new Float64Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const base = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      kk[base + x] = w;
      ww += w;
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) kk[base + x] /= ww;
    xminArr[xx] = xmin;
    countArr[xx] = xmax;
  }
  return { ksize, xmin: xminArr, count: countArr, k: kk };
}

function checkDim(name: string, v: number): void {
  if (!(Number.isSafeInteger(v) && v > 0)) {
    throw new SparseViTError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * Resizes a single-channel float32 map (row-major `inW x inH`) as
 * `Image.fromarray(arr, mode='F').resize((outW, outH), Image.LANCZOS)` does: how the reference
 * brings `prob512` back to the image's own size (`prob_full`).
 *
 * Pillow `ImagingResampleInner`: a horizontal pass first, over only the source rows the vertical
 * pass will read (`ybox_first .. ybox_last`, which does not change any value), into a mode 'F'
 * intermediate, hence rounded to float32; then a vertical pass. Each output value is a float64
 * sum of float32 samples times float64 weights (`ImagingResampleHorizontal_32bpc`, float32 case),
 * stored as float32. A pass is skipped when its axis keeps its size; same size returns a copy.
 */
export function resizeLanczosMap(src: Float32Array, inW: number, inH: number, outW: number, outH: number): Float32Array {
  checkDim('inW', inW);
  checkDim('inH', inH);
  checkDim('outW', outW);
  checkDim('outH', outH);
  if (src.length !== inW * inH) {
    throw new SparseViTError('INVALID_ARGUMENT', `map has ${src.length} values, expected ${inW}x${inH} = ${inW * inH}`);
  }
  const needHorizontal = outW !== inW;
  const needVertical = outH !== inH;
  if (!needHorizontal && !needVertical) return Float32Array.from(src);

  const vert = precomputeCoeffs(inH, outH);
  let img = src;
  let rowShift = 0;
  if (needHorizontal) {
    const horiz = precomputeCoeffs(inW, outW);
    const yFirst = needVertical ? vert.xmin[0] : 0;
    const yLast = needVertical ? vert.xmin[outH - 1] + vert.count[outH - 1] : inH;
    const rows = yLast - yFirst;
    const tmp = new Float32Array(rows * outW);
    const { ksize, xmin, count, k } = horiz;
    for (let yy = 0; yy < rows; yy++) {
      const srow = (yy + yFirst) * inW;
      const orow = yy * outW;
      for (let xx = 0; xx < outW; xx++) {
        const s0 = srow + xmin[xx];
        const kb = xx * ksize;
        const n = count[xx];
        let ss = 0;
        for (let x = 0; x < n; x++) ss += img[s0 + x] * k[kb + x];
        tmp[orow + xx] = ss;
      }
    }
    img = tmp;
    rowShift = yFirst;
  }
  if (!needVertical) return img;

  const w = outW;
  const out = new Float32Array(outW * outH);
  const { ksize, xmin, count, k } = vert;
  // Row-wise accumulation in float64: the same sum, in the same tap order, as Pillow's per-pixel
  // loop, but reading contiguous rows.
  const acc = new Float64Array(w);
  for (let yy = 0; yy < outH; yy++) {
    const y0 = xmin[yy] - rowShift;
    const kb = yy * ksize;
    const n = count[yy];
    acc.fill(0);
    for (let y = 0; y < n; y++) {
      const wy = k[kb + y];
      const row = (y0 + y) * w;
      for (let xx = 0; xx < w; xx++) acc[xx] += img[row + xx] * wy;
    }
    out.set(acc, yy * w);
  }
  return out;
}
