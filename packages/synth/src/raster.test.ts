import { describe, expect, it } from 'vitest';
import { jpegRoundTrip } from './jpeg';
import { brightnessContrast, flipHorizontal, flipVertical, gaussianBlur, gaussianKernel, resample, resizeNearest, rotate90, type Raster } from './raster';

const gray = (width: number, height: number, values: number[]): Raster => ({ data: Uint8Array.from(values), width, height, channels: 1 });

describe('raster operations', () => {
  it('rotate90 follows numpy rot90 (counter-clockwise), which albumentations RandomRotate90 applies', () => {
    // np.rot90([[1,2,3],[4,5,6]], k) for k = 1, 2, 3.
    const img = gray(3, 2, [1, 2, 3, 4, 5, 6]);
    const r1 = rotate90(img, 1);
    expect([r1.width, r1.height, [...r1.data]]).toEqual([2, 3, [3, 6, 2, 5, 1, 4]]);
    const r2 = rotate90(img, 2);
    expect([r2.width, r2.height, [...r2.data]]).toEqual([3, 2, [6, 5, 4, 3, 2, 1]]);
    const r3 = rotate90(img, 3);
    expect([r3.width, r3.height, [...r3.data]]).toEqual([2, 3, [4, 1, 5, 2, 6, 3]]);
    expect([...rotate90(img, 0).data]).toEqual([...img.data]);
  });

  it('flips mirror rows and columns, for any channel count', () => {
    const img = gray(3, 2, [1, 2, 3, 4, 5, 6]);
    expect([...flipHorizontal(img).data]).toEqual([3, 2, 1, 6, 5, 4]);
    expect([...flipVertical(img).data]).toEqual([4, 5, 6, 1, 2, 3]);
    const rgb: Raster = { data: Uint8Array.from([1, 2, 3, 4, 5, 6]), width: 2, height: 1, channels: 3 };
    expect([...flipHorizontal(rgb).data]).toEqual([4, 5, 6, 1, 2, 3]);
  });

  it('resample is the identity at the same size and antialiases like Pillow when shrinking', () => {
    const img = gray(4, 3, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]);
    expect([...resample(img, 4, 3).data]).toEqual([...img.data]);
    // Pillow BILINEAR 4 -> 2: support 2, taps 0..2 with weights .75 .75 .25 for the first output:
    // (0*.75 + 0*.75 + 100*.25) / 1.75 = 14.29; the second mirrors it: 85.71.
    const step = gray(4, 1, [0, 0, 100, 100]);
    expect([...resample(step, 2, 1).data]).toEqual([14, 86]);
    // Upscaling 2 -> 4 is plain linear interpolation between pixel centers, clamped at the edges.
    expect([...resample(gray(2, 1, [0, 100]), 4, 1).data]).toEqual([0, 25, 75, 100]);
  });

  it('resizeNearest copies values and never blends', () => {
    const mask = gray(2, 2, [0, 1, 1, 0]);
    expect([...resizeNearest(mask, 4, 4).data]).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(new Set(resizeNearest(mask, 3, 5).data)).toEqual(new Set([0, 1]));
  });

  it("gaussianBlur uses OpenCV's kernels for sigma 0", () => {
    // cv2.getGaussianKernel(k, 0) for k <= 7 is a fixed table.
    expect([...gaussianKernel(3)]).toEqual([0.25, 0.5, 0.25]);
    expect([...gaussianKernel(5)]).toEqual([0.0625, 0.25, 0.375, 0.25, 0.0625]);
    expect([...gaussianKernel(7)]).toEqual([0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125]);
    // An impulse of 255 at the center of 7x7 becomes 255 * outer(k, k) for k = [1 4 6 4 1] / 16.
    const impulse = gray(7, 7, Array.from({ length: 49 }, (_, i) => (i === 24 ? 255 : 0)));
    const out = gaussianBlur(impulse, 5);
    const k = [1, 4, 6, 4, 1];
    for (let y = 0; y < 7; y++) {
      for (let x = 0; x < 7; x++) {
        const ky = k[y - 1] ?? 0;
        const kx = k[x - 1] ?? 0;
        expect(out.data[y * 7 + x]).toBe(Math.round((255 * ky * kx) / 256));
      }
    }
    // Reflect-101 border: a constant image stays constant.
    expect(new Set(gaussianBlur(gray(5, 4, new Array(20).fill(77)), 7).data)).toEqual(new Set([77]));
  });

  it('brightnessContrast is v * alpha + beta * 255, rounded and clipped', () => {
    const img = gray(4, 1, [0, 100, 200, 255]);
    // 0 -> 12.75; 100 -> 122.75; 200 -> 232.75; 255 -> 293.25 (clipped).
    expect([...brightnessContrast(img, 1.1, 0.05).data]).toEqual([13, 123, 233, 255]);
    expect([...brightnessContrast(img, 0.9, -0.1).data]).toEqual([0, 65, 155, 204]);
  });

  it('jpegRoundTrip keeps the shape and loses more at lower quality', async () => {
    const width = 48;
    const height = 40;
    const data = new Uint8Array(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + ((i / 3) | 0) * 11) % 256;
    const img: Raster = { data, width, height, channels: 3 };
    const error = async (q: number) => {
      const out = await jpegRoundTrip(img, q);
      expect([out.width, out.height, out.data.length]).toEqual([width, height, data.length]);
      let sum = 0;
      for (let i = 0; i < data.length; i++) sum += Math.abs(out.data[i] - data[i]);
      return sum / data.length;
    };
    const high = await error(100);
    const low = await error(70);
    expect(low).toBeGreaterThan(high);
    expect(low).toBeGreaterThan(0);
  });
});
