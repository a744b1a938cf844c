import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { BASE_CONFIG, CONFIG_METADATA_KEY, writeSafetensors, type WeightTensor } from '@sparsevit/node';
import { fixturePath, randomStateDict } from '@sparsevit/fixtures';
import { freePort } from '../test/redis-server';
import type { SdkBlock } from './sdk-loop';

/** The two model sizes the benchmarks run: the tiny fixture and the published base configuration. */
export type ModelSize = 'tiny' | 'base';

/**
 * Weights (and config, where the weights do not carry it) for a size: the tiny fixture model, or
 * seeded random weights of every shape of the published base model (speed does not depend on
 * the values; no trained weights ship here), written once to a temporary file.
 */
export function benchWeights(size: ModelSize, scratch: string): { weights: string; config?: string; modelArgs: string[] } {
  if (size === 'tiny') {
    const [weights, config] = [fixturePath('sparsevit-tiny', 'weights.safetensors'), fixturePath('sparsevit-tiny', 'config.json')];
    return { weights, config, modelArgs: ['--weights', weights, '--config', config] };
  }
  const weights = join(scratch, 'sparsevit-base-random.safetensors');
  const tensors = randomStateDict('sparsevit-base') as Map<string, WeightTensor>;
  writeFileSync(weights, writeSafetensors({ tensors, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(BASE_CONFIG) } }));
  return { weights, modelArgs: ['--weights', weights] };
}

export const scratchDir = () => mkdtempSync(join(tmpdir(), 'sparsevit-server-bench-'));

const packageRoot = () => dirname(createRequire(import.meta.url).resolve('@sparsevit/server/package.json'));

/** The built command of this package (found from its package.json: the bundler moves this module). */
export const command = (name: 'serve' | 'worker') => join(packageRoot(), 'dist', 'bin', `${name}.js`);

/**
 * `[command, args]` that runs Node on `args`, on the CPUs listed (a taskset list, "0" or "0-2")
 * when given. Node and ONNX Runtime size their thread pools from the affinity they start with
 * (`availableParallelism`), so a pinned process also computes with that many threads.
 */
function nodeCommand(args: string[], cpus?: string, nodeFlags: readonly string[] = []): [string, string[]] {
  return cpus === undefined ? [process.execPath, [...nodeFlags, ...args]] : ['taskset', ['-c', cpus, process.execPath, ...nodeFlags, ...args]];
}

/**
 * How a benchmarked server process is started, beyond its arguments: Node/V8 flags for its
 * command line (`--initial-old-space-size=32`; V8 heap flags are not allowed in NODE_OPTIONS) and
 * environment variables (`MALLOC_ARENA_MAX=2`, which glibc reads at process start).
 */
export interface ServerLaunch {
  nodeFlags?: readonly string[];
  env?: Readonly<Record<string, string>>;
}

/** Pins this process, all its threads, to `cpus` (a taskset list). Linux, util-linux's taskset. */
export function pinThisProcess(cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Resident set size of a process, MB (Linux /proc). `VmHWM` is its high-water mark. */
export function rssMB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return kb / 1024;
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs Node on `script` (with `--host 127.0.0.1 --port <free port>` and `args`), on `cpus` when
 * given, and resolves once its `/readyz` answers 200.
 */
async function startLoopbackServer(name: string, script: string, args: string[], cpus?: string, launch: ServerLaunch = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Its log (JSON lines on stdout) is read and dropped, as a log shipper would.
  const child = spawn(...nodeCommand([script, '--host', '127.0.0.1', '--port', String(port), ...args], cpus, launch.nodeFlags), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...launch.env },
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 120_000;
  while (!(await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false))) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}) before it was ready`);
    if (Date.now() > deadline) throw new Error(`${name} was not ready within 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Starts `sparsevit-serve` on a free loopback port and resolves once `/readyz` answers 200. */
export const startService = (args: string[], cpus?: string, launch?: ServerLaunch) => startLoopbackServer('sparsevit-serve', command('serve'), args, cpus, launch);

/**
 * bench/bare-upload-server.ts on a free loopback port (on `cpus` when given): the HTTP transport
 * floor that every request to the service pays before the service does anything.
 */
export const startBareUploadServer = (cpus?: string) => startLoopbackServer('the bare upload server', join(packageRoot(), 'dist', 'bench', 'bare-upload-server.js'), [], cpus);

/** Value at quantile `q` of `values` (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** The SDK's `detect` loop in a process of its own (bench/sdk-loop.ts), on `cpus` when given. */
export interface SdkLoopProcess {
  /** Runs `detect` `count` times, one after another. */
  block(count: number): Promise<SdkBlock>;
  stop(): Promise<void>;
}

export async function startSdkLoop(weights: string, config: string | undefined, image: string, cpus?: string): Promise<SdkLoopProcess> {
  const args = [join(packageRoot(), 'dist', 'bench', 'sdk-loop.js'), weights, ...(config ? [config] : []), image];
  const child = spawn(...nodeCommand(args, cpus), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the SDK loop exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  await next(); // { ready: true }, once the model is loaded and warmed up
  return {
    async block(count) {
      const answer = next();
      child.send({ count });
      return (await answer) as SdkBlock;
    },
    async stop() {
      child.disconnect();
      await exited;
    },
  };
}

