/**
 * Straightforward re-implementations of the evaluation metrics, for checking `sparsevit eval`
 * independently of `@sparsevit/core`'s metrics code: plain loops and sorts, IMDLBenCo's formulas
 * written out from its definitions.
 */
import sharp from 'sharp';

/** A mask file as IMDLBenCo reads it: RGB (alpha dropped), channel mean > 127.5. */
export async function readBinaryMask(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  const n = info.width * info.height;
  const out = new Uint8Array(n);
  const c = info.channels;
  for (let i = 0; i < n; i++) {
    const mean = c >= 3 ? (data[i * c] + data[i * c + 1] + data[i * c + 2]) / 3 : data[i * c];
    out[i] = mean > 127.5 ? 1 : 0;
  }
  return { data: out, width: info.width, height: info.height };
}

/** cv2.resize(INTER_NEAREST): src = floor(dst * (1 / (out / in))), clipped. */
export function nearest(mask: Uint8Array, w: number, h: number, ow: number, oh: number): Uint8Array {
  const out = new Uint8Array(ow * oh);
  const sx = 1 / (ow / w);
  const sy = 1 / (oh / h);
  for (let y = 0; y < oh; y++) {
    const yy = Math.min(Math.floor(y * sy), h - 1);
    for (let x = 0; x < ow; x++) out[y * ow + x] = mask[yy * w + Math.min(Math.floor(x * sx), w - 1)];
  }
  return out;
}

export interface Reference {
  f1: number;
  iou: number;
  /** Tie-aware AUC (Mann-Whitney with mid-ranks); null for a one-class mask. */
  auc: number | null;
  /** IMDLBenCo's per-image AUC convention: 0 when the mask has no positive (or no negative). */
  aucBenco: number;
  bestF1: number;
  empty: boolean;
}

const f1 = (tp: number, fp: number, fn: number) => {
  const p = tp / (tp + fp + 1e-8);
  const r = tp / (tp + fn + 1e-8);
  return (2 * p * r) / (p + r + 1e-8);
};

/** Tie-aware ROC AUC of scores against 0/1 labels; null with one class. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] === 1) {
        pos++;
        rankSum += midRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

export function referenceMetrics(pred: ArrayLike<number>, gt: Uint8Array, threshold = 0.5): Reference {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let positives = 0;
  for (let i = 0; i < gt.length; i++) {
    const p = pred[i] > threshold;
    if (gt[i]) positives++;
    if (p && gt[i]) tp++;
    else if (p) fp++;
    else if (gt[i]) fn++;
  }
  // Best F1 over every threshold "prob >= v": sweep the distinct values from the top.
  const order = Array.from({ length: gt.length }, (_, i) => i).sort((a, b) => pred[b] - pred[a]);
  let best = 0;
  let btp = 0;
  let bfp = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j < order.length && pred[order[j]] === pred[order[i]]) {
      if (gt[order[j]]) btp++;
      else bfp++;
      j++;
    }
    best = Math.max(best, f1(btp, bfp, positives - btp));
    i = j;
  }
  const auc = rocAuc(pred, gt);
  return {
    f1: f1(tp, fp, fn),
    iou: tp / (tp + fp + fn + 1e-8),
    auc,
    aucBenco: auc ?? 0,
    bestF1: best,
    empty: positives === 0,
  };
}

/** Image-level F1 (IMDLBenCo image epsilons 1e-9) and accuracy at score > threshold. */
export function imageLevel(scores: number[], labels: number[], threshold = 0.5): { f1: number; accuracy: number; auc: number | null } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let correct = 0;
  scores.forEach((s, i) => {
    const p = s > threshold ? 1 : 0;
    if (p === labels[i]) correct++;
    if (p && labels[i]) tp++;
    else if (p) fp++;
    else if (labels[i]) fn++;
  });
  const precision = tp / (tp + fp + 1e-9);
  const recall = tp / (tp + fn + 1e-9);
  return { f1: (2 * precision * recall) / (precision + recall + 1e-9), accuracy: correct / scores.length, auc: rocAuc(scores, labels) };
}

export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
