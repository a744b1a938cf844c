import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import pkg from '../package.json';
import { CHECKPOINT, CONFIG, runCli, tempDir, tiny } from './helpers';

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

/**
 * The runtimes (ONNX Runtime, sharp, TensorFlow.js) load only once a command has checked its
 * arguments and inputs: a module hook prints every one of them that is resolved.
 */
describe('what a command loads before it runs the model', () => {
  const RUNTIMES = /onnxruntime-node|[\\/]sharp[\\/]|@tensorflow/;
  let nodeArgs: string[];
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir('loads');
    const hooks = join(dir, 'hooks.mjs');
    await writeFile(
      hooks,
      `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (${RUNTIMES}.test(r.url)) process.stderr.write('loaded ' + r.url + '\\n');
  return r;
}
`,
    );
    const register = join(dir, 'register.mjs');
    await writeFile(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    nodeArgs = ['--import', register];
  });

  it('the hook sees a runtime when one loads', async () => {
    const r = await runCli(['detect', image, '--weights', CHECKPOINT, '--config', CONFIG, '--out', join(dir, 'detect')], nodeArgs);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^loaded .*onnxruntime-node/m);
    expect(r.stderr).toMatch(/^loaded .*[\\/]sharp[\\/]/m);
  });

  it.concurrent.each([
    ['--help', ['--help'], 0],
    ['detect --help', ['detect', '--help'], 0],
    ['eval --help', ['eval', '--help'], 0],
    ['train --help', ['train', '--help'], 0],
    ['convert --help', ['convert', '--help'], 0],
    ['export --help', ['export', '--help'], 0],
    ['a usage error of detect', ['detect', image, '--weights', CHECKPOINT, '--out', 'o', '--threshold', '1.5'], 2],
    ['a usage error of eval', ['eval', 'ds', '--weights', CHECKPOINT, '--out', 'o', '--protocol', 'pixel'], 2],
    ['an eval dataset that does not exist', ['eval', join(tiny(), 'no-such-dataset'), '--weights', CHECKPOINT, '--out', 'o'], 1],
  ])('%s loads none of them', async (_label, args, code) => {
    const r = await runCli(args as string[], nodeArgs);
    expect(r.code).toBe(code);
    expect(r.stderr).not.toMatch(/^loaded /m);
  });
});
