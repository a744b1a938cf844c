import { seededRandom } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { rankScores, stableOrder } from './ranking';

describe('stableOrder (radix)', () => {
  it('orders any finite or infinite float64 ascending, ties by index', () => {
    const values = Float64Array.from([3, -1, 0, -Infinity, 1e-300, -1e-300, Infinity, 3, -1, 2.5, 1e300, -0.5, 0]);
    const order = [...stableOrder(values.slice())];
    const expected = [...values.keys()].sort((a, b) => values[a] - values[b] || a - b);
    expect(order).toEqual(expected);
  });

  it('matches a comparator sort on random data with ties', () => {
    const r = seededRandom(5);
    for (let t = 0; t < 20; t++) {
      const n = 1 + Math.floor(r() * 3000);
      const levels = 1 + Math.floor(r() * 1000);
      const values = Float64Array.from({ length: n }, () => (Math.floor(r() * levels) - levels / 2) * (r() < 0.5 ? 1e-3 : 7.25));
      const expected = [...values.keys()].sort((a, b) => values[a] - values[b] || a - b);
      expect([...stableOrder(values.slice())]).toEqual(expected);
    }
  });
});

describe('rankScores', () => {
  it('groups equal scores (-0 and +0 together) and counts labels', () => {
    const r = rankScores([0.5, -0, 0.5, 0, 1], [1, 0, 0, 1, 1], 'test');
    expect([...r.values]).toEqual([0, 0.5, 1]);
    expect([...r.pos]).toEqual([1, 1, 1]);
    expect([...r.neg]).toEqual([1, 1, 0]);
    expect([...r.start]).toEqual([0, 2, 4, 5]);
    expect([...r.order]).toEqual([1, 3, 0, 2, 4]);
    expect(r.totalPos).toBe(3);
    expect(r.totalNeg).toBe(2);
  });
});
