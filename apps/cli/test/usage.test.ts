import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../package.json';
import { CHECKPOINT, runCli, tempDir, tiny } from './helpers';

const image = tiny('images', 'splice_640x480.png');

describe('usage', () => {
  it('prints help and the version with exit code 0', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/detect[\s\S]*convert[\s\S]*export[\s\S]*eval/);
    for (const command of ['detect', 'convert', 'export', 'eval']) {
      const r = await runCli([command, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: sparsevit ${command}`);
    }
    const version = await runCli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it.concurrent.each([
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['an unknown flag', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--bogus']],
    ['a missing --out', ['detect', image, '--weights', CHECKPOINT]],
    ['no inputs', ['detect', '--weights', CHECKPOINT, '--out', 'o']],
    ['a threshold above 1', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--threshold', '1.5']],
    ['a threshold that is not a number', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--threshold', 'half']],
    ['a batch size of 0', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--batch-size', '0']],
    ['an unknown device', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--device', 'tpu']],
    ['a flag without its value', ['detect', image, '--out', 'o', '--weights']],
    ['convert without an output', ['convert', CHECKPOINT]],
    ['export with an unknown flag', ['export', CHECKPOINT, 'x.onnx', '--fp16']],
    ['eval without a dataset', ['eval', '--weights', CHECKPOINT, '--out', 'o']],
    ['eval with two datasets', ['eval', 'a', 'b', '--weights', CHECKPOINT, '--out', 'o']],
    ['eval without --out', ['eval', 'ds', '--weights', CHECKPOINT]],
    ['eval with an unknown protocol', ['eval', 'ds', '--weights', CHECKPOINT, '--out', 'o', '--protocol', 'pixel']],
    ['eval with an unknown perturbation', ['eval', 'ds', '--weights', CHECKPOINT, '--out', 'o', '--perturb', 'sharpen:3']],
    ['eval with an even blur kernel', ['eval', 'ds', '--weights', CHECKPOINT, '--out', 'o', '--perturb', 'jpeg:50;blur:4']],
  ])('exits 2 with a short usage message on %s', async (_label, args) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^sparsevit: .+\nUsage: sparsevit/);
    expect(r.stderr.split('\n').length).toBeLessThanOrEqual(5);
  });

  it('exits 2 when a folder holds no images', async () => {
    const dir = await tempDir('empty');
    await mkdir(join(dir, 'in'));
    const r = await runCli(['detect', join(dir, 'in'), '--weights', CHECKPOINT, '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no image files found/);
  });
});
