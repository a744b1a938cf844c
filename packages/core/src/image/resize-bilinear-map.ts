import { SparseViTError } from '../errors';

interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/**
 * PyTorch `UpSample.h` `area_pixel_compute_source_index` (align_corners=False) and
 * `compute_indices_weights_linear`, in float32 as the CPU kernel computes for float tensors:
 * `src = max(scale * (dst + 0.5) - 0.5, 0)`, `i0 = (int)src`, `i1 = min(i0 + 1, in - 1)`,
 * `l1 = src - i0`, `l0 = 1 - l1`, with `scale = (float)in / out`.
 */
function linearTaps(inSize: number, outSize: number): LinearTaps {
  const f = Math.fround;
  const scale = f(inSize / outSize);
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  for (let d = 0; d < outSize; d++) {
    let src = f(f(scale * f(d + 0.5)) - 0.5);
    if (src < 0) src = 0;
    const i = Math.trunc(src);
    const lam = Math.min(Math.max(f(src - i), 0), 1);
    i0[d] = i;
    i1[d] = Math.min(i + 1, inSize - 1);
    l1[d] = lam;
    l0[d] = f(1 - lam);
  }
  return { i0, i1, l0, l1 };
}

/**
 * Bilinear resize of a single-channel float32 map (row-major `inW x inH`) like
 * `torch.nn.functional.interpolate(x, size=(outH, outW), mode='bilinear', align_corners=False)`
 * on a float32 CPU tensor: how the reference upsamples the head's logits to the input size.
 * Float32 arithmetic in the kernel's order (`Interpolate` in `UpSampleKernel.cpp`): the two
 * horizontal interpolations first, then `h0 * top + h1 * bottom`.
 */
export function resizeBilinearMap(src: Float32Array, inW: number, inH: number, outW: number, outH: number): Float32Array {
  for (const [name, v] of [['inW', inW], ['inH', inH], ['outW', outW], ['outH', outH]] as const) {
    if (!(Number.isSafeInteger(v) && v > 0)) {
      throw new SparseViTError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(v)}`);
    }
  }
  if (src.length !== inW * inH) {
    throw new SparseViTError('INVALID_ARGUMENT', `map has ${src.length} values, expected ${inW}x${inH} = ${inW * inH}`);
  }
  const f = Math.fround;
  const xt = linearTaps(inW, outW);
  const yt = linearTaps(inH, outH);
  const out = new Float32Array(outW * outH);
  for (let y = 0; y < outH; y++) {
    const r0 = yt.i0[y] * inW;
    const r1 = yt.i1[y] * inW;
    const h0 = yt.l0[y];
    const h1 = yt.l1[y];
    for (let x = 0; x < outW; x++) {
      const c0 = xt.i0[x];
      const c1 = xt.i1[x];
      const w0 = xt.l0[x];
      const w1 = xt.l1[x];
      const top = f(f(src[r0 + c0] * w0) + f(src[r0 + c1] * w1));
      const bottom = f(f(src[r1 + c0] * w0) + f(src[r1 + c1] * w1));
      out[y * outW + x] = f(f(top * h0) + f(bottom * h1));
    }
  }
  return out;
}
