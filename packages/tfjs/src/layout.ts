/**
 * Deferred transposes. During a planned pass `TfjsTensorOps` does not move data for a transpose:
 * it returns a tensor of the transposed shape over the untouched buffer and records how that
 * buffer is laid out. Consumers that can work on the buffer as it is (elementwise ops, ops along
 * an axis that stayed innermost, a convolution that wants exactly that layout) never pay for the
 * transpose; the others materialise it once.
 *
 * Measured on the base model (512x512, tfjs-wasm): transposes and the splits around them were
 * ~25% of the kernel time, nearly all of it NCHW <-> NHWC <-> token round trips that cancel.
 */

/**
 * `logical = transpose(reshape(buffer, base), perm)`, in "expanded" form: one base axis per
 * axis of size > 1 of the logical shape, so `logical non-1 dims[i] === base[perm[i]]`.
 */
export interface Layout {
  readonly base: readonly number[];
  readonly perm: readonly number[];
}

/** The axes of size > 1 of a shape. */
export const nonUnitDims = (shape: readonly number[]): number[] => shape.filter((d) => d !== 1);

export function identityLayout(shape: readonly number[]): Layout {
  const base = nonUnitDims(shape);
  return { base, perm: base.map((_, i) => i) };
}

export const isIdentity = (perm: readonly number[]): boolean => perm.every((a, i) => a === i);

export function sameLayout(a: Layout, b: Layout): boolean {
  return a.base.length === b.base.length && a.base.every((d, i) => d === b.base[i]) && a.perm.every((p, i) => p === b.perm[i]);
}

/** The layout of `transpose(x, perm)` for `x` of shape `shape` laid out as `layout`. */
export function transposeLayout(layout: Layout, shape: readonly number[], perm: readonly number[]): Layout {
  // Index of each axis of `shape` among its non-1 axes.
  const nonUnit: number[] = [];
  let k = 0;
  for (const d of shape) nonUnit.push(d === 1 ? -1 : k++);
  const out: number[] = [];
  for (const a of perm) if (shape[a] !== 1) out.push(layout.perm[nonUnit[a]]);
  return { base: layout.base, perm: out };
}

/**
 * The layout of `reshape(x, to)` for `x` of shape `from` laid out as `layout`, or `undefined`
 * when the reshape mixes axes that are not adjacent in the buffer (then it needs the data moved).
 * Splitting an axis is always possible; merging axes is when they are consecutive in the buffer.
 */
export function reshapeLayout(layout: Layout, from: readonly number[], to: readonly number[]): Layout | undefined {
  const d = nonUnitDims(from);
  const e = nonUnitDims(to);
  // Segments: runs of old dims and of new dims with equal products.
  const segments: Array<{ old: [number, number]; new: [number, number] }> = [];
  let i = 0;
  let j = 0;
  while (i < d.length || j < e.length) {
    const i0 = i;
    const j0 = j;
    let pi = d[i++] ?? 1;
    let pj = e[j++] ?? 1;
    while (pi !== pj) {
      if (pi < pj) {
        if (i >= d.length) return undefined;
        pi *= d[i++];
      } else {
        if (j >= e.length) return undefined;
        pj *= e[j++];
      }
    }
    segments.push({ old: [i0, i], new: [j0, j] });
  }
  for (const s of segments) {
    for (let k = s.old[0] + 1; k < s.old[1]; k++) if (layout.perm[k] !== layout.perm[k - 1] + 1) return undefined;
  }
  // The buffer order of the segments is that of their first old axis.
  const order = segments.map((_, k) => k).sort((a, b) => layout.perm[segments[a].old[0]] - layout.perm[segments[b].old[0]]);
  const base: number[] = [];
  const startOf = new Array<number>(segments.length);
  for (const k of order) {
    startOf[k] = base.length;
    base.push(...e.slice(segments[k].new[0], segments[k].new[1]));
  }
  const perm: number[] = [];
  segments.forEach((s, k) => {
    for (let n = 0; n < s.new[1] - s.new[0]; n++) perm.push(startOf[k] + n);
  });
  return { base, perm };
}

/**
 * Whether the last axis of `shape` is also the innermost axis of the buffer, so that the buffer
 * read as `[rows, shape[last]]` holds whole logical rows (in some row order): then row-wise ops
 * (LayerNorm, softmax, a linear layer, a per-channel bias) can run on the buffer as it is.
 */
export function lastAxisInnermost(layout: Layout, shape: readonly number[]): boolean {
  if (shape.length === 0 || shape[shape.length - 1] === 1) return false;
  return layout.perm[layout.perm.length - 1] === layout.base.length - 1;
}

/** The layout after a row-wise op that changes the length of the last axis (innermost) to `n`. */
export function withLastAxis(layout: Layout, n: number): Layout {
  const base = [...layout.base];
  base[base.length - 1] = n;
  return { base, perm: layout.perm };
}
