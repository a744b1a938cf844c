import { SparseViTError } from '../errors';

/**
 * Fixed-point weights of OpenCV's uint8 `INTER_LINEAR` (`INTER_RESIZE_COEF_BITS` = 11, so the two
 * weights of a tap sum to about 2048).
 */
const COEF_SCALE = 2048;

/** `cvRound` of a float: round half to even (`lrintf` in the default rounding mode). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

interface AxisTaps {
  /** First source index of each output index (the second is `s + 1`, clipped). */
  s: Int32Array;
  /** Weight of source `s`, scaled by 2048. */
  w0: Int32Array;
  /** Weight of source `s + 1`, scaled by 2048. */
  w1: Int32Array;
}

/**
 * Per-output-index source positions and weights along one axis, as OpenCV `resize.cpp`
 * (`resizeGeneric` set-up for `INTER_LINEAR`) computes them:
 * `fx = (float)((dx + 0.5) * scale - 0.5); sx = cvFloor(fx); fx -= sx;`
 * `alpha = saturate_cast<short>((1.f - fx) * 2048), saturate_cast<short>(fx * 2048)`.
 * `scale` is `1. / inv_scale` with `inv_scale = (double)dst / src`, as `cv::resize` derives it
 * (this can differ from `src / dst` in the last bit of the double, which the float32 cast then
 * almost always absorbs).
 *
 * `clampX`: OpenCV clamps only the horizontal taps at the borders (`if (sx < 0) fx = 0, sx = 0;`
 * `if (sx >= ssize.width - 1) fx = 0, sx = ssize.width - 1;`). Vertically it keeps `sy` = -1 or
 * `n - 1` with its fractional weight and clips each of the two source rows into range instead;
 * the difference shows in the rounding of border rows.
 */
function axisTaps(n: number, m: number, clampX: boolean): AxisTaps {
  const scale = 1 / (m / n);
  const s = new Int32Array(m);
  const w0 = new Int32Array(m);
  const w1 = new Int32Array(m);
  for (let d = 0; d < m; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let si = Math.floor(f);
    f = Math.fround(f - si);
    if (clampX) {
      if (si < 0) {
        si = 0;
        f = 0;
      }
      if (si >= n - 1) {
        si = n - 1;
        f = 0;
      }
    }
    s[d] = si;
    // Products by 2048 are exact in float32, so only the subtraction needs fround.
    w0[d] = roundHalfEven(Math.fround(1 - f) * COEF_SCALE);
    w1[d] = roundHalfEven(f * COEF_SCALE);
  }
  return { s, w0, w1 };
}

function checkDim(name: string, v: number): void {
  if (!(Number.isSafeInteger(v) && v > 0)) {
    throw new SparseViTError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * Resizes interleaved 8-bit pixels like OpenCV's `cv2.resize(src, (outW, outH),
 * interpolation=cv2.INTER_LINEAR)` on a uint8 image, bit for bit (the recipe in
 * `tooling/fixtures/README.md`, measured at 100% agreement with OpenCV for sizes 37 to 4000 px):
 *
 * 1. Horizontal pass in exact integers (`HResizeLinear`, int work type):
 *    `H[x] = P[sx] * a0 + P[min(sx + 1, w - 1)] * a1`.
 * 2. Vertical pass as OpenCV's SIMD kernel `VResizeLinearVec_32s8u` does it, with arithmetic
 *    shifts that drop low bits before the multiply (`v_shr<4>`, `v_mul_hi` = `>> 16`,
 *    `v_rshr_pack_u<2>` = `(+2) >> 2` with saturation):
 *    `out = ((((H0 >> 4) * b0) >> 16) + (((H1 >> 4) * b1) >> 16) + 2) >> 2`, clamped to 0..255.
 *    OpenCV's scalar tail (`FixedPtCast`, `(H0 * b0 + H1 * b1 + (1 << 21)) >> 22`) only runs on
 *    the last `outW * channels mod (SIMD width)` values of a row, which depends on the CPU; for
 *    the model's square sizes (e.g. 512 x 3 = 1536, a multiple of 64) the SIMD path covers all.
 *
 * An exact 2x downscale, which OpenCV sends to `INTER_AREA`'s fast path, gives the same values
 * (weights 1024/1024 make both `(a + b + c + d + 2) >> 2`), and an identity size returns a copy.
 *
 * Only the source rows that output rows touch go through the horizontal pass (two row buffers,
 * as OpenCV's ring buffer), so large downscales cost about `2 * outH * outW * channels` steps.
 *
 * `select` (optional) picks and orders source channels: output channel `c` is source channel
 * `select[c]`, and the output has `select.length` channels. Channels are resized independently,
 * so `select = [0, 0, 0]` on gray or `[0, 1, 2]` on RGBA equals converting to RGB first and then
 * resizing, without a full-size RGB copy of a large image.
 */
export function resizeLinearU8(
  src: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  outW: number,
  outH: number,
  channels: number,
  select?: readonly number[],
): Uint8Array {
  checkDim('width', width);
  checkDim('height', height);
  checkDim('outW', outW);
  checkDim('outH', outH);
  checkDim('channels', channels);
  if (src.length !== width * height * channels) {
    throw new SparseViTError(
      'INVALID_ARGUMENT',
      `source has ${src.length} values, expected ${width}x${height}x${channels} = ${width * height * channels}`,
    );
  }
  const map = select ?? Array.from({ length: channels }, (_, c) => c);
  if (map.length === 0 || map.some((c) => !(Number.isInteger(c) && c >= 0 && c < channels))) {
    throw new SparseViTError('INVALID_ARGUMENT', `select must list source channels in [0, ${channels}), got ${JSON.stringify(select)}`);
  }
  const srcCn = channels;
  const cn = map.length;
  if (width === outW && height === outH && select === undefined) return Uint8Array.from(src);

  const xt = axisTaps(width, outW, true);
  const yt = axisTaps(height, outH, false);
  const rowLen = outW * cn;

  // Per output value (x, c): source offsets within a row and the weights, flattened so the
  // inner loop is a plain multiply-add.
  const xo0 = new Int32Array(rowLen);
  const xo1 = new Int32Array(rowLen);
  const xa0 = new Int32Array(rowLen);
  const xa1 = new Int32Array(rowLen);
  for (let dx = 0; dx < outW; dx++) {
    const sx = xt.s[dx];
    const sx1 = Math.min(sx + 1, width - 1);
    for (let c = 0; c < cn; c++) {
      const k = dx * cn + c;
      xo0[k] = sx * srcCn + map[c];
      xo1[k] = sx1 * srcCn + map[c];
      xa0[k] = xt.w0[dx];
      xa1[k] = xt.w1[dx];
    }
  }

  const bufs = [new Int32Array(rowLen), new Int32Array(rowLen)];
  const bufRow = [-1, -1];
  const srcStride = width * srcCn;
  const horizontal = (row: number, keep: number): Int32Array => {
    if (bufRow[0] === row) return bufs[0];
    if (bufRow[1] === row) return bufs[1];
    const slot = bufRow[0] === keep ? 1 : 0;
    const buf = bufs[slot];
    const base = row * srcStride;
    for (let k = 0; k < rowLen; k++) {
      buf[k] = src[base + xo0[k]] * xa0[k] + src[base + xo1[k]] * xa1[k];
    }
    bufRow[slot] = row;
    return buf;
  };

  const out = new Uint8Array(outH * rowLen);
  const maxRow = height - 1;
  for (let dy = 0; dy < outH; dy++) {
    const sy = yt.s[dy];
    const r0 = sy < 0 ? 0 : sy > maxRow ? maxRow : sy;
    const r1 = sy + 1 < 0 ? 0 : sy + 1 > maxRow ? maxRow : sy + 1;
    const h0 = horizontal(r0, -1);
    const h1 = horizontal(r1, r0);
    const b0 = yt.w0[dy];
    const b1 = yt.w1[dy];
    const o = dy * rowLen;
    for (let k = 0; k < rowLen; k++) {
      const v = ((((h0[k] >> 4) * b0) >> 16) + (((h1[k] >> 4) * b1) >> 16) + 2) >> 2;
      out[o + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
