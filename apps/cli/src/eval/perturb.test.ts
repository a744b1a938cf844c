import { describe, expect, it } from 'vitest';
import { addGaussianNoiseU8, applyPerturbation, gaussianBlurU8, gaussianKernel, gaussianKernelFixedPoint, parsePerturbations, reflect101, swapRedBlue } from './perturb';

describe('parsePerturbations', () => {
  it('takes repeated flags and ;-separated kinds, keeps order and drops duplicates', () => {
    const p = parsePerturbations(['jpeg:90,50; blur:3', 'noise:7', 'resize:0.5,0.75', 'jpeg:50', 'noisevar:7']);
    expect(p.map((x) => x.name)).toEqual(['jpeg:90', 'jpeg:50', 'blur:3', 'noise:7', 'resize:0.5', 'resize:0.75', 'noisevar:7']);
    expect(p[4]).toEqual({ kind: 'resize', strength: 0.5, name: 'resize:0.5' });
  });

  it.each([
    ['unknown kind', 'sharpen:3', /unknown kind/],
    ['no values', 'jpeg', /no values/],
    ['quality 0', 'jpeg:0', /integer quality/],
    ['even kernel', 'blur:4', /odd integer/],
    ['negative noise', 'noise:-1', /standard deviation/],
    ['zero factor', 'resize:0', /factor/],
    ['not a number', 'jpeg:high', /integer quality/],
  ])('refuses %s', (_label, spec, message) => {
    expect(() => parsePerturbations([spec])).toThrow(message);
  });
});

describe('Gaussian blur (OpenCV GaussianBlur(k, sigma 0) conventions)', () => {
  it("uses OpenCV's fixed kernels up to 7 and the sigma rule above", () => {
    expect([...gaussianKernel(3)]).toEqual([0.25, 0.5, 0.25]);
    expect([...gaussianKernel(7)]).toEqual([0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]);
    const k = gaussianKernel(11);
    const sigma = 0.3 * ((11 - 1) * 0.5 - 1) + 0.8;
    const raw = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * sigma * sigma)));
    const sum = raw.reduce((a, b) => a + b, 0);
    raw.forEach((v, i) => expect(k[i]).toBeCloseTo(v / sum, 15));
  });

  it("rounds the taps to OpenCV's 1/256 units with error diffusion, summing to exactly 256", () => {
    expect([...gaussianKernelFixedPoint(3)]).toEqual([64, 128, 64]);
    expect([...gaussianKernelFixedPoint(7)]).toEqual([8, 28, 56, 72, 56, 28, 8]);
    for (const k of [9, 11, 15, 31, 51]) {
      const taps = gaussianKernelFixedPoint(k);
      expect(taps.reduce((a, b) => a + b, 0)).toBe(256);
      expect([...taps]).toEqual([...taps].reverse());
      // Each tap within one unit of the float kernel (the carried error stays below one unit).
      gaussianKernel(k).forEach((v, i) => expect(Math.abs(taps[i] - v * 256)).toBeLessThan(1.5));
    }
  });

  it('swaps the first and third channel of packed pixels', () => {
    expect([...swapRedBlue(Uint8Array.from([1, 2, 3, 4, 5, 6]))]).toEqual([3, 2, 1, 6, 5, 4]);
  });

  it('reflects borders as BORDER_REFLECT_101', () => {
    expect([-3, -2, -1, 0, 4, 5, 6, 7].map((p) => reflect101(p, 5))).toEqual([3, 2, 1, 0, 4, 3, 2, 1]);
    expect(reflect101(-7, 3)).toBe(1);
    expect(reflect101(5, 1)).toBe(0);
  });

  it('equals a direct 2-D convolution (within rounding)', () => {
    const w = 9;
    const h = 6;
    const data = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 97 + 13) % 256);
    for (const k of [3, 5, 15]) {
      const kernel = gaussianKernel(k);
      const r = (k - 1) / 2;
      const got = gaussianBlurU8(data, w, h, 3, k);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let dy = -r; dy <= r; dy++)
              for (let dx = -r; dx <= r; dx++) s += kernel[dy + r] * kernel[dx + r] * data[(reflect101(y + dy, h) * w + reflect101(x + dx, w)) * 3 + c];
            expect(Math.abs(got[(y * w + x) * 3 + c] - Math.round(s))).toBeLessThanOrEqual(1);
          }
    }
    expect(gaussianBlurU8(data, w, h, 3, 1)).toEqual(data);
  });
});

describe('Gaussian noise', () => {
  it('is reproducible per seed, clipped to [0, 255] and has the asked standard deviation', () => {
    const flat = new Uint8Array(200_000).fill(128);
    const a = addGaussianNoiseU8(flat, 10, 42);
    expect(addGaussianNoiseU8(flat, 10, 42)).toEqual(a);
    expect(addGaussianNoiseU8(flat, 10, 43)).not.toEqual(a);
    let sum = 0;
    let sq = 0;
    for (const v of a) {
      sum += v;
      sq += v * v;
    }
    const m = sum / a.length;
    // Truncation moves the mean down by about 0.5.
    expect(m).toBeGreaterThan(127.2);
    expect(m).toBeLessThan(127.8);
    expect(Math.sqrt(sq / a.length - m * m)).toBeCloseTo(10, 0);
    // Clipped, not wrapped: huge noise saturates almost every value.
    const extremes = addGaussianNoiseU8(new Uint8Array(1000).fill(128), 10_000, 1);
    expect(extremes.filter((v) => v === 0 || v === 255).length).toBeGreaterThan(950);
  });
});

describe('applyPerturbation', () => {
  const image = { data: Uint8Array.from({ length: 40 * 30 * 4 }, (_, i) => (i * 31) % 256), width: 40, height: 30, channels: 4 as const };

  it('returns RGB of the same size for jpeg, blur and noise, and the scaled size for resize', async () => {
    for (const p of [
      { kind: 'jpeg', strength: 50, name: 'jpeg:50' },
      { kind: 'blur', strength: 3, name: 'blur:3' },
      { kind: 'noise', strength: 5, name: 'noise:5' },
      { kind: 'noisevar', strength: 25, name: 'noisevar:25' },
    ] as const) {
      const out = await applyPerturbation(image, p, 'id', 0);
      expect([out.width, out.height, out.channels, out.data.length]).toEqual([40, 30, 3, 40 * 30 * 3]);
    }
    const half = await applyPerturbation(image, { kind: 'resize', strength: 0.5, name: 'resize:0.5' }, 'id', 0);
    expect([half.width, half.height, half.channels]).toEqual([20, 15, 3]);
    const a = await applyPerturbation(image, { kind: 'noise', strength: 5, name: 'noise:5' }, 'x.png', 0);
    const b = await applyPerturbation(image, { kind: 'noise', strength: 5, name: 'noise:5' }, 'x.png', 0);
    const c = await applyPerturbation(image, { kind: 'noise', strength: 5, name: 'noise:5' }, 'y.png', 0);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
  });
});
