import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { preparePair, type PredictionMaps } from './protocol';

function prediction(width: number, height: number, networkSize: number): PredictionMaps {
  return {
    networkProbability: Float32Array.from({ length: networkSize * networkSize }, (_, i) => i / (networkSize * networkSize)),
    networkSize,
    probability: Float32Array.from({ length: width * height }, (_, i) => i / (width * height)),
    width,
    height,
  };
}

describe('preparePair', () => {
  const mask = { data: Uint8Array.from([1, 0, 0, 1, 1, 0]), width: 3, height: 2 };

  it('imdlbenco: network map vs mask resized nearest to the network size', () => {
    const p = prediction(3, 2, 4);
    const pair = preparePair(p, mask, 'imdlbenco');
    expect(pair.pred).toBe(p.networkProbability);
    expect(pair.width).toBe(4);
    expect(pair.height).toBe(4);
    // x: floor(d * 0.75) -> 0,0,1,2 ; y: floor(d * 0.5) -> 0,0,1,1
    expect([...pair.gt]).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
    expect(pair.maskSizeMismatch).toBe(false);
  });

  it('native: full-size map vs the mask as is', () => {
    const p = prediction(3, 2, 4);
    const pair = preparePair(p, mask, 'native');
    expect(pair.pred).toBe(p.probability);
    expect(pair.gt).toBe(mask.data);
    expect(pair.maskSizeMismatch).toBe(false);
  });

  it('native: a mask of another size is resized to the image and flagged', () => {
    const p = prediction(6, 4, 4);
    const pair = preparePair(p, mask, 'native');
    expect(pair.maskSizeMismatch).toBe(true);
    expect(pair.gt.length).toBe(24);
    expect([...pair.gt.slice(0, 6)]).toEqual([1, 1, 0, 0, 0, 0]);
    expect(preparePair(p, mask, 'imdlbenco').maskSizeMismatch).toBe(true);
  });

  it('rejects unknown protocols and wrong map sizes', () => {
    const bad = { ...prediction(3, 2, 4), probability: new Float32Array(5) };
    for (const fn of [
      () => preparePair(prediction(3, 2, 4), mask, 'other' as 'native'),
      () => preparePair(bad, mask, 'native'),
      () => preparePair({ ...prediction(3, 2, 4), networkSize: 5 }, mask, 'imdlbenco'),
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
