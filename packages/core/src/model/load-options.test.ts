import { describe, expect, it } from 'vitest';
import { isRawImage } from '../image/raw-image';
import { checkLoadModelOptions, checkOneOf, checkPositiveInteger, checkThreshold } from './load-options';

describe('load option checks shared by the adapters', () => {
  it('accept valid values and name the option in a typed error otherwise', () => {
    expect(checkPositiveInteger('batchSize', 4)).toBe(4);
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(() => checkPositiveInteger('batchSize', bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('batchSize') }));
    }
    expect(checkThreshold(0.25)).toBe(0.25);
    expect(() => checkThreshold(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkThreshold('0.5' as unknown as number)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(checkOneOf('device', 'cpu', ['cpu', 'cuda'] as const)).toBe('cpu');
    expect(() => checkOneOf('device', 'tpu', ['cpu', 'cuda'])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: 'device must be one of cpu, cuda, got tpu' }));
  });

  it('checkLoadModelOptions takes an object and answers anything else with an example', () => {
    expect(() => checkLoadModelOptions({ weights: 'w.safetensors' }, '{ weights }')).not.toThrow();
    for (const [bad, named] of [[undefined, 'undefined'], [null, 'null'], ['w.safetensors', 'string'], [[], 'an array'], [7, 'number']] as const) {
      expect(() => checkLoadModelOptions(bad, "{ weights: 'w.safetensors' }")).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: `loadModel takes an options object, e.g. loadModel({ weights: 'w.safetensors' }); got ${named}` }),
      );
    }
  });

  it('isRawImage tells decoded pixels from what must be decoded', () => {
    expect(isRawImage({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 })).toBe(true);
    expect(isRawImage(new Uint8Array(3))).toBe(false);
    expect(isRawImage('photo.jpg')).toBe(false);
    expect(isRawImage(null)).toBe(false);
    // A browser ImageData has no `channels`: it is decoded through its own branch.
    expect(isRawImage({ data: new Uint8ClampedArray(4), width: 1, height: 1 })).toBe(false);
  });
});
