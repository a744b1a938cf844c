import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { imageAccuracy, imageAuc, imageConfusion, imageF1 } from './image-metrics';
import { loadMetricsFixture } from './fixture.test-helper';

const fixture = loadMetricsFixture();

describe('image metrics', () => {
  it('reproduce the fixture on score_max', () => {
    const scores = fixture.cases.map((c) => c.score_max);
    const labels = fixture.cases.map((c) => c.label);
    expect(Math.abs(imageAuc(scores, labels)! - fixture.image_auc_on_score_max)).toBeLessThan(1e-4);
    expect(Math.abs(imageF1(scores, labels, 0.5) - fixture.image_f1_on_score_max)).toBeLessThan(1e-12);
    expect(Math.abs(imageAccuracy(scores, labels, 0.5) - fixture.image_accuracy_on_score_max)).toBeLessThan(1e-12);
  });

  it('F1 uses the 1e-9 image-level epsilons', () => {
    // 5 true positives, nothing else: P = R = 5/(5+1e-9).
    const p = 5 / (5 + 1e-9);
    expect(imageF1([1, 1, 1, 1, 1, 0.2], [1, 1, 1, 1, 1, 0])).toBe((2 * p * p) / (2 * p + 1e-9));
  });

  it('thresholds strictly (> 0.5); label 1 is the positive class', () => {
    expect(imageConfusion([0.5, 0.50001, 0.4, 0.9], [1, 0, 0, 1])).toEqual({ tp: 1, fp: 1, fn: 1, tn: 1 });
    expect(imageAccuracy([0.5, 0.50001, 0.4, 0.9], [1, 0, 0, 1])).toBe(0.5);
    expect(imageAccuracy([0.5], [1], 0.4)).toBe(1);
    expect(imageF1([0.1, 0.2], [0, 0])).toBe(0);
  });

  it('AUC is tie-aware (hand-derived) and null with one class', () => {
    // pos: 0.9, 0.4; neg: 0.4, 0.1 -> pairs: 1, 1, 0.5, 1 -> 3.5/4.
    expect(imageAuc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0])).toBe(0.875);
    expect(imageAuc([0.9, 0.4], [1, 1])).toBeNull();
    expect(imageAuc([0.9, 0.4], [0, 0])).toBeNull();
  });

  it('rejects bad input', () => {
    for (const fn of [
      () => imageAuc([0.1], [1, 0]),
      () => imageAuc([Number.NaN, 0.2], [1, 0]),
      () => imageF1([0.1], [0.5]),
      () => imageAccuracy([], []),
    ]) {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});
