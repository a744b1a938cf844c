import { describe, expect, it } from 'vitest';
import { tinyCases } from '@sparsevit/fixtures';
import { thrownErrorCode } from '../weights/testing/expect-sparsevit-error';
import { preprocess } from './preprocess';
import { normalizeToChw } from './normalize';
import { loadFixtureImage, readReferenceCase, tensor } from './reference-case.test-helper';

const EXPECTED_CHANNELS: Record<string, number> = {
  'splice_640x480.png': 3,
  'splice_300x500.png': 3,
  'gray_257x333.png': 1,
  'rgba_512x512.png': 4,
};

describe('preprocess parity with the reference input tensor', () => {
  for (const name of tinyCases) {
    it(`${name}: PIL RGB -> cv2 INTER_LINEAR -> normalize matches \`input\``, async () => {
      const ref = readReferenceCase(name);
      const input = tensor(ref, 'input');
      expect(input.shape).toEqual([1, 3, 512, 512]);
      const image = await loadFixtureImage(ref.image);
      // The grayscale and RGBA fixtures must reach us with their stored channels, or the
      // gray/alpha paths of toRgb would go untested.
      expect(image.channels).toBe(EXPECTED_CHANNELS[ref.image]);

      const got = preprocess(image, 512);
      expect(got.length).toBe(input.data.length);
      let within = 0;
      let exact = 0;
      let maxAbs = 0;
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - input.data[i]);
        if (d <= 1e-5) within++;
        if (d === 0) exact++;
        if (d > maxAbs) maxAbs = d;
      }
      // One 8-bit step after normalization is 1 / 255 / 0.224 ~ 0.0175.
      expect(within / got.length).toBeGreaterThanOrEqual(0.99);
      expect(maxAbs).toBeLessThanOrEqual(0.0175);
      // Measured: bit-exact on all four cases (integer resize + float32-step normalization).
      expect(exact).toBe(got.length);
    });
  }

  it('writes into a batch buffer at an offset without touching the rest', async () => {
    const ref = readReferenceCase('case1');
    const image = await loadFixtureImage(ref.image);
    const per = 3 * 512 * 512;
    const batch = new Float32Array(2 * per).fill(7);
    const ret = preprocess(image, 512, batch, per);
    expect(ret).toBe(batch);
    expect(batch.subarray(0, per).every((v) => v === 7)).toBe(true);
    expect(batch.subarray(per)).toEqual(tensor(ref, 'input').data);
  });

  it('rejects a bad image, size or output buffer', () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 as const };
    expect(thrownErrorCode(() => preprocess({ ...img, data: new Uint8Array(11) }, 4))).toBe('INVALID_IMAGE');
    expect(thrownErrorCode(() => preprocess(img, 0))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => preprocess(img, 4, new Float32Array(47)))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => preprocess(img, 4, new Float32Array(48), 1))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => preprocess(img, 4, new Float32Array(48), 0))).toBe('none');
  });
});

describe('normalizeToChw', () => {
  it('lays out CHW planes with ImageNet statistics', () => {
    const rgb = new Uint8Array([0, 128, 255, 255, 0, 128]);
    const out = normalizeToChw(rgb, 2, 1, new Float32Array(6));
    const f = Math.fround;
    const expected = [
      (0 - 0.485) / 0.229,
      (1 - 0.485) / 0.229,
      (128 / 255 - 0.456) / 0.224,
      (0 - 0.456) / 0.224,
      (1 - 0.406) / 0.225,
      (128 / 255 - 0.406) / 0.225,
    ];
    for (let i = 0; i < 6; i++) expect(out[i]).toBeCloseTo(f(expected[i]), 6);
  });

  it('accepts custom mean and std', () => {
    const out = normalizeToChw(new Uint8Array([255, 0, 51]), 1, 1, new Float32Array(3), 0, { mean: [0, 0, 0], std: [1, 1, 0.5] });
    expect([...out]).toEqual([1, 0, Math.fround(0.4)]);
  });
});
