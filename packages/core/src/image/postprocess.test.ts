import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { maxScore, probabilityToMask } from './postprocess';

describe('probabilityToMask', () => {
  it('marks strictly greater than the threshold', () => {
    const prob = new Float32Array([0, 0.5, 0.5000001, 1, Number.NaN]);
    expect([...probabilityToMask(prob)]).toEqual([0, 0, 1, 1, 0]);
    expect([...probabilityToMask(prob, 0)]).toEqual([0, 1, 1, 1, 0]);
    expect([...probabilityToMask([0.2, 0.9], 0.95)]).toEqual([0, 0]);
  });

  it('rejects a non-finite threshold', () => {
    for (const t of [Number.NaN, Infinity, '0.5' as unknown as number]) {
      try {
        probabilityToMask([0.1], t);
        expect.unreachable();
      } catch (err) {
        expect(isSparseViTError(err, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});

describe('maxScore', () => {
  it('returns the largest probability', () => {
    expect(maxScore(new Float32Array([0.1, 0.7, 0.3]))).toBeCloseTo(0.7, 6);
    expect(maxScore([-2, -1])).toBe(-1);
  });

  it('propagates NaN and rejects an empty map', () => {
    expect(maxScore([0.2, Number.NaN, 0.9])).toBeNaN();
    expect(maxScore([Number.NaN])).toBeNaN();
    expect(() => maxScore([])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
