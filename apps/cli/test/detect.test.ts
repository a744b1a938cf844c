import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, CHECKPOINT, CONFIG, diff, readJson, readNpy, referenceProb, runCli, tempDir, tiny, type CliRun } from './helpers';

describe('sparsevit detect', () => {
  let out: string;
  let run: CliRun;

  beforeAll(async () => {
    out = await tempDir('detect');
    const images = CASES.map((c) => tiny('images', c.image));
    run = await runCli(['detect', ...images, '--weights', CHECKPOINT, '--config', CONFIG, '--out', out, '--batch-size', '2']);
  });

  it('exits 0 and reports on stdout', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('4/4 images');
  });

  it.each(CASES)('writes $stem: a probability map matching the reference', async (c) => {
    for (const suffix of ['.prob.npy', '.mask.png', '.overlay.png', '.json']) expect(existsSync(join(out, c.stem + suffix))).toBe(true);
    const npy = await readNpy(join(out, `${c.stem}.prob.npy`));
    expect(npy.dtype).toBe('<f4');
    expect(npy.shape).toEqual([c.height, c.width]);
    const d = diff(npy.data, await referenceProb(c.name));
    expect(d.mean).toBeLessThanOrEqual(1e-3);
    expect(d.max).toBeLessThanOrEqual(0.02);
  });

  it.each(CASES)('writes $stem: a 0/255 mask and an overlay at the image size', async (c) => {
    const npy = await readNpy(join(out, `${c.stem}.prob.npy`));
    const maskPath = join(out, `${c.stem}.mask.png`);
    const meta = await sharp(maskPath).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels, meta.space]).toEqual(['png', c.width, c.height, 1, 'b-w']);
    const { data } = await sharp(maskPath).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    expect(data.length).toBe(c.width * c.height);
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== (npy.data[i] > 0.5 ? 255 : 0)) throw new Error(`mask pixel ${i} is ${data[i]}, probability ${npy.data[i]}`);
    }
    const overlay = await sharp(join(out, `${c.stem}.overlay.png`)).metadata();
    expect([overlay.width, overlay.height, overlay.channels]).toEqual([c.width, c.height, 3]);

    const json = await readJson(join(out, `${c.stem}.json`));
    expect(json).toMatchObject({ input: tiny('images', c.image), stem: c.stem, width: c.width, height: c.height, threshold: 0.5, device: 'cpu' });
    expect(json.score).toBeGreaterThan(0);
    expect(json.score).toBeLessThanOrEqual(1);
    expect(json.milliseconds).toBeGreaterThan(0);
    expect(Object.keys(json.timings)).toEqual(expect.arrayContaining(['decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'totalMs']));
  });

  it('writes summary.json with the settings, the config, counts and every entry', async () => {
    const summary = await readJson(join(out, 'summary.json'));
    expect(summary.settings).toMatchObject({ weights: CHECKPOINT, config: CONFIG, device: 'cpu', threshold: 0.5, batchSize: 2 });
    expect(summary.model).toEqual(JSON.parse(await readFile(CONFIG, 'utf8')));
    expect(summary.counts).toEqual({ inputs: 4, succeeded: 4, failed: 0, notRun: 0, resumed: 0, skipped: 0 });
    expect(summary.interrupted).toBe(false);
    expect(summary.renamed).toEqual([]);
    expect(summary.entries.map((e: { stem: string }) => e.stem)).toEqual(CASES.map((c) => c.stem));
    for (const e of summary.entries) {
      expect(e.ok).toBe(true);
      expect(e.files).toEqual({ prob: `${e.stem}.prob.npy`, mask: `${e.stem}.mask.png`, overlay: `${e.stem}.overlay.png`, json: `${e.stem}.json` });
    }
  });
});

describe('sparsevit detect with bad inputs', () => {
  it('exits 1, records each failure and still writes the good images (stems disambiguated)', async () => {
    const dir = await tempDir('bad');
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await mkdir(a);
    await mkdir(b);
    await copyFile(tiny('images', 'gray_257x333.png'), join(a, 'x.png'));
    await copyFile(tiny('images', 'splice_300x500.png'), join(b, 'x.png'));
    await writeFile(join(a, 'empty.png'), new Uint8Array(0));
    const png = await readFile(tiny('images', 'splice_640x480.png'));
    await writeFile(join(a, 'truncated.png'), png.subarray(0, 4000));
    await writeFile(join(a, 'notes.png'), 'this is a text file, not an image\n');
    await writeFile(join(a, 'readme.txt'), 'skipped: not an image extension\n');
    const out = join(dir, 'out');

    const run = await runCli(['detect', a, b, '--weights', CHECKPOINT, '--config', CONFIG, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/empty\.png/);

    const summary = await readJson(join(out, 'summary.json'));
    expect(summary.counts).toEqual({ inputs: 5, succeeded: 2, failed: 3, notRun: 0, resumed: 0, skipped: 1 });
    expect(summary.skipped).toEqual([{ path: join(a, 'readme.txt'), reason: expect.stringMatching(/^not an image extension/) }]);
    const byInput = Object.fromEntries(summary.entries.map((e: { input: string }) => [e.input, e]));
    for (const name of ['empty.png', 'truncated.png', 'notes.png']) {
      const e = byInput[join(a, name)];
      expect(e.ok).toBe(false);
      expect(e.error.code).toBe('INVALID_IMAGE');
      expect(e.error.message.length).toBeGreaterThan(0);
      expect(existsSync(join(out, `${e.stem}.json`))).toBe(false);
    }
    expect(byInput[join(a, 'x.png')]).toMatchObject({ ok: true, stem: 'x', width: 257, height: 333 });
    expect(byInput[join(b, 'x.png')]).toMatchObject({ ok: true, stem: 'x-2', width: 300, height: 500 });
    expect(summary.renamed).toEqual([{ input: join(b, 'x.png'), stem: 'x-2' }]);
    expect((await readNpy(join(out, 'x.prob.npy'))).shape).toEqual([333, 257]);
    expect((await readNpy(join(out, 'x-2.prob.npy'))).shape).toEqual([500, 300]);
    const reference = await referenceProb('case2');
    expect(diff((await readNpy(join(out, 'x.prob.npy'))).data, reference).max).toBeLessThanOrEqual(0.02);
  });

  it('exits 1 with a one-line error when the weights cannot be loaded', async () => {
    const dir = await tempDir('weights');
    const truncated = join(dir, 'truncated.pth');
    await writeFile(truncated, (await readFile(CHECKPOINT)).subarray(0, 100_000));
    const out = join(dir, 'out');
    const run = await runCli(['detect', tiny('images', CASES[0].image), '--weights', truncated, '--config', CONFIG, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^sparsevit: CORRUPT_WEIGHTS: cannot load the weights .*truncated\.pth/);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);

    // The tiny checkpoint without its config is checked against the base model: a mismatch.
    const mismatch = await runCli(['detect', tiny('images', CASES[0].image), '--weights', CHECKPOINT, '--out', out]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim().split('\n')).toHaveLength(1);
    expect(mismatch.stderr).toMatch(/WEIGHTS_MISMATCH.*--config/);
  });
});
