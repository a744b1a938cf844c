import { SparseViTError } from '../errors';

/**
 * Scores grouped by distinct value, the shared O(n) step behind every ranking metric (pixel AUC,
 * IMDLBenCo's pixel AUC, the best-threshold F1, image AUC).
 *
 * The element indices are ordered by a stable LSD radix sort on the IEEE-754 bit pattern of the
 * scores (float64, four 16-bit digits, passes where every element shares the digit skipped), so
 * equal scores keep their index order and 512x512 maps (262144 values) rank in milliseconds.
 * Internal to the metrics folder.
 */
export interface Ranking {
  /** Element indices by ascending score; equal scores in ascending index order. */
  order: Uint32Array;
  /** Distinct scores, ascending. */
  values: Float64Array;
  /** Group `g` is `order[start[g]] .. order[start[g + 1] - 1]`; length `values.length + 1`. */
  start: Uint32Array;
  /** Positives (`label 1`) per group. */
  pos: Float64Array;
  /** Negatives (`label 0`) per group. */
  neg: Float64Array;
  /** The labels as 0/1, in input order. */
  labels: Uint8Array;
  totalPos: number;
  totalNeg: number;
}

export function assertSameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a == null || b == null || typeof a.length !== 'number' || typeof b.length !== 'number') {
    throw new SparseViTError('INVALID_ARGUMENT', `${what}: both arguments must be arrays`);
  }
  if (a.length !== b.length) {
    throw new SparseViTError('INVALID_ARGUMENT', `${what}: lengths differ (${a.length} vs ${b.length})`, {
      details: { lengths: [a.length, b.length] },
    });
  }
  if (a.length === 0) throw new SparseViTError('INVALID_ARGUMENT', `${what}: empty input`);
}

/** Throws unless every label is 0 or 1 (booleans coerce as numbers do: `true` is 1). */
export function assertBinary(labels: ArrayLike<number>, what: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = +labels[i];
    if (v !== 0 && v !== 1) {
      throw new SparseViTError('INVALID_ARGUMENT', `${what}: values must be 0 or 1, found ${String(labels[i])} at index ${i}`, {
        details: { index: i, value: labels[i] },
      });
    }
  }
}

export function checkThreshold(threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new SparseViTError('INVALID_ARGUMENT', `threshold must be a finite number, got ${String(threshold)}`);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Stable ascending order of `values` (no NaN; -0 already folded into +0): LSD radix sort on the
 * float64 bit patterns made unsigned-sortable (negative: all bits flipped; positive: sign flipped).
 */
export function stableOrder(values: Float64Array): Uint32Array {
  const n = values.length;
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  const hiWord = LITTLE_ENDIAN ? 1 : 0;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + hiWord];
    const l = words[2 * i + 1 - hiWord];
    if (h & 0x80000000) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let tmp = new Uint32Array(n);
  const count = new Uint32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    const key = pass < 2 ? lo : hi;
    const shift = pass % 2 === 0 ? 0 : 16;
    count.fill(0);
    for (let k = 0; k < n; k++) count[(key[order[k]] >>> shift) & 0xffff]++;
    if (count[(key[order[0]] >>> shift) & 0xffff] === n) continue; // every element shares this digit
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k];
      tmp[count[(key[i] >>> shift) & 0xffff]++] = i;
    }
    const t = order;
    order = tmp;
    tmp = t;
  }
  return order;
}

/** Orders `scores` (stable) and counts the labels of each distinct score. NaN scores throw. */
export function rankScores(scores: ArrayLike<number>, labels: ArrayLike<number>, what: string): Ranking {
  assertSameLength(scores, labels, what);
  assertBinary(labels, what);
  const n = scores.length;
  const copy = new Float64Array(n);
  const bits = new Uint8Array(n);
  let totalPos = 0;
  for (let i = 0; i < n; i++) {
    const v = +scores[i];
    if (v !== v) {
      throw new SparseViTError('INVALID_ARGUMENT', `${what}: score at index ${i} is NaN; a ranking needs ordered scores`, {
        details: { index: i },
      });
    }
    copy[i] = v === 0 ? 0 : v; // fold -0 into +0: they are one score
    if (+labels[i] === 1) {
      bits[i] = 1;
      totalPos++;
    }
  }
  const order = stableOrder(copy);
  let groups = 0;
  for (let k = 0; k < n; k++) if (k === 0 || copy[order[k]] !== copy[order[k - 1]]) groups++;
  const values = new Float64Array(groups);
  const start = new Uint32Array(groups + 1);
  const pos = new Float64Array(groups);
  const neg = new Float64Array(groups);
  let g = -1;
  for (let k = 0; k < n; k++) {
    const i = order[k];
    if (k === 0 || copy[i] !== values[g]) {
      g++;
      values[g] = copy[i];
      start[g] = k;
    }
    if (bits[i] === 1) pos[g]++;
    else neg[g]++;
  }
  start[groups] = n;
  return { order, values, start, pos, neg, labels: bits, totalPos, totalNeg: n - totalPos };
}

/**
 * Exact tie-aware ROC AUC (the Mann-Whitney U statistic with ties counted one half; equal to
 * scikit-learn's `roc_auc_score`): the probability that a random positive scores above a random
 * negative. `null` when either class is absent (the AUC is undefined; scikit-learn raises).
 */
export function aucFromRanking(r: Ranking): number | null {
  if (r.totalPos === 0 || r.totalNeg === 0) return null;
  let posAbove = 0;
  let sum = 0;
  for (let g = r.values.length - 1; g >= 0; g--) {
    sum += r.neg[g] * (posAbove + 0.5 * r.pos[g]);
    posAbove += r.pos[g];
  }
  return sum / (r.totalPos * r.totalNeg);
}
