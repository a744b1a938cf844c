import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT, CONFIG, readJson, runCli, tempDir } from './helpers';

/**
 * `sparsevit synth` end to end on small generated photos: the dataset it writes, then
 * `sparsevit eval` reading it unchanged (the pair list, authentic images as label 0).
 */

let photos: string;

beforeAll(async () => {
  photos = await tempDir('synth-photos');
  for (let k = 0; k < 3; k++) {
    const width = 120 + k * 20;
    const height = 90;
    const data = Buffer.alloc(width * height * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * (7 + k * 5) + Math.floor(i / (width * 3)) * 13) % 256;
    await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(join(photos, `photo${k}.png`));
  }
});

describe('sparsevit synth', () => {
  it('writes Tp/Gt/Au with pairs.json that eval scores, authentic images as authentic', async () => {
    const out = join(await tempDir('synth-out'), 'set');
    const run = await runCli(['synth', '--photos', photos, '--count', '10', '--seed', '3', '--out', out, '--max-side', '96', '--authentic-fraction', '0.3']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('wrote 10 images');
    // 0.7 of 10 shared 0.4 : 0.2 : 0.15 -> 3.73, 1.87, 1.4 -> 4, 2, 1 by largest remainder; 3 authentic.
    expect(run.stdout).toContain('splice 4, copy-move 2, removal 1, authentic 3; 0 failed');
    expect(run.stdout).toContain('from 3 photos');
    const tp = await readdir(join(out, 'Tp'));
    const gt = await readdir(join(out, 'Gt'));
    const au = await readdir(join(out, 'Au'));
    expect([tp.length, gt.length, au.length]).toEqual([7, 7, 3]);
    for (const name of gt) {
      const { data, info } = await sharp(join(out, 'Gt', name)).raw().toBuffer({ resolveWithObject: true });
      expect(Math.max(info.width, info.height)).toBeLessThanOrEqual(96);
      expect(new Set(data).size).toBeLessThanOrEqual(2);
      expect(data.some((v) => v === 255)).toBe(true);
    }
    const manifest = await readJson(join(out, 'synth.json'));
    expect(manifest.items).toHaveLength(10);
    expect(manifest.kinds).toEqual({ splice: 4, 'copy-move': 2, removal: 1, authentic: 3 });

    const report = join(await tempDir('synth-eval'), 'report');
    const evaluated = await runCli(['eval', join(out, 'pairs.json'), '--weights', CHECKPOINT, '--config', CONFIG, '--out', report]);
    expect(evaluated.code).toBe(0);
    const summary = await readJson(join(report, 'report.json'));
    expect([summary.images, summary.failed, summary.positives, summary.negatives]).toEqual([10, 0, 7, 3]);
  });

  it('is deterministic: the same seed writes the same bytes', async () => {
    const a = join(await tempDir('synth-a'), 'set');
    const b = join(await tempDir('synth-b'), 'set');
    for (const out of [a, b]) expect((await runCli(['synth', '--photos', photos, '--count', '4', '--seed', '9', '--out', out, '--size', '48'])).code).toBe(0);
    for (const folder of ['Tp', 'Gt', 'Au']) {
      const names = await readdir(join(a, folder));
      expect(await readdir(join(b, folder))).toEqual(names);
      for (const name of names) {
        const [x, y] = await Promise.all([sharp(join(a, folder, name)).raw().toBuffer(), sharp(join(b, folder, name)).raw().toBuffer()]);
        expect(x.equals(y)).toBe(true);
      }
    }
  });

  it('uses the split of a photo manifest, and answers usage errors with exit code 2', async () => {
    const withManifest = await tempDir('synth-manifest');
    const pkg = join(withManifest, 'pkg');
    await sharp({ create: { width: 80, height: 60, channels: 3, background: '#336699' } }).png().toFile(join(withManifest, 'x.png'));
    await mkdir(pkg);
    for (const name of ['a.png', 'b.png']) await sharp(join(withManifest, 'x.png')).toFile(join(pkg, name));
    await writeFile(
      join(withManifest, 'manifest.json'),
      JSON.stringify({ photos: [{ package: 'pkg', file: 'a.png', split: 'train' }, { package: 'pkg', file: 'b.png', split: 'test' }] }),
    );
    const out = join(await tempDir('synth-split'), 'set');
    const run = await runCli(['synth', '--photos', withManifest, '--split', 'train', '--count', '2', '--out', out, '--size', '32']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('from 1 photos (train split of');
    const manifest = await readJson(join(out, 'synth.json'));
    expect(manifest.photos.map((p: string) => p.split('/').pop())).toEqual(['a.png']);

    const usage = [
      ['synth', '--photos', photos, '--out', out],
      ['synth', '--photos', photos, '--count', '2', '--out', out, '--size', '64', '--max-side', '64'],
      ['synth', '--photos', photos, '--count', '2', '--out', out, '--split', 'train'],
      ['synth', '--photos', photos, '--count', '2', '--out', out, '--kinds', 'splice=1,paint=2'],
      ['synth', '--photos', join(photos, 'nope'), '--count', '2', '--out', out],
    ];
    for (const args of usage) {
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^sparsevit: /);
    }
  });
});
