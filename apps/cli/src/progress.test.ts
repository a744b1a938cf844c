import { describe, expect, it } from 'vitest';
import { formatSeconds, progressLine } from './progress';

describe('progress bar', () => {
  it('shows the label, the bar, counts, failures, rate and ETA', () => {
    const line = progressLine({ done: 25, total: 100, failed: 2, elapsedS: 10, alreadyDone: 5, label: 'jpeg:50' }, 100);
    // 20 done in this run in 10 s: 2/s, 75 left: 38 s.
    expect(line).toMatch(/^jpeg:50 \[#+-+\] 25\/100 2 failed 2\.0\/s eta 00:38$/);
    expect(progressLine({ done: 0, total: 10, failed: 0, elapsedS: 0, alreadyDone: 0, label: '' }, 80)).toMatch(/^\[-+\] 0\/10 eta --:--$/);
    expect(formatSeconds(3725)).toBe('1h02m');
  });
});
