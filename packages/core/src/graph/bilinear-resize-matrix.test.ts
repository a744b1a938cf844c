import { describe, expect, it } from 'vitest';
import { bilinearResizeMatrix } from './bilinear-resize-matrix';

describe('bilinearResizeMatrix', () => {
  it('has the weights of F.interpolate(bilinear, align_corners=False), worked by hand', () => {
    // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (the right neighbour clamped).
    expect(Array.from(bilinearResizeMatrix(2, 4))).toEqual([1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
    // 4 -> 2: sources 0.5 and 2.5.
    expect(Array.from(bilinearResizeMatrix(4, 2))).toEqual([0.5, 0.5, 0, 0, 0, 0, 0.5, 0.5]);
    // Every row sums to 1 (a resize of a constant map is that constant).
    const m = bilinearResizeMatrix(5, 16);
    for (let r = 0; r < 16; r++) expect(m.subarray(r * 5, r * 5 + 5).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});
