import { seededRandom } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import {
  bestThresholdF1,
  confusionAtThreshold,
  f1FromCounts,
  iouFromCounts,
  pixelAuc,
  pixelAucBenco,
  pixelF1,
  pixelIoU,
  pixelMetrics,
} from './pixel-metrics';
import { loadMetricsFixture } from './fixture.test-helper';

const fixture = loadMetricsFixture();

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
    expect.unreachable();
  } catch (err) {
    expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
  }
}

/** Naive O(n^2) tie-aware AUC: P(pos > neg) + 0.5 P(pos == neg). */
function bruteAuc(pred: ArrayLike<number>, gt: ArrayLike<number>): number | null {
  let s = 0;
  let pairs = 0;
  for (let i = 0; i < pred.length; i++) {
    if (gt[i] !== 1) continue;
    for (let j = 0; j < pred.length; j++) {
      if (gt[j] !== 0) continue;
      pairs++;
      s += pred[i] > pred[j] ? 1 : pred[i] === pred[j] ? 0.5 : 0;
    }
  }
  return pairs === 0 ? null : s / pairs;
}

describe('pixel metrics on tooling/fixtures/metrics/metrics.json', () => {
  expect(fixture.threshold).toBe(0.5);
  fixture.cases.forEach((c, k) => {
    it(`case ${k}: F1, IoU to 1e-6, AUCs to 1e-4`, () => {
      const prob = Float32Array.from(c.prob);
      const gt = Uint8Array.from(c.gt);
      expect(prob.length).toBe(c.width * c.height);
      // Fixed threshold metrics: as float32 maps (what the SDK produces) and as plain arrays.
      for (const p of [prob, c.prob]) {
        expect(Math.abs(pixelF1(p, gt, 0.5) - c.pixel_f1)).toBeLessThan(1e-6);
        expect(Math.abs(pixelIoU(p, c.gt, 0.5) - c.pixel_iou)).toBeLessThan(1e-6);
        expect(Math.abs(pixelAucBenco(p, gt) - c.pixel_auc_benco)).toBeLessThan(1e-4);
        const auc = pixelAuc(p, gt);
        if (c.pixel_auc === null) expect(auc).toBeNull();
        else expect(Math.abs(auc! - c.pixel_auc)).toBeLessThan(1e-4);
      }
      const all = pixelMetrics(prob, gt, 0.5);
      expect(all.f1).toBe(pixelF1(prob, gt));
      expect(all.iou).toBe(pixelIoU(prob, gt));
      expect(all.aucBenco).toBe(pixelAucBenco(prob, gt));
      expect(all.auc).toBe(pixelAuc(prob, gt));
    });
  });

  it('agrees far tighter than the tolerances (float64 input)', () => {
    for (const c of fixture.cases) {
      expect(Math.abs(pixelF1(c.prob, c.gt) - c.pixel_f1)).toBeLessThan(1e-12);
      expect(Math.abs(pixelIoU(c.prob, c.gt) - c.pixel_iou)).toBeLessThan(1e-12);
      expect(Math.abs(pixelAucBenco(c.prob, c.gt) - c.pixel_auc_benco)).toBeLessThan(1e-12);
      if (c.pixel_auc !== null) expect(Math.abs(pixelAuc(c.prob, c.gt)! - c.pixel_auc)).toBeLessThan(1e-12);
    }
  });

  it('case 4 shows the IMDLBenCo AUC is not tie-aware, and the standard one is', () => {
    const c = fixture.cases[4];
    expect(Math.abs(c.pixel_auc_benco - c.pixel_auc!)).toBeGreaterThan(1e-4);
    expect(pixelAuc(c.prob, c.gt)).toBeCloseTo(bruteAuc(c.prob, c.gt)!, 12);
  });

  it('bestThresholdF1 >= F1 at 0.5 on every case', () => {
    for (const c of fixture.cases) {
      const best = bestThresholdF1(c.prob, c.gt);
      expect(best.f1).toBeGreaterThanOrEqual(pixelF1(c.prob, c.gt, 0.5));
      if (best.threshold !== null) {
        // The reported threshold reproduces the F1 with the inclusive rule.
        const pred = c.prob.map((v) => (v >= best.threshold! ? 1 : 0));
        expect(pixelF1(pred, c.gt, 0.5)).toBe(best.f1);
        expect(pixelIoU(pred, c.gt, 0.5)).toBe(best.iou);
      } else {
        expect(best.f1).toBe(0);
      }
    }
    expect(bestThresholdF1(fixture.cases[3].prob, fixture.cases[3].gt)).toEqual({ f1: 0, iou: 0, threshold: null });
  });
});

describe('confusionAtThreshold, F1, IoU', () => {
  it('counts strictly-greater predictions; NaN is negative', () => {
    const pred = [0.9, 0.5, 0.51, 0.2, Number.NaN, 0.7];
    const gt = [1, 1, 0, 0, 1, 1];
    expect(confusionAtThreshold(pred, gt)).toEqual({ tp: 2, fp: 1, fn: 2, tn: 1 });
    expect(confusionAtThreshold(pred, gt, 0.1)).toEqual({ tp: 3, fp: 2, fn: 1, tn: 0 });
  });

  it('uses IMDLBenCo epsilons', () => {
    // tp=2, fp=1, fn=2: P = 2/3, R = 1/2.
    const p = 2 / (3 + 1e-8);
    const r = 2 / (4 + 1e-8);
    expect(f1FromCounts(2, 1, 2)).toBe((2 * p * r) / (p + r + 1e-8));
    expect(iouFromCounts(2, 1, 2)).toBe(2 / (5 + 1e-8));
    expect(f1FromCounts(0, 0, 0)).toBe(0);
    expect(iouFromCounts(0, 3, 0)).toBe(0);
    expect(pixelF1([0.9, 0.1], [1, 0])).toBeCloseTo(1 - 1.5e-8, 15);
  });

  it('rejects mismatched or bad input', () => {
    expectInvalid(() => pixelF1([0.1, 0.2], [0]));
    expectInvalid(() => pixelF1([], []));
    expectInvalid(() => pixelF1([0.1], [2]));
    expectInvalid(() => pixelF1([0.1], [255]));
    expectInvalid(() => pixelF1([0.1], [1], Number.NaN));
    expectInvalid(() => pixelAuc([0.1, Number.NaN], [1, 0]));
    expectInvalid(() => bestThresholdF1([0.1, Number.NaN], [1, 0]));
  });
});

describe('pixel AUC', () => {
  it('handles ties by average rank (hand-derived)', () => {
    // Positives: 0.8, 0.5, 0.5. Negatives: 0.5, 0.2.
    // Pairs (pos, neg): (0.8,0.5)=1 (0.8,0.2)=1 (0.5,0.5)=1/2 (0.5,0.2)=1 (0.5,0.5)=1/2 (0.5,0.2)=1
    // AUC = (1+1+0.5+1+0.5+1)/6 = 5/6.
    const pred = [0.5, 0.8, 0.2, 0.5, 0.5];
    const gt = [1, 1, 0, 0, 1];
    expect(pixelAuc(pred, gt)).toBeCloseTo(5 / 6, 15);
    // IMDLBenCo orders ties by index (stable descending): 0.8(+), 0.5(+ idx0), 0.5(- idx3), 0.5(+ idx4), 0.2(-).
    // Negative idx3 sees 2 positives before it, negative idx2 sees 3: (2 + 3) / (3 * 2) = 5/6 here too,
    // but moving the tied positive after the negative changes it:
    expect(pixelAucBenco(pred, gt)).toBeCloseTo(5 / 6, 15);
    const pred2 = [0.5, 0.8, 0.2, 0.5, 0.5];
    const gt2 = [0, 1, 0, 1, 1]; // tie group 0.5: (-, +, +) in index order
    // Standard: pos 0.8 beats both negs (2); each 0.5 pos: ties neg 0.5 (1/2), beats 0.2 (1) -> 1.5 each.
    // AUC = (2 + 1.5 + 1.5) / 6 = 5/6. Benco: neg idx0 sees 1 positive (0.8), neg idx2 sees 3 -> 4/6.
    expect(pixelAuc(pred2, gt2)).toBeCloseTo(5 / 6, 15);
    expect(pixelAucBenco(pred2, gt2)).toBeCloseTo(4 / 6, 15);
    // All scores equal: standard AUC 0.5 whatever the order.
    expect(pixelAuc([0.3, 0.3, 0.3, 0.3], [1, 0, 0, 1])).toBe(0.5);
  });

  it('is null (standard) / 0 (IMDLBenCo) for empty masks, null for full masks', () => {
    expect(pixelAuc([0.1, 0.9], [0, 0])).toBeNull();
    expect(pixelAuc([0.1, 0.9], [1, 1])).toBeNull();
    expect(pixelAucBenco([0.1, 0.9], [0, 0])).toBe(0);
    expect(pixelAucBenco([0.1, 0.9], [1, 1])).toBe(0);
  });

  it('matches a brute-force pair count on random cases with many ties', () => {
    const r = seededRandom(7);
    for (let t = 0; t < 50; t++) {
      const n = 1 + Math.floor(r() * 60);
      const levels = 1 + Math.floor(r() * 8);
      const pred = Float32Array.from({ length: n }, () => Math.floor(r() * levels) / levels);
      const gt = Uint8Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
      const expected = bruteAuc(pred, gt);
      const got = pixelAuc(pred, gt);
      if (expected === null) expect(got).toBeNull();
      else expect(got!).toBeCloseTo(expected, 12);
    }
  });

  it('equals the standard AUC when there are no ties', () => {
    const r = seededRandom(3);
    const pred = Float64Array.from({ length: 500 }, () => r());
    const gt = Uint8Array.from({ length: 500 }, () => (r() < 0.3 ? 1 : 0));
    expect(pixelAucBenco(pred, gt)).toBeCloseTo(pixelAuc(pred, gt)!, 12);
  });

  it('ranks a 512x512 map quickly', () => {
    const r = seededRandom(11);
    const n = 512 * 512;
    const pred = new Float32Array(n);
    const gt = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      gt[i] = (i % 512) > 300 && i > n / 2 ? 1 : 0;
      pred[i] = Math.min(1, Math.max(0, gt[i] * 0.3 + r() * 0.7));
    }
    const t0 = performance.now();
    const m = pixelMetrics(pred, gt, 0.5);
    const ms = performance.now() - t0;
    expect(m.auc).not.toBeNull();
    expect(m.auc!).toBeGreaterThan(0.5);
    expect(ms).toBeLessThan(2000);
  });
});

describe('bestThresholdF1', () => {
  it('equals a brute force over all thresholds on small random cases', () => {
    const r = seededRandom(42);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(r() * 40);
      const levels = 2 + Math.floor(r() * 20);
      const pred = Array.from({ length: n }, () => Math.round(r() * levels) / levels);
      const gt = Array.from({ length: n }, () => (r() < 0.35 ? 1 : 0));
      // Brute force: every `> t` for t in {-1} U values, which realises every binarisation.
      let brute = 0;
      for (const th of [-1, ...pred]) brute = Math.max(brute, pixelF1(pred, gt, th));
      const best = bestThresholdF1(pred, gt);
      expect(best.f1).toBe(brute);
      for (const th of [0, 0.25, 0.5, 0.75]) expect(best.f1).toBeGreaterThanOrEqual(pixelF1(pred, gt, th));
    }
  });
});
