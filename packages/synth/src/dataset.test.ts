import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSparseViTError } from '@sparsevit/core';
import { kindSchedule, writeSynthDataset } from './dataset';
import { createSynthesizer, kindWeights } from './synthesizer';
import { tempDir, texturedPhoto } from './test-photos.test-helper';

let photos: string[];

beforeAll(async () => {
  const dir = tempDir();
  photos = [await texturedPhoto(dir, 'a.png', 1), await texturedPhoto(dir, 'b.png', 2)];
});

describe('kindSchedule', () => {
  it('gives exact counts by largest remainder, in a seeded order', () => {
    const schedule = kindSchedule(250, kindWeights(), 1);
    const count = (k: string) => schedule.filter((s) => s === k).length;
    // 100, 50, 37.5, 62.5: the two halves go to the earlier kind first (removal), then authentic.
    expect([count('splice'), count('copy-move'), count('removal'), count('authentic')]).toEqual([100, 50, 38, 62]);
    expect(kindSchedule(250, kindWeights(), 1)).toEqual(schedule);
    expect(kindSchedule(250, kindWeights(), 2)).not.toEqual(schedule);
  });
});

describe('writeSynthDataset', () => {
  it('writes Tp/Gt/Au, pairs.json and synth.json that match the samples exactly', async () => {
    const out = join(tempDir(), 'set');
    const progress: number[] = [];
    const options = { photos, seed: 4, size: 48, count: 12, out, onProgress: (done: number) => progress.push(done) };
    const result = await writeSynthDataset(options);
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(result.kinds).toEqual({ splice: 5, 'copy-move': 2, removal: 2, authentic: 3 });
    expect(result.interrupted).toBe(false);
    expect(readdirSync(join(out, 'Tp'))).toHaveLength(9);
    expect(readdirSync(join(out, 'Gt'))).toHaveLength(9);
    expect(readdirSync(join(out, 'Au'))).toHaveLength(3);
    const pairs = JSON.parse(readFileSync(join(out, 'pairs.json'), 'utf8')) as [string, string][];
    expect(pairs).toHaveLength(12);
    expect(pairs.filter(([, m]) => m === 'Negative').every(([img]) => img.startsWith('Au/'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'synth.json'), 'utf8'));
    expect(manifest.items).toHaveLength(12);
    expect(manifest.settings).toMatchObject({ seed: 4, size: 48, count: 12 });

    const synth = await createSynthesizer({ photos, seed: 4, size: 48 });
    for (const item of result.items) {
      const s = await synth.sample(item.index, { kind: item.kind });
      const img = await sharp(join(out, item.image)).raw().toBuffer();
      expect(img.equals(Buffer.from(s.rgb))).toBe(true);
      if (item.mask === null) {
        expect(item.kind).toBe('authentic');
        continue;
      }
      const mask = await sharp(join(out, item.mask)).extractChannel(0).raw().toBuffer();
      expect([...mask].every((v, i) => v === (s.mask[i] ? 255 : 0))).toBe(true);
      expect(pairs).toContainEqual([item.image, item.mask]);
    }
    await synth.close();

    // Writing again into the same folder replaces the earlier dataset whole.
    await writeSynthDataset({ ...options, count: 4, onProgress: undefined });
    expect(readdirSync(join(out, 'Tp')).length + readdirSync(join(out, 'Au')).length).toBe(4);
  });

  it('refuses a non-empty folder that is not a synth dataset, and stops on abort', async () => {
    const foreign = tempDir();
    writeFileSync(join(foreign, 'keep.txt'), 'mine');
    const error = await writeSynthDataset({ photos, seed: 1, size: 32, count: 2, out: foreign }).catch((e: unknown) => e);
    expect(isSparseViTError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect(existsSync(join(foreign, 'keep.txt'))).toBe(true);

    const out = join(tempDir(), 'stopped');
    mkdirSync(out);
    const controller = new AbortController();
    const result = await writeSynthDataset({
      photos,
      seed: 1,
      size: 32,
      count: 50,
      out,
      signal: controller.signal,
      onProgress: (done) => done === 3 && controller.abort(),
    });
    expect(result.interrupted).toBe(true);
    expect(result.items).toHaveLength(3);
    expect(JSON.parse(readFileSync(join(out, 'pairs.json'), 'utf8'))).toHaveLength(3);
  });
});
