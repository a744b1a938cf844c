import { describe, expect, it } from 'vitest';
import { thrownErrorCode } from '../weights/testing/expect-sparsevit-error';
import { renderHeatmap, renderMask, renderOverlay, turboColor } from './render';

describe('renderOverlay', () => {
  const image = { data: new Uint8Array([100, 100, 100, 0, 0, 0, 200, 50, 0]), width: 3, height: 1, channels: 3 as const };

  it('tints in proportion to the probability', () => {
    const out = renderOverlay(image, [0, 1, 0.5], { opacity: 0.5 });
    expect(out).toBeInstanceOf(Uint8ClampedArray);
    // p = 0: unchanged; p = 1: half red over black; p = 0.5: a quarter red.
    expect([...out]).toEqual([100, 100, 100, 255, 128, 0, 0, 255, 214, 38, 0, 255]);
  });

  it('leaves pixels at or below the threshold untinted and uses the color given', () => {
    const out = renderOverlay(image, [0.5, 1, 0.6], { opacity: 1, color: [0, 255, 0], threshold: 0.5 });
    expect([...out.subarray(0, 4)]).toEqual([100, 100, 100, 255]);
    expect([...out.subarray(4, 8)]).toEqual([0, 255, 0, 255]);
    // 0.6 green over (200, 50, 0).
    expect([...out.subarray(8, 12)]).toEqual([80, 173, 0, 255]);
  });

  it('drops alpha and replicates gray like the model input', () => {
    const gray = { data: new Uint8Array([10, 0]), width: 1, height: 1, channels: 2 as const };
    expect([...renderOverlay(gray, [0])]).toEqual([10, 10, 10, 255]);
  });

  it('outlines the mask: white on its inner edge, black on its outer edge, 1 px on a small image', () => {
    // A 3x3 block (prob 0.9) in the middle of a 5x5 gray image; threshold 0.5 by default.
    const size = 5;
    const gray = { data: new Uint8Array(size * size).fill(120), width: size, height: size, channels: 1 as const };
    const prob = Array.from({ length: size * size }, (_, i) => (i % size >= 1 && i % size <= 3 && Math.floor(i / size) >= 1 && Math.floor(i / size) <= 3 ? 0.9 : 0.1));
    const out = renderOverlay(gray, prob, { opacity: 0, outline: true });
    // Written by hand: W = white (inner edge), B = black (outer edge), . = the image (120).
    const expected = ['BBBBB', 'BWWWB', 'BW.WB', 'BWWWB', 'BBBBB'].join('');
    const got = Array.from({ length: size * size }, (_, i) => (out[4 * i] === 255 ? 'W' : out[4 * i] === 0 ? 'B' : out[4 * i] === 120 ? '.' : '?')).join('');
    expect(got).toBe(expected);
    // A region touching the image border is closed by a white edge along it; a threshold moves the edge.
    const edge = renderOverlay(gray, prob.map((p, i) => (i % size === 0 ? 0.9 : p)), { opacity: 0, outline: true, threshold: 0.95 });
    expect([...edge].filter((_, k) => k % 4 === 0).every((v) => v === 120)).toBe(true);
    const left = renderOverlay(gray, prob.map((_, i) => (i % size === 0 ? 0.9 : 0.1)), { opacity: 0, outline: true });
    expect(Array.from({ length: size }, (_, y) => `${left[4 * y * size]},${left[4 * (y * size + 1)]}`)).toEqual(Array(size).fill('255,0'));
  });

  it('widens the contour with the image: 2 px bands on a 1200 px wide image', () => {
    const [width, height] = [1200, 20];
    const gray = { data: new Uint8Array(width * height).fill(120), width, height, channels: 1 as const };
    // Inside: columns 600 and up, every row.
    const prob = Array.from({ length: width * height }, (_, i) => (i % width >= 600 ? 1 : 0));
    const out = renderOverlay(gray, prob, { opacity: 0, outline: true });
    const row = Array.from({ length: 8 }, (_, k) => out[4 * (10 * width + 596 + k)]);
    expect(row).toEqual([120, 120, 0, 0, 255, 255, 120, 120]);
  });

  it('rejects mismatched maps and bad options', () => {
    expect(thrownErrorCode(() => renderOverlay(image, [0, 1, 0], { outline: 'yes' as never }))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => renderOverlay(image, [0, 1]))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => renderOverlay(image, [0, 1, 0], { opacity: 2 }))).toBe('INVALID_ARGUMENT');
    expect(thrownErrorCode(() => renderOverlay(image, [0, 1, 0], { threshold: Number.NaN }))).toBe('INVALID_ARGUMENT');
  });
});

describe('renderHeatmap', () => {
  it('follows the published Turbo LUT', () => {
    // Ends of the LUT (dark blue-violet at 0, dark red at 1).
    expect(turboColor(0)).toEqual([48, 18, 59]);
    expect(turboColor(1)).toEqual([122, 4, 3]);
    // Entries between the keys, from the full published table, within two levels.
    const published: [number, [number, number, number]][] = [
      [4, [0.2086, 0.11802, 0.34607]],
      [132, [0.68494, 0.97941, 0.21602]],
      [250, [0.54583, 0.03593, 0.00638]],
    ];
    for (const [index, rgb] of published) {
      const got = turboColor(index / 255);
      for (let c = 0; c < 3; c++) expect(Math.abs(got[c] - rgb[c] * 255)).toBeLessThanOrEqual(2);
    }
  });

  it('renders opaque RGBA and clamps out-of-range values', () => {
    const out = renderHeatmap([0, 1, -3, 7, Number.NaN, 0.5], 3, 2);
    expect(out.length).toBe(24);
    for (let i = 3; i < 24; i += 4) expect(out[i]).toBe(255);
    expect([...out.subarray(8, 11)]).toEqual(turboColor(0));
    expect([...out.subarray(12, 15)]).toEqual(turboColor(1));
    expect([...out.subarray(16, 19)]).toEqual(turboColor(0));
    expect(() => renderHeatmap([0, 1], 3, 1)).toThrow();
  });
});

describe('renderMask', () => {
  it('renders non-zero as white, zero as black', () => {
    expect([...renderMask(new Uint8Array([0, 1, 255]), 3, 1)]).toEqual([0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255, 255]);
    expect(() => renderMask([0], 2, 1)).toThrow();
  });
});
