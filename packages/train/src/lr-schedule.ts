/**
 * The authors' learning-rate schedule (`lr_sched.adjust_learning_rate` in the IMDLBenCo / MAE
 * code SparseViT trains with), counted in optimizer steps instead of fractional epochs: linear
 * warm-up from 0 to `lr` over `warmupSteps`, then a half cosine down to `minLr` at `totalSteps`.
 */
export interface LrSchedule {
  lr: number;
  minLr: number;
  warmupSteps: number;
  totalSteps: number;
}

/** The authors' values: lr 2e-4, min 5e-7 (their 4 warm-up epochs become `warmupSteps`). */
export const AUTHORS_LR = 2e-4;
export const AUTHORS_MIN_LR = 5e-7;

/** Learning rate for optimizer step `step` (0-based). */
export function learningRate(schedule: LrSchedule, step: number): number {
  const { lr, minLr, warmupSteps, totalSteps } = schedule;
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const span = Math.max(1, totalSteps - warmupSteps);
  const t = Math.min(1, (step - warmupSteps) / span);
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
}
