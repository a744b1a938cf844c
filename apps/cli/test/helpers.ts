import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '@sparsevit/fixtures';
import { decodeNpy, readSafetensors, toFloat32 } from '@sparsevit/node';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');

export const tiny = (...parts: string[]) => fixturePath('sparsevit-tiny', ...parts);
export const CHECKPOINT = tiny('checkpoint.pth');
export const CONFIG = tiny('config.json');

/** The four test images (not the `*_gt.png` masks) and their reference cases. */
export const CASES = [
  { name: 'case0', image: 'splice_640x480.png', stem: 'splice_640x480', width: 640, height: 480 },
  { name: 'case1', image: 'splice_300x500.png', stem: 'splice_300x500', width: 300, height: 500 },
  { name: 'case2', image: 'gray_257x333.png', stem: 'gray_257x333', width: 257, height: 333 },
  { name: 'case3', image: 'rgba_512x512.png', stem: 'rgba_512x512', width: 512, height: 512 },
] as const;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (`node [...nodeArgs] dist/bin.js ...args`) and resolves with its exit code
 * and output.
 */
export function runCli(args: string[], nodeArgs: string[] = []): Promise<CliRun> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build the CLI first (pnpm --filter @sparsevit/cli build)`);
  return new Promise((resolve) => {
    execFile(process.execPath, [...nodeArgs, BIN, ...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const tempDir = (label: string) => mkdtemp(join(tmpdir(), `sparsevit-cli-${label}-`));

/** `<dir>/Tp/` with the four test images and `<dir>/Gt/` with their CASIA-style `_gt` masks. */
export async function writeCasesFolder(dir: string): Promise<string> {
  await mkdir(join(dir, 'Tp'), { recursive: true });
  await mkdir(join(dir, 'Gt'), { recursive: true });
  for (const c of CASES) {
    await copyFile(tiny('images', c.image), join(dir, 'Tp', c.image));
    await copyFile(tiny('images', `${c.stem}_gt.png`), join(dir, 'Gt', `${c.stem}_gt.png`));
  }
  return dir;
}

export async function readNpy(path: string) {
  return decodeNpy(new Uint8Array(await readFile(path)));
}

export async function referenceProb(caseName: string): Promise<Float32Array> {
  const store = await readSafetensors(new Uint8Array(await readFile(tiny(`${caseName}.safetensors`))));
  const t = store.tensors.get('prob_full');
  if (!t) throw new Error(`${caseName} has no prob_full`);
  return toFloat32(t);
}

/** Mean and maximum absolute difference of two equally long arrays. */
export function diff(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

export async function readJson<T = any>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * Mounts a `size` tmpfs (e.g. `1m`) on `dir` when this process may (root, and mount allowed):
 * a real full disk. Returns the unmount function, or `undefined` when it cannot mount (callers
 * then fall back to a file size limit, `ulimit -f`, which fails the same writes with EFBIG).
 */
export function mountSmallDisk(dir: string, size: string): (() => void) | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  if (mounted.status !== 0) return undefined;
  return () => void spawnSync('umount', [dir]);
}

/** Runs the CLI under a file size limit of `kib` KiB (`ulimit -f`: writes past it fail with EFBIG). */
export function runCliWithFileSizeLimit(args: string[], kib: number): CliRun {
  const r = spawnSync('sh', ['-c', `ulimit -f ${kib * 2} && exec "$0" "$@"`, process.execPath, BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
