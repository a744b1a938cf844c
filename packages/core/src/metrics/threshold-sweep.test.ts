import { seededRandom } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { loadMetricsFixture } from './fixture.test-helper';
import { createThresholdSweep, DEFAULT_SWEEP_THRESHOLDS } from './threshold-sweep';

const fixture = loadMetricsFixture();

/** F1 and IoU of one image at one threshold, counted pixel by pixel (IMDLBenCo's formulas). */
function bruteF1Iou(prob: ArrayLike<number>, gt: ArrayLike<number>, t: number): [number, number] {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i] > t;
    if (p && gt[i] === 1) tp++;
    else if (p) fp++;
    else if (gt[i] === 1) fn++;
  }
  const precision = tp / (tp + fp + 1e-8);
  const recall = tp / (tp + fn + 1e-8);
  return [(2 * precision * recall) / (precision + recall + 1e-8), tp / (tp + fp + fn + 1e-8)];
}

describe('createThresholdSweep', () => {
  it('matches the IMDLBenCo reference means at 0.5 (tooling/fixtures/metrics)', () => {
    expect(fixture.threshold).toBe(0.5);
    const sweep = createThresholdSweep([0.25, 0.5, 0.75]);
    for (const c of fixture.cases) sweep.add(c.prob, c.gt);
    const at = sweep.result().points[1];
    expect(at.threshold).toBe(0.5);
    expect(at.pixel_f1).toBeCloseTo(fixture.mean_pixel_f1, 10);
    expect(at.pixel_iou).toBeCloseTo(fixture.mean_pixel_iou, 10);
  });

  it('matches pixel-by-pixel counts at every threshold, and picks the best mean F1', () => {
    const random = seededRandom(11);
    const thresholds = [0.05, 0.2, 0.33, 0.5, 0.61, 0.9];
    const sweep = createThresholdSweep(thresholds);
    const images: [Float32Array, Uint8Array][] = [];
    for (let n = 0; n < 6; n++) {
      const size = 200 + 37 * n;
      const gt = new Uint8Array(size);
      const prob = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        // Authentic images (n = 2) and masks that the probabilities only partly follow.
        gt[i] = n !== 2 && random() < 0.3 ? 1 : 0;
        prob[i] = 0.2 * gt[i] + 0.4 * random();
      }
      // A value exactly on a threshold (0.5 is exact in float32) is not above it; NaN is never above any.
      prob[0] = 0.5;
      prob[1] = Number.NaN;
      images.push([prob, gt]);
      sweep.add(prob, gt);
    }
    const result = sweep.result();
    expect(result.images).toBe(6);
    expect(result.manipulated).toBe(5);
    result.points.forEach((point, j) => {
      const t = thresholds[j];
      const per = images.map(([p, g]) => bruteF1Iou(p, g, t));
      const manipulatedF1 = per.filter((_, n) => n !== 2).map(([f1]) => f1);
      expect(point.threshold).toBe(t);
      expect(point.pixel_f1).toBeCloseTo(per.reduce((s, [f1]) => s + f1, 0) / 6, 12);
      expect(point.pixel_iou).toBeCloseTo(per.reduce((s, [, iou]) => s + iou, 0) / 6, 12);
      expect(point.pixel_f1_manipulated).toBeCloseTo(manipulatedF1.reduce((s, f1) => s + f1, 0) / 5, 12);
    });
    const bestF1 = Math.max(...result.points.map((p) => p.pixel_f1));
    expect(result.best?.pixel_f1).toBe(bestF1);
    // The data were made so that a low threshold wins: the sweep must not fall back to 0.5.
    expect(result.best?.threshold).toBeLessThan(0.5);
  });

  it('has no best threshold without a manipulated image', () => {
    const sweep = createThresholdSweep();
    sweep.add([0.1, 0.9, 0.4], [0, 0, 0]);
    const result = sweep.result();
    expect(result.best).toBeNull();
    expect(result.points).toHaveLength(DEFAULT_SWEEP_THRESHOLDS.length);
    expect(result.points.every((p) => p.pixel_f1 === 0)).toBe(true);
  });

  it('refuses bad thresholds and bad inputs with INVALID_ARGUMENT', () => {
    const invalid = (fn: () => unknown) => {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(isSparseViTError(error, 'INVALID_ARGUMENT')).toBe(true);
      }
    };
    invalid(() => createThresholdSweep([]));
    invalid(() => createThresholdSweep([0.5, 0.5]));
    invalid(() => createThresholdSweep([0.2, Number.NaN]));
    const sweep = createThresholdSweep();
    invalid(() => sweep.add([0.5, 0.5], [1]));
    invalid(() => sweep.add([0.5], [2]));
    expect(sweep.result().images).toBe(0);
  });
});
