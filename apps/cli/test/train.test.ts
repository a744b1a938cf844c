import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeNpy } from '@sparsevit/core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, CHECKPOINT, CONFIG, mountSmallDisk, runCli, runCliWithFileSizeLimit, tempDir } from './helpers';

/**
 * `sparsevit train` end to end on a tiny config (64x64 input) and a small generated Tp/Gt
 * folder: a run, its outputs (checkpoint, inference export that detect loads, report), bad data
 * skipped and listed, and a run killed with SIGTERM then resumed, whose losses equal an
 * uninterrupted run's.
 */
const TINY = { depth: [1, 1, 15, 4], embed_dim: [8, 16, 32, 64], head_dim: 16, img_size: 64, s_blocks3: [8, 8, 8], s_blocks4: [8], mlp_ratio: 4, qkv_bias: true };
let data: string;
let config: string;

beforeAll(async () => {
  const root = await tempDir('train-data');
  data = join(root, 'set');
  await mkdir(join(data, 'Tp'), { recursive: true });
  await mkdir(join(data, 'Gt'), { recursive: true });
  for (let k = 0; k < 6; k++) {
    const w = 80;
    const h = 72;
    const rgb = Buffer.alloc(w * h * 3);
    const mask = Buffer.alloc(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const inside = x > 10 + k * 4 && x < 40 + k * 4 && y > 20 && y < 50;
        mask[y * w + x] = inside ? 255 : 0;
        for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = inside ? (x * 37 + y * 11 + c * 50) % 256 : 90 + ((x + y + c * 3) % 40);
      }
    }
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(data, 'Tp', `img${k}.png`));
    await sharp(mask, { raw: { width: w, height: h, channels: 1 } }).png().toFile(join(data, 'Gt', `img${k}_gt.png`));
  }
  // A corrupt image with a mask: skipped and counted, never fatal.
  await writeFile(join(data, 'Tp', 'broken.png'), Buffer.from('not a png at all'));
  await sharp(Buffer.alloc(80 * 72), { raw: { width: 80, height: 72, channels: 1 } }).png().toFile(join(data, 'Gt', 'broken_gt.png'));
  config = join(root, 'config.json');
  await writeFile(config, JSON.stringify(TINY));
});

const baseArgs = (out: string, steps: number) => ['train', '--data', data, '--val', data, '--config', config, '--steps', String(steps), '--batch', '2', '--lr', '1e-3', '--warmup-steps', '1', '--validate-every', '2', '--val-count', '4', '--out', out];

async function losses(out: string): Promise<number[]> {
  // Complete lines only: the run appends while the SIGTERM test polls, and a reader can see a
  // line half written (every line ends with its newline once written).
  const lines = (await readFile(join(out, 'train-log.jsonl'), 'utf8')).split('\n').slice(0, -1).map((l) => JSON.parse(l));
  return lines.filter((l) => l.type === 'step').map((l) => l.loss);
}

describe('sparsevit train', () => {
  it('trains, writes a checkpoint, an inference model detect loads, and a report listing the skipped image', async () => {
    const out = join(await tempDir('train-run'), 'run');
    const run = await runCli(baseArgs(out, 3));
    expect(run.stderr).toContain('done at step 3');
    expect(run.code).toBe(0);
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'model-fp16.safetensors', 'train-report.html']) expect(existsSync(join(out, f)), f).toBe(true);
    const report = await readFile(join(out, 'train-report.html'), 'utf8');
    expect(report).toContain('Tp/broken.png');
    expect(report).toContain('<svg');
    expect(report).toContain('data:image/png;base64,');
    const detected = await runCli(['detect', join(data, 'Tp', 'img0.png'), '--weights', join(out, 'model-fp16.safetensors'), '--out', join(out, 'detect')]);
    expect(detected.code).toBe(0);
    const result = JSON.parse(await readFile(join(out, 'detect', 'img0.json'), 'utf8'));
    expect(result.width).toBe(80);
  });

  it('a run stopped by SIGTERM writes a checkpoint (exit 130) and --resume continues with the losses of an uninterrupted run', async () => {
    const root = await tempDir('train-resume');
    const straight = join(root, 'straight');
    expect((await runCli(baseArgs(straight, 20))).code).toBe(0);

    const killed = join(root, 'killed');
    const child = spawn(process.execPath, [BIN, ...baseArgs(killed, 20)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Stop it once two steps are logged.
    await new Promise<void>((resolve) => {
      const timer = setInterval(async () => {
        const log = join(killed, 'train-log.jsonl');
        if (existsSync(log) && (await losses(killed)).length >= 2) {
          clearInterval(timer);
          child.kill('SIGTERM');
          resolve();
        }
      }, 50);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    // 20 steps take seconds; the signal comes after step 2, so the run is cut short.
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopped at step');
    expect((await losses(killed)).length).toBeLessThan(20);
    const resumed = await runCli(['train', '--resume', '--out', killed]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await losses(killed)).toEqual(await losses(straight));
  });

  it('a checkpoint moves between engines: resumed on tfjs-wasm (--backend wasm), a run continues with the losses ONNX Runtime gives (<= 1e-4 relative)', async () => {
    const root = await tempDir('train-engines');
    const first = join(root, 'ort');
    expect((await runCli([...baseArgs(first, 3), '--backend', 'ort'])).code).toBe(0);
    const second = join(root, 'wasm');
    await mkdir(second);
    for (const f of readdirSync(first)) await copyFile(join(first, f), join(second, f));
    const onOrt = await runCli(['train', '--resume', '--out', first, '--steps', '6']);
    const onWasm = await runCli(['train', '--resume', '--out', second, '--steps', '6', '--backend', 'wasm']);
    expect(onOrt.code, onOrt.stderr).toBe(0);
    expect(onWasm.code, onWasm.stderr).toBe(0);
    expect(onWasm.stderr).toContain('wasm, batch 2');
    const [a, b] = [await losses(first), await losses(second)];
    expect(a.length).toBe(6);
    expect(b.slice(0, 3)).toEqual(a.slice(0, 3));
    for (let i = 3; i < 6; i++) expect(Math.abs(a[i] - b[i]) / a[i], `step ${i + 1}`).toBeLessThanOrEqual(1e-4);
  });

  it('a full disk when the next checkpoint is written is a clear IO_ERROR, and the last good checkpoint is kept whole', async () => {
    const root = await tempDir('train-full');
    const first = join(root, 'first');
    expect((await runCli(baseArgs(first, 2))).code).toBe(0);
    const files = readdirSync(first);
    const used = files.reduce((n, f) => n + statSync(join(first, f)).size, 0);
    const checkpointBytes = statSync(join(first, 'checkpoint.safetensors')).size;
    // The run folder on a disk with room for what it holds plus 64 KiB, less than one more
    // checkpoint: resuming, the next checkpoint cannot be written. Without the right to mount
    // one, a file size limit below the checkpoint's size fails the same write (EFBIG).
    const out = join(root, 'disk');
    await mkdir(out);
    const unmount = mountSmallDisk(out, `${Math.ceil((used + 64 * 1024) / 4096) * 4}k`);
    try {
      for (const f of files) await copyFile(join(first, f), join(out, f));
      const before = await readFile(join(out, 'checkpoint.safetensors'));
      const args = ['train', '--resume', '--steps', '4', '--out', out];
      const run = unmount ? await runCli(args) : runCliWithFileSizeLimit(args, Math.floor(checkpointBytes / 2048));
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(unmount ? /IO_ERROR: .*no space left on the device/ : /IO_ERROR: .*over the size limit/);
      expect(run.stderr).toContain(`the last good checkpoint is ${join(out, 'checkpoint.safetensors')}`);
      // The checkpoint is the one written before, byte for byte, and nothing half-written is left.
      expect((await readFile(join(out, 'checkpoint.safetensors'))).equals(before)).toBe(true);
      expect(readdirSync(out).sort()).toEqual([...files].sort());
      // The disk's spare room was indeed smaller than one checkpoint.
      expect(checkpointBytes).toBeGreaterThan(64 * 1024);
    } finally {
      unmount?.();
    }
  });

  it('--init reads the authors-layout fixture .pth (every key) and fine-tunes from it', async () => {
    const out = join(await tempDir('train-init'), 'run');
    const run = await runCli(['train', '--init', CHECKPOINT, '--config', CONFIG, '--data', data, '--val', data, '--steps', '1', '--batch', '1', '--accumulate', '1', '--val-count', '1', '--out', out]);
    expect(run.stderr).toContain('done at step 1');
    expect(run.code).toBe(0);
    // The fixture's weights against the small preset's widths: every key named, nothing trained.
    const wrong = await runCli(['train', '--init', CHECKPOINT, '--preset', 'small', '--data', data, '--val', data, '--steps', '1', '--out', join(out, 'x')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('WEIGHTS_MISMATCH');
  });

  it('--init of a narrower model of the same topology widens it: at lr 0 the wider model detects the same map (<= 1e-5)', async () => {
    const root = await tempDir('train-widen');
    const narrow = join(root, 'narrow');
    expect((await runCli(baseArgs(narrow, 2))).code).toBe(0);
    const wideConfig = join(root, 'wide.json');
    await writeFile(wideConfig, JSON.stringify({ ...TINY, embed_dim: [16, 32, 64, 128] }));
    const wide = join(root, 'wide');
    const run = await runCli(['train', '--init', join(narrow, 'model.safetensors'), '--config', wideConfig, '--data', data, '--val', data, '--steps', '1', '--batch', '1', '--accumulate', '1', '--lr', '0', '--min-lr', '0', '--val-count', '1', '--out', wide]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('widening --init from embed_dim [8,16,32,64] to [16,32,64,128]');
    const maps: Float32Array[] = [];
    for (const dir of [narrow, wide]) {
      const detected = await runCli(['detect', join(data, 'Tp', 'img0.png'), '--weights', join(dir, 'model.safetensors'), '--out', join(dir, 'detect')]);
      expect(detected.code, detected.stderr).toBe(0);
      maps.push(decodeNpy(await readFile(join(dir, 'detect', 'img0.prob.npy'))).data as Float32Array);
    }
    expect(maps[1].length).toBe(maps[0].length);
    let worst = 0;
    for (let i = 0; i < maps[0].length; i++) worst = Math.max(worst, Math.abs(maps[0][i] - maps[1][i]));
    expect(worst).toBeLessThan(1e-5);
    // Not the same file: the wide model has four times the weights.
    expect(statSync(join(wide, 'model.safetensors')).size).toBeGreaterThan(3.5 * statSync(join(narrow, 'model.safetensors')).size);
  });

  it('--kinds sets the mix of the synthetic samples made on the fly (validation keeps the default mix); --photo-shaped their shape, validation\'s too', async () => {
    const photos = await tempDir('train-photos');
    await mkdir(join(photos, 'pkg'));
    for (const [k, name] of ['a.png', 'b.png'].entries()) {
      const width = 96;
      const height = 80;
      const rgb = Buffer.alloc(width * height * 3);
      for (let i = 0; i < rgb.length; i++) rgb[i] = (i * (7 + k * 5) + Math.floor(i / (width * 3)) * 13) % 256;
      await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toFile(join(photos, 'pkg', name));
    }
    await writeFile(join(photos, 'manifest.json'), JSON.stringify({ photos: [{ package: 'pkg', file: 'a.png', split: 'train' }, { package: 'pkg', file: 'b.png', split: 'val' }] }));
    const out = join(await tempDir('train-kinds'), 'run');
    const args = ['train', '--data', `synth:${photos}`, '--val', `synth:${photos}#val`, '--config', config, '--steps', '2', '--batch', '2', '--accumulate', '1', '--validate-every', '2', '--val-count', '2', '--out', out];
    const run = await runCli([...args, '--kinds', 'copy-move=1,removal=1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('synthetic manipulations of 1 train photos');
    expect(run.stderr).toContain('kinds splice=0,copy-move=1,removal=1,authentic=0');
    expect(run.stderr).toMatch(/validation: synthetic manipulations of 1 val photos in [^;]*\(seed 2\)/);
    const bad = await runCli([...args, '--kinds', 'paint=1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--kinds expects kind=weight pairs');
    const shapedOut = join(await tempDir('train-photo-shaped'), 'run');
    const shaped = await runCli([...args.slice(0, -1), shapedOut, '--photo-shaped', '0.5', '--loss', 'bce+dice+image']);
    expect(shaped.code, shaped.stderr).toBe(0);
    expect(await readFile(join(shapedOut, 'train-report.html'), 'utf8')).toContain('training loss (BCE + Dice + image score BCE)');
    expect(shaped.stderr).toMatch(/1 train photos in [^;]*\(seed 1; 50% photo-shaped \(long side 512, resized to 64x64\)\)/);
    expect(shaped.stderr).toMatch(/1 val photos in [^;]*\(seed 2; 50% photo-shaped/);
    const notFraction = await runCli([...args, '--photo-shaped', '1.5']);
    expect(notFraction.code).toBe(2);
    expect(notFraction.stderr).toContain('--photo-shaped must be a number in [0, 1], got "1.5"');
  });

  it('usage errors, a missing config file and a resume without a checkpoint are reported, not thrown', async () => {
    const noConfig = await runCli(['train', '--config', '/nonexistent/config.json', '--out', join(await tempDir('train-nocfg'), 'o')]);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stderr).toContain('IO_ERROR: cannot read the config file');
    expect((await runCli(['train'])).code).toBe(2);
    expect((await runCli(['train', '--out', '/tmp/x', '--batch', '0'])).code).toBe(2);
    const badLoss = await runCli(['train', '--out', '/tmp/x', '--loss', 'focal']);
    expect(badLoss.code).toBe(2);
    expect(badLoss.stderr).toContain('--loss must be one of bce, bce+dice, bce+dice+image');
    const badBackend = await runCli(['train', '--out', '/tmp/x', '--backend', 'tpu']);
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toContain('--backend must be ort, wasm or cpu');
    const missing = await runCli(['train', '--resume', '--out', join(await tempDir('train-none'), 'nothing')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no checkpoint');
  });
});
