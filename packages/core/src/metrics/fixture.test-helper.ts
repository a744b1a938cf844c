import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';

export interface MetricsCase {
  height: number;
  width: number;
  gt: number[];
  prob: number[];
  pixel_f1: number;
  pixel_iou: number;
  pixel_auc_benco: number;
  pixel_auc: number | null;
  score_max: number;
  label: 0 | 1;
}

export interface MetricsFixture {
  threshold: number;
  cases: MetricsCase[];
  mean_pixel_f1: number;
  mean_pixel_iou: number;
  mean_pixel_auc_benco: number;
  image_auc_on_score_max: number;
  image_f1_on_score_max: number;
  image_accuracy_on_score_max: number;
}

export function loadMetricsFixture(): MetricsFixture {
  return JSON.parse(readFileSync(fixturePath('metrics', 'metrics.json'), 'utf8')) as MetricsFixture;
}

