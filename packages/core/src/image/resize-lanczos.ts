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
 *
 * Memory is proportional to the output, not to `inH x outW`: Pillow keeps the whole horizontal
 * intermediate (every needed source row at the output's width: 512 rows x 50,000,000 columns for
 * a 50,000,000 x 1 image), this streams it. Source rows are resampled horizontally one at a time,
 * in order, and each is added into the float64 accumulators of the output rows whose windows
 * hold it, so every output value is the same sum, over the same taps in the same order, as
 * Pillow's. An output row is written out when its window closes; only the rows whose windows are
 * open at once are accumulated (about `2 * 3 * max(1, outH / inH) + 1` of them).
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

  const horiz = needHorizontal ? precomputeCoeffs(inW, outW) : undefined;
  const row = needHorizontal ? new Float32Array(outW) : undefined;
  /** Source row `y` resampled to the output's width (float32, as Pillow's intermediate). */
  const horizontalRow = (y: number): Float32Array => {
    if (!horiz || !row) return src.subarray(y * inW, (y + 1) * inW);
    const { ksize, xmin, count, k } = horiz;
    const srow = y * inW;
    for (let xx = 0; xx < outW; xx++) {
      const s0 = srow + xmin[xx];
      const kb = xx * ksize;
      const n = count[xx];
      let ss = 0;
      for (let x = 0; x < n; x++) ss += src[s0 + x] * k[kb + x];
      row[xx] = ss;
    }
    return row;
  };

  const out = new Float32Array(outW * outH);
  if (!needVertical) {
    for (let y = 0; y < outH; y++) out.set(horizontalRow(y), y * outW);
    return out;
  }

  const { ksize, xmin, count, k } = precomputeCoeffs(inH, outH);
  // Output rows whose windows are open, in a ring of float64 accumulators. Windows start and end
  // in order (xmin and xmin + count never decrease), so rows open and close first in, first out.
  let slots = 1;
  for (let yy = 0, first = 0; yy < outH; yy++) {
    while (xmin[first] + count[first] <= xmin[yy]) first++;
    slots = Math.max(slots, yy - first + 1);
  }
  const acc = new Float64Array(slots * outW);
  let opened = 0; // output rows opened so far
  let closed = 0; // output rows written so far
  const yFirst = xmin[0];
  const yLast = xmin[outH - 1] + count[outH - 1];
  for (let y = yFirst; y < yLast; y++) {
    // Open every output row whose window starts at or before y.
    while (opened < outH && xmin[opened] <= y) {
      acc.fill(0, (opened % slots) * outW, (opened % slots + 1) * outW);
      opened++;
    }
    const h = horizontalRow(y);
    for (let yy = closed; yy < opened; yy++) {
      const tap = y - xmin[yy];
      if (tap >= count[yy]) continue;
      const wy = k[yy * ksize + tap];
      const a = (yy % slots) * outW;
      for (let xx = 0; xx < outW; xx++) acc[a + xx] += h[xx] * wy;
    }
    // Close (write out) every output row whose window ends at y.
    while (closed < opened && xmin[closed] + count[closed] <= y + 1) {
      const a = (closed % slots) * outW;
      out.set(acc.subarray(a, a + outW), closed * outW);
      closed++;
    }
  }
  // Rows with an empty window (none for valid sizes) stay 0, as Pillow's.
  return out;
}
