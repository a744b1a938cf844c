import { readdirSync, readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { cmykToRgb, toRgb } from '@sparsevit/core';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode-image';

// What the reference sees is PIL's `Image.open(p).convert('RGB')`. The fixtures hold images
// encoded the ways photos arrive and, beside each, PIL's decoding of it as a lossless PNG
// (`tooling/fixtures/pil-decode/make_pil_decode_fixtures.py`, Pillow 9.4 on libjpeg-turbo).
// Bound: every byte equal (measured: all equal).
const dir = (...p: string[]) => fixturePath('pil-decode', ...p);
const sources = readdirSync(dir()).filter((f) => !f.endsWith('.pil.png') && /\.(jpg|png)$/.test(f));

describe('decodeImage against PIL', () => {
  it('covers every variant of the fixture set', () => {
    expect(sources.sort()).toEqual([
      'cmyk_q90.jpg',
      'gray_q90.jpg',
      'rgb16.png',
      'rgb_q80_progressive.jpg',
      'rgb_q85_422.jpg',
      'rgb_q90_420.jpg',
      'rgb_q90_exif_orientation6.jpg',
      'rgb_q95_444.jpg',
    ]);
  });

  it.each(sources)('%s decodes to the bytes PIL gives', async (file) => {
    const ours = await decodeImage(dir(file));
    const pil = await decodeImage(dir(file.replace(/\.(jpg|png)$/, '.pil.png')));
    expect([ours.width, ours.height]).toEqual([pil.width, pil.height]);
    const [a, b] = [toRgb(ours), toRgb(pil)];
    let differing = 0;
    for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) differing++;
    expect(differing, `${differing} of ${b.length} bytes differ`).toBe(0);
  });

  it('keeps the stored orientation, as Image.open does (EXIF orientation 6 is not applied)', async () => {
    const image = await decodeImage(dir('rgb_q90_exif_orientation6.jpg'));
    expect([image.width, image.height]).toEqual([257, 193]);
  });
});

describe('cmykToRgb', () => {
  it("is Pillow's cmyk2rgb: 255 - K - C (255 - K) / 255 with its integer rounding", () => {
    // Expected values printed by Pillow 9.4: Image.new("CMYK", (6, 1)) with these pixels, .convert("RGB").
    const cmyk = new Uint8Array([0, 0, 0, 0, 255, 255, 255, 0, 0, 0, 0, 255, 128, 64, 32, 100, 1, 254, 127, 1, 9, 9, 9, 9]);
    const rgb = cmykToRgb(cmyk, 6, 1);
    expect(Array.from(rgb)).toEqual([255, 255, 255, 0, 0, 0, 0, 0, 0, 77, 116, 136, 253, 1, 127, 237, 237, 237]);
  });

  it('drops channels past K and rejects a short buffer', () => {
    expect(Array.from(cmykToRgb(new Uint8Array([128, 64, 32, 100, 7]), 1, 1, 5))).toEqual([77, 116, 136]);
    expect(() => cmykToRgb(new Uint8Array(7), 2, 1)).toThrow(/cmykToRgb/);
  });
});
