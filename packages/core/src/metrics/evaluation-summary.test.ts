import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { createEvaluationAccumulator, evaluateImage, type EvaluationRow } from './evaluation-summary';
import { loadMetricsFixture } from './fixture.test-helper';
import { bestThresholdF1 } from './pixel-metrics';

const fixture = loadMetricsFixture();

describe('evaluateImage', () => {
  it('gives every per-image value of the fixture', () => {
    fixture.cases.forEach((c, k) => {
      const m = evaluateImage(Float32Array.from(c.prob), Uint8Array.from(c.gt), { threshold: fixture.threshold });
      expect(Math.abs(m.pixel_f1 - c.pixel_f1), `case ${k} f1`).toBeLessThan(1e-6);
      expect(Math.abs(m.pixel_iou - c.pixel_iou), `case ${k} iou`).toBeLessThan(1e-6);
      expect(Math.abs(m.pixel_auc - c.pixel_auc_benco), `case ${k} auc benco`).toBeLessThan(1e-4);
      if (c.pixel_auc === null) expect(m.pixel_auc_standard).toBeNull();
      else expect(Math.abs(m.pixel_auc_standard! - c.pixel_auc), `case ${k} auc`).toBeLessThan(1e-4);
      expect(Math.abs(m.score - c.score_max)).toBeLessThan(1e-6);
      expect(m.label).toBe(c.label);
      expect(m.empty_mask).toBe(c.gt.every((v) => v === 0));
      expect(m.pixel_best_f1).toBeGreaterThanOrEqual(m.pixel_f1);
      expect(m.pixel_best_f1).toBe(bestThresholdF1(c.prob, c.gt).f1);
    });
  });

  it('takes an explicit score and label', () => {
    const m = evaluateImage([0.2, 0.9], [0, 0], { score: 0.3, label: 1 });
    expect(m.score).toBe(0.3);
    expect(m.label).toBe(1);
    expect(m.empty_mask).toBe(true);
    expect(m.pixel_auc).toBe(0);
    expect(m.pixel_auc_standard).toBeNull();
  });
});

describe('createEvaluationAccumulator', () => {
  function fixtureRows(): EvaluationRow[] {
    return fixture.cases.map((c, k) => ({ id: `case${k}`, ...evaluateImage(Float32Array.from(c.prob), c.gt) }));
  }

  it('reproduces the dataset means and image-level metrics of the fixture', () => {
    const acc = createEvaluationAccumulator({ threshold: 0.5 });
    for (const row of fixtureRows()) acc.add(row);
    const s = acc.summary();
    expect(s.images).toBe(6);
    expect(s.failed).toBe(0);
    expect(s.empty_masks).toBe(1);
    expect(s.positives).toBe(5);
    expect(s.negatives).toBe(1);
    expect(Math.abs(s.pixel_f1! - fixture.mean_pixel_f1)).toBeLessThan(1e-6);
    expect(Math.abs(s.pixel_iou! - fixture.mean_pixel_iou)).toBeLessThan(1e-6);
    expect(Math.abs(s.pixel_auc! - fixture.mean_pixel_auc_benco)).toBeLessThan(1e-4);
    expect(Math.abs(s.image_auc! - fixture.image_auc_on_score_max)).toBeLessThan(1e-4);
    expect(Math.abs(s.image_f1! - fixture.image_f1_on_score_max)).toBeLessThan(1e-6);
    expect(Math.abs(s.image_accuracy! - fixture.image_accuracy_on_score_max)).toBeLessThan(1e-12);
    // Standard AUC: mean over the five non-empty masks only.
    const std = fixture.cases.filter((c) => c.pixel_auc !== null).map((c) => c.pixel_auc!);
    expect(s.pixel_auc_standard_images).toBe(5);
    expect(Math.abs(s.pixel_auc_standard! - std.reduce((a, b) => a + b, 0) / std.length)).toBeLessThan(1e-4);
    // The manipulated-only means: the reference's per-image F1 and IoU averaged over the five
    // non-empty masks; the authentic case's F1 is 0, so that is also 6/5 of the all-image mean.
    const manipulated = fixture.cases.filter((c) => c.gt.some((v) => v !== 0));
    expect(manipulated).toHaveLength(5);
    const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(s.pixel_f1_manipulated! - meanOf(manipulated.map((c) => c.pixel_f1)))).toBeLessThan(1e-6);
    expect(Math.abs(s.pixel_iou_manipulated! - meanOf(manipulated.map((c) => c.pixel_iou)))).toBeLessThan(1e-6);
    expect(Math.abs(s.pixel_f1_manipulated! - (s.pixel_f1! * 6) / 5)).toBeLessThan(1e-6);
    const best = fixtureRows().map((r) => r.pixel_best_f1);
    expect(s.pixel_best_f1).toBeCloseTo(best.reduce((a, b) => a + b, 0) / 6, 12);
  });

  it('counts failures apart from every mean', () => {
    const acc = createEvaluationAccumulator();
    for (const row of fixtureRows()) acc.add(row);
    acc.add({ id: 'broken.jpg', error: 'not an image', code: 'INVALID_IMAGE' });
    const s = acc.summary();
    expect(s.images).toBe(6);
    expect(s.failed).toBe(1);
    expect(Math.abs(s.pixel_f1! - fixture.mean_pixel_f1)).toBeLessThan(1e-6);
    expect(acc.failures()).toEqual([{ id: 'broken.jpg', error: 'not an image', code: 'INVALID_IMAGE' }]);
  });

  it('summarises nothing as nulls, and one class without an image AUC', () => {
    const empty = createEvaluationAccumulator().summary();
    expect(empty.images).toBe(0);
    expect(empty.pixel_f1).toBeNull();
    expect(empty.pixel_f1_manipulated).toBeNull();
    expect(empty.image_auc).toBeNull();
    expect(empty.image_f1).toBeNull();
    const acc = createEvaluationAccumulator();
    acc.add({ id: 'a', ...evaluateImage([0.9, 0.1], [1, 0]) });
    const s = acc.summary();
    expect(s.image_auc).toBeNull();
    expect(s.image_accuracy).toBe(1);
    expect(s.pixel_auc_standard).toBe(1);
    const authentic = createEvaluationAccumulator();
    authentic.add({ id: 'au', ...evaluateImage([0.9, 0.1], [0, 0]) });
    expect(authentic.summary().pixel_f1).toBe(0);
    expect(authentic.summary().pixel_f1_manipulated).toBeNull();
    expect(authentic.summary().pixel_iou_manipulated).toBeNull();
  });

  it('rejects malformed rows and thresholds', () => {
    const acc = createEvaluationAccumulator();
    for (const bad of [
      { id: 'x', ...evaluateImage([0.9, 0.1], [1, 0]), pixel_f1: Number.NaN },
      { id: 'x', ...evaluateImage([0.9, 0.1], [1, 0]), label: 2 },
      { ...evaluateImage([0.9, 0.1], [1, 0]) },
    ]) {
      try {
        acc.add(bad as unknown as EvaluationRow);
        expect.unreachable();
      } catch (err) {
        expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
    expect(() => createEvaluationAccumulator({ threshold: Number.NaN })).toThrow();
    expect(acc.summary().images).toBe(0);
  });
});
