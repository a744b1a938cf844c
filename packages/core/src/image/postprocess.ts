import { SparseViTError } from '../errors';

function checkThreshold(threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new SparseViTError('INVALID_ARGUMENT', `threshold must be a finite number, got ${String(threshold)}`);
  }
}

/**
 * Binary mask from a probability map: 1 where `prob > threshold`, else 0 (strictly greater, as
 * the reference and IMDLBenCo's metrics binarize; NaN gives 0).
 */
export function probabilityToMask(prob: ArrayLike<number>, threshold = 0.5): Uint8Array {
  checkThreshold(threshold);
  const n = prob.length;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = prob[i] > threshold ? 1 : 0;
  return mask;
}

/**
 * Image-level score: the largest probability (`pred.max()`), one common choice for detection.
 * NaN propagates, as `torch.max` does, so a broken map is not mistaken for a clean one.
 */
export function maxScore(prob: ArrayLike<number>): number {
  const n = prob.length;
  if (n === 0) throw new SparseViTError('INVALID_ARGUMENT', 'maxScore of an empty map');
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = prob[i];
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}
