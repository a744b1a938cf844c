import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preprocess, resizeMaskNearest, resolveConfig } from '@sparsevit/core';
import { createSynthesizer } from '@sparsevit/synth';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthSource } from './training-data';

/**
 * `synthSource`'s samples against what `@sparsevit/synth` and core's `preprocess` make of the
 * same (seed, index) on their own: square crops at the input size, or photo-shaped images (long
 * side 512, as `sparsevit synth` writes evaluation sets) squashed to the input.
 */
const CONFIG = resolveConfig({ depth: [1, 1, 15, 4], embed_dim: [8, 16, 32, 64], head_dim: 16, img_size: 64, s_blocks3: [8, 8, 8], s_blocks4: [8], mlp_ratio: 4, qkv_bias: true }, undefined);
const SEED = 5;
let root: string;
let photos: string[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'training-data-'));
  await mkdir(join(root, 'pkg'));
  photos = [];
  for (const [k, [width, height]] of [[120, 80], [90, 140]].entries()) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * (7 + k * 5) + Math.floor(i / (width * 3)) * 13) % 256;
    const file = `p${k}.png`;
    await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(join(root, 'pkg', file));
    photos.push(join(root, 'pkg', file));
  }
  await writeFile(join(root, 'manifest.json'), JSON.stringify({ photos: [0, 1].map((k) => ({ package: 'pkg', file: `p${k}.png`, split: 'train' })) }));
});

/** What a synthesizer's sample `index` becomes as a training sample, made without synthSource. */
async function expected(shape: 'square' | 'photo', indices: number[]) {
  const synth = await createSynthesizer({ photos, seed: SEED, ...(shape === 'square' ? { size: CONFIG.img_size } : { maxSide: 512 }) });
  const s = CONFIG.img_size;
  const out = [];
  for (const index of indices) {
    const x = await synth.sample(index);
    const mask = resizeMaskNearest(x.mask, x.width, x.height, s, s);
    out.push({ image: preprocess({ data: x.rgb, width: x.width, height: x.height, channels: 3 }, s), mask: Float32Array.from(mask, (v) => (v > 0 ? 1 : 0)), square: x.width === x.height });
  }
  await synth.close();
  return out;
}

describe('synthSource', () => {
  const indices = Array.from({ length: 40 }, (_, i) => i);

  it('photoShaped 0 gives the square crops, 1 the photo-shaped images resized to the input, exactly', async () => {
    for (const [fraction, shape] of [[0, 'square'], [1, 'photo']] as const) {
      const source = await synthSource(root, 'train', CONFIG, SEED, undefined, fraction);
      const want = await expected(shape, indices);
      for (const i of indices) {
        const got = await source.sample(i);
        expect(got?.image).toEqual(want[i].image);
        expect(got?.mask).toEqual(want[i].mask);
      }
      await source.close();
      // The photo-shaped images are not square (their mix of aspects is synth's).
      if (shape === 'photo') expect(want.filter((w) => !w.square).length).toBeGreaterThan(30);
    }
  });

  it('photoShaped 0.4 makes about 40% of the samples photo-shaped, each one of the two kinds, the same on every call', async () => {
    const source = await synthSource(root, 'train', CONFIG, SEED, undefined, 0.4);
    expect(source.describe).toContain('40% photo-shaped (long side 512, resized to 64x64)');
    const square = await expected('square', indices);
    const photo = await expected('photo', indices);
    let photoShaped = 0;
    for (const i of indices) {
      const got = (await source.sample(i))!;
      const isSquare = square[i].image.every((v, k) => v === got.image[k]);
      const isPhoto = photo[i].image.every((v, k) => v === got.image[k]);
      expect(isSquare !== isPhoto, `sample ${i} is one of the two`).toBe(true);
      expect(got.mask).toEqual(isPhoto ? photo[i].mask : square[i].mask);
      if (isPhoto) photoShaped++;
      expect((await source.sample(i))!.image).toEqual(got.image);
    }
    // 40 draws at p = 0.4: 16 expected, [8, 24] is beyond 2.5 standard deviations (3.1).
    expect(photoShaped).toBeGreaterThanOrEqual(8);
    expect(photoShaped).toBeLessThanOrEqual(24);
    await source.close();
  });
});
