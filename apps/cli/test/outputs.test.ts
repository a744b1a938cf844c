import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, CASES, CHECKPOINT, CONFIG, mountSmallDisk, readJson, readNpy, runCli, tempDir, tiny, type CliRun } from './helpers';

/**
 * The output rules of `detect`: every file written whole (a temporary file renamed in the same
 * folder) and never through a link; `--out` checked before the model loads, and refused when it
 * is an input folder or inside one; Ctrl-C and SIGTERM alike, a second signal still leaving a
 * valid summary; `--resume`; a full disk.
 */

const MODEL = ['--weights', CHECKPOINT, '--config', CONFIG];
const SMALL = tiny('images', CASES[2].image); // 257 x 333
const LARGE = tiny('images', CASES[0].image); // 640 x 480

/** Files under `dir` left by an unfinished write. */
const temporaries = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

/** Every file summary.json lists for a succeeded entry is complete: the .npy parses at the image's size. */
async function expectCompleteOutputs(out: string) {
  const summary = await readJson(join(out, 'summary.json'));
  for (const e of summary.entries.filter((x: { ok: boolean }) => x.ok)) {
    expect((await readNpy(join(out, e.files.prob))).shape).toEqual([e.height, e.width]);
    for (const f of [e.files.mask, e.files.overlay]) expect(lstatSync(join(out, f)).size).toBeGreaterThan(0);
    expect((await readJson(join(out, e.files.json))).stem).toBe(e.stem);
  }
  expect(temporaries(out)).toEqual([]);
  return summary;
}

describe('detect writes through no link', () => {
  it('replaces links in --out with files, leaving what they point at alone', async () => {
    const dir = await tempDir('links');
    const out = join(dir, 'out');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(out);
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'precious.txt'), 'keep me\n');
    const stem = CASES[2].stem;
    await symlink(join(elsewhere, 'precious.txt'), join(out, `${stem}.json`));
    await symlink(join(elsewhere, 'created-outside.png'), join(out, `${stem}.mask.png`)); // dangling

    const run = await runCli(['detect', SMALL, ...MODEL, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(join(elsewhere, 'precious.txt'), 'utf8')).toBe('keep me\n');
    expect(existsSync(join(elsewhere, 'created-outside.png'))).toBe(false);
    expect(lstatSync(join(out, `${stem}.json`)).isSymbolicLink()).toBe(false);
    expect(lstatSync(join(out, `${stem}.mask.png`)).isSymbolicLink()).toBe(false);
    await expectCompleteOutputs(out);
  });
});

describe('detect checks --out before loading the model', () => {
  // A weights file that does not exist: any error about --out must come before it is opened.
  const missingWeights = ['--weights', '/nonexistent/weights.pth', '--config', CONFIG];

  it('refuses an --out that is a file, with a usage error', async () => {
    const dir = await tempDir('out-file');
    const file = join(dir, 'results.json');
    await writeFile(file, '{}');
    const run = await runCli(['detect', SMALL, ...missingWeights, '--out', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^sparsevit: --out .*results\.json is a file, not a folder\n/);
    expect(await readFile(file, 'utf8')).toBe('{}');
  });

  it('refuses the input folder itself, and a folder inside it', async () => {
    const dir = await tempDir('out-inside');
    await copyFile(SMALL, join(dir, 'x.png'));
    await writeFile(join(dir, 'x.mask.png'), 'an input that an output would replace');
    for (const out of [dir, join(dir, 'results'), join(dir, '.', 'results', '..')]) {
      const run = await runCli(['detect', dir, ...missingWeights, '--out', out]);
      expect(run.code, out).toBe(2);
      expect(run.stderr).toMatch(/is (the input folder|inside the input folder) .*: the outputs would mix with the inputs/);
    }
    expect(existsSync(join(dir, 'results'))).toBe(false);
    expect(await readFile(join(dir, 'x.mask.png'), 'utf8')).toBe('an input that an output would replace');
  });

  it('refuses a run that would write over one of its input files', async () => {
    const dir = await tempDir('out-clobber');
    await copyFile(SMALL, join(dir, 'x.png'));
    await copyFile(SMALL, join(dir, 'x.mask.png'));
    const out = join(dir, 'out');
    await mkdir(out);
    await symlink(join(dir, 'x.mask.png'), join(out, 'x.mask.png'));
    const run = await runCli(['detect', join(dir, 'x.png'), join(out, 'x.mask.png'), ...missingWeights, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/would write over its input/);
  });
});

/** Starts `sparsevit detect` and resolves once `ready(out)` holds, with a way to wait for the end. */
function startDetect(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'detect', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
  return { child, done };
}

async function waitFor(condition: () => boolean, what: string, ms = 60_000) {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const writtenJson = (out: string) => (existsSync(out) ? readdirSync(out).filter((n) => n.endsWith('.json') && n !== 'summary.json').length : 0);

describe('detect on signals, and --resume', () => {
  let folder: string;
  const count = 10;

  it('stops on SIGTERM like Ctrl-C, then --resume runs only what is missing', async () => {
    const dir = await tempDir('sigterm');
    folder = join(dir, 'in');
    await mkdir(folder);
    for (let i = 0; i < count; i++) await copyFile(LARGE, join(folder, `img${String(i).padStart(2, '0')}.png`));
    const out = join(dir, 'out');
    const { child, done } = startDetect([folder, ...MODEL, '--out', out]);
    await waitFor(() => writtenJson(out) >= 1, 'the first output');
    child.kill('SIGTERM');
    const run = await done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/SIGTERM: stopping after the current batch/);
    const summary = await expectCompleteOutputs(out);
    expect(summary.interrupted).toBe(true);
    const ran = summary.counts.succeeded;
    expect(ran).toBeGreaterThanOrEqual(1);
    expect(ran).toBeLessThan(count);
    expect(summary.counts.notRun).toBe(count - ran);
    expect(run.stdout).toMatch(/--resume continues/);

    // A copy of an output made before the rerun: --resume must not rewrite finished inputs.
    const firstJson = join(out, `${summary.entries[0].stem}.json`);
    const before = await readFile(firstJson, 'utf8');
    const resumed = await runCli(['detect', folder, ...MODEL, '--out', out, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`${count}/${count} images written`);
    expect(resumed.stdout).toContain(`(${ran} kept from the previous run)`);
    const after = await expectCompleteOutputs(out);
    expect(after.interrupted).toBe(false);
    expect(after.counts).toMatchObject({ inputs: count, succeeded: count, failed: 0, notRun: 0, resumed: ran });
    expect(after.entries.map((e: { stem: string }) => e.stem)).toEqual(Array.from({ length: count }, (_, i) => `img${String(i).padStart(2, '0')}`));
    expect(after.entries.filter((e: { resumed?: boolean }) => e.resumed).length).toBe(ran);
    expect(await readFile(firstJson, 'utf8')).toBe(before);
  });

  it('--resume with another threshold is a usage error', async () => {
    const dir = await tempDir('resume-mismatch');
    const out = join(dir, 'out');
    expect((await runCli(['detect', SMALL, ...MODEL, '--out', out])).code).toBe(0);
    const run = await runCli(['detect', SMALL, ...MODEL, '--out', out, '--resume', '--threshold', '0.3']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--resume: .*summary\.json was made with threshold 0\.5, not 0\.3/);
  });

  it('a second Ctrl-C stops at once and still leaves a valid summary and no partial file', async () => {
    const dir = await tempDir('sigint-twice');
    const out = join(dir, 'out');
    // Batches of 5: the first SIGINT lands while the second batch runs (5 images), long enough
    // for the second to arrive before it ends even on a loaded machine; with batches of one, the
    // run could finish its image and exit between the two signals.
    const { child, done } = startDetect([folder, ...MODEL, '--out', out, '--batch-size', '5']);
    await waitFor(() => writtenJson(out) >= 5, 'the first batch');
    child.kill('SIGINT');
    await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/SIGINT again: stopping now/);
    const summary = await expectCompleteOutputs(out);
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.succeeded + summary.counts.failed + summary.counts.notRun).toBe(count);
  });
});

/** Mounts a tmpfs of `size` at `dir` when this process may (root); else undefined. */
describe('detect on a full disk', () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it('leaves no truncated file: what failed is an IO_ERROR row, summary.json is whole', async () => {
    const dir = await tempDir('full-disk');
    const out = join(dir, 'out');
    await mkdir(out);
    // A 1 MB disk holds the outputs of a 257 x 333 image (0.35 MB of probabilities) but not a
    // 640 x 480 one (1.2 MB). Without the right to mount one, a file size limit of 1 MB
    // (`ulimit -f`, EFBIG) makes the same writes fail.
    const unmount = mountSmallDisk(out, '1m');
    if (unmount) cleanups.push(unmount);
    const args = ['detect', SMALL, LARGE, ...MODEL, '--out', out];
    const run = unmount
      ? await runCli(args)
      : await new Promise<CliRun>((resolve) => {
          const r = spawnSync('sh', ['-c', 'ulimit -f 2048 && exec "$0" "$@"', process.execPath, BIN, ...args], { encoding: 'utf8' });
          resolve({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
        });
    expect(run.code, run.stderr).toBe(1);
    const summary = await expectCompleteOutputs(out);
    const byStem = Object.fromEntries(summary.entries.map((e: { stem: string }) => [e.stem, e]));
    expect(byStem[CASES[2].stem].ok).toBe(true);
    expect(byStem[CASES[0].stem].ok).toBe(false);
    expect(byStem[CASES[0].stem].error.code).toBe('IO_ERROR');
    expect(byStem[CASES[0].stem].error.message).toMatch(unmount ? /no space left on the device/ : /over the size limit/);
    // Nothing of the failed image is left, not even an empty or cut file.
    for (const name of readdirSync(out)) expect(lstatSync(join(out, name)).size, name).toBeGreaterThan(0);
    expect(readdirSync(out).filter((n) => n.startsWith(CASES[0].stem)).every((n) => !n.endsWith('.prob.npy'))).toBe(true);
    if (unmount) {
      unmount();
      cleanups.pop();
    }
    await rm(dir, { recursive: true, force: true });
  });
});

describe('a batch with one extreme image', () => {
  it('writes every good image, an error row for a 50,000,000 x 1 PNG, and summary.json', async () => {
    const { uniformPng } = await import('../../../tooling/hostile/png.mjs');
    const dir = await tempDir('strip');
    const folder = join(dir, 'in');
    await mkdir(folder);
    await copyFile(SMALL, join(folder, 'a.png'));
    await writeFile(join(folder, 'b-strip.png'), uniformPng(50_000_000, 1));
    await copyFile(tiny('images', CASES[1].image), join(folder, 'c.png'));
    await writeFile(join(folder, 'd.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    const out = join(dir, 'out');
    const run = await runCli(['detect', folder, ...MODEL, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/b-strip\.png.*UNSUPPORTED_IMAGE_SHAPE: image of 50000000x1 has a side longer than the limit/);
    const summary = await expectCompleteOutputs(out);
    expect(summary.counts).toMatchObject({ inputs: 3, succeeded: 2, failed: 1, notRun: 0, skipped: 1 });
    expect(summary.skipped.map((s: { path: string }) => s.path)).toEqual([join(folder, 'd.svg')]);
    expect(summary.entries.map((e: { stem: string; ok: boolean }) => [e.stem, e.ok])).toEqual([['a', true], ['b-strip', false], ['c', true]]);
    expect(summary.entries[1].error.message.length).toBeLessThan(2000);
  });
});

describe('links in the input are read, not followed out of --out', () => {
  it('keeps the link target of an input untouched', async () => {
    const dir = await tempDir('link-input');
    await copyFile(SMALL, join(dir, 'real.png'));
    await symlink(join(dir, 'real.png'), join(dir, 'alias.png'));
    const out = join(dir, 'out');
    const run = await runCli(['detect', join(dir, 'alias.png'), ...MODEL, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(await readlink(join(dir, 'alias.png'))).toBe(join(dir, 'real.png'));
    await expectCompleteOutputs(out);
  });
});
