/**
 * The `[out, in]` matrix of 1-D bilinear resampling with half-pixel centres and no anti-aliasing,
 * as `F.interpolate(mode='bilinear', align_corners=False)` (and `TensorOps.resizeBilinear`) does
 * it: output `d` reads input `src = max((d + 0.5) * in / out - 0.5, 0)`, from `floor(src)` and the
 * next pixel, clamped at the edge. The 2-D resize is separable, `Y = R_h X R_w^T` per map, so its
 * adjoint (the gradient the training engines need) is `dX = R_h^T dY R_w`.
 *
 * ```ts
 * bilinearResizeMatrix(2, 4); // rows [1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]
 * ```
 */
export function bilinearResizeMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const frac = src - i0;
    m[d * inSize + i0] += 1 - frac;
    m[d * inSize + i1] += frac;
  }
  return m;
}
