import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadModel, type NodeSparseViTModel } from '@sparsevit/node';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectRedis,
  formatScanStatus,
  openQueue,
  readScanStatus,
  startScanWorker,
  submitScan,
  waitForScan,
  type RunningScanWorker,
  type ScanJobData,
  type ScanJobResult,
  type ScanResultRecord,
} from '../src/index';
import { bin, maskDifferences, memoryLogger, tiny, TINY_CONFIG, TINY_WEIGHTS, tinyConfigObject } from './helpers';
import { startRedis, type TestRedis } from './redis-server';

// A scan end to end on a real redis-server: submit a folder, a worker (in this process, the
// same code `sparsevit worker` runs) writes every result, and each result is what `detect`
// gives for that image (score within 1e-6, mask equal).

let redis: TestRedis;
let connection: Redis;
let queue: Queue<ScanJobData, ScanJobResult>;
let worker: RunningScanWorker;
let direct: NodeSparseViTModel;
const root = mkdtempSync(join(tmpdir(), 'sparsevit-scan-'));
const inputs = join(root, 'inputs');
const out = join(root, 'out');
const settings = { outDir: out, threshold: 0.5, attempts: 3, backoffMs: 50 };

beforeAll(async () => {
  mkdirSync(join(inputs, 'sub'), { recursive: true });
  copyFileSync(tiny('images', 'splice_640x480.png'), join(inputs, 'splice.png'));
  copyFileSync(tiny('images', 'gray_257x333.png'), join(inputs, 'gray.png'));
  copyFileSync(tiny('images', 'rgba_512x512.png'), join(inputs, 'sub', 'rgba.png'));
  copyFileSync(tiny('images', 'splice_300x500.png'), join(inputs, 'sub', 'tall.png'));
  // The same bytes as splice.png under another name: one job, one result.
  copyFileSync(tiny('images', 'splice_640x480.png'), join(inputs, 'sub', 'copy-of-splice.png'));
  writeFileSync(join(inputs, 'not-an-image.png'), 'plain text');
  writeFileSync(join(inputs, 'truncated.jpg'), readFileSync(new URL('../../../tooling/fixtures/pil-decode/rgb_q90_420.jpg', import.meta.url)).subarray(0, 2000));
  writeFileSync(join(inputs, 'notes.txt'), 'not picked up from a folder: not an image extension');

  redis = await startRedis();
  connection = connectRedis(redis.url);
  queue = openQueue('scan-test', connection);
  direct = await loadModel({ weights: TINY_WEIGHTS, config: tinyConfigObject() });
  worker = await startScanWorker(
    { weights: TINY_WEIGHTS, config: TINY_CONFIG, device: 'cpu', fallbackCpu: false, maxPixels: 4_000_000, redisUrl: redis.url, queue: 'scan-test', concurrency: 1, lockMs: 5000, name: 'test-worker' },
    memoryLogger().logger,
  );
});
afterAll(async () => {
  await worker?.close();
  await queue?.close();
  connection?.disconnect();
  await direct?.dispose();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

const readRecord = (stem: string) => JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as ScanResultRecord;

describe('scan + worker', () => {
  it('runs every image of a folder (recursively) once, writes what detect gives, and fails bad images without retrying', async () => {
    const summary = await submitScan(queue, connection, { ...settings, inputs: [inputs] });
    expect(summary.inputs).toBe(7);
    expect(summary.added).toBe(6);
    expect(summary.duplicates).toEqual([{ path: join(inputs, 'sub', 'copy-of-splice.png'), sameAs: join(inputs, 'splice.png') }]);
    const { counts, failed } = await waitForScan(queue, summary.jobIds, () => undefined, 100);
    expect(counts).toMatchObject({ completed: 4, failed: 2, waiting: 0, active: 0, delayed: 0 });
    expect(failed.map((f) => [f.input, f.code, f.attempts]).sort()).toEqual([
      [join(inputs, 'not-an-image.png'), 'INVALID_IMAGE', 1],
      [join(inputs, 'truncated.jpg'), 'INVALID_IMAGE', 1],
    ]);

    for (const stem of ['splice', 'gray', 'sub/rgba', 'sub/tall']) {
      const record = readRecord(stem);
      const expected = await direct.detect(record.input);
      expect(Math.abs(record.score - expected.score), stem).toBeLessThanOrEqual(1e-6);
      expect([record.width, record.height]).toEqual([expected.width, expected.height]);
      expect(record.worker).toBe('test-worker');
      expect(record.model.weights).toBe('weights.safetensors');
      expect(await maskDifferences(join(out, `${stem}.mask.png`), expected.mask), stem).toBe(0);
    }
    // Only finished results, no temporary files, nothing for the failed images or the duplicate.
    const files = readdirSync(out, { recursive: true }).map(String).filter((f) => !f.endsWith('sub')).sort();
    expect(files).toEqual(['gray.json', 'gray.mask.png', 'splice.json', 'splice.mask.png', 'sub/rgba.json', 'sub/rgba.mask.png', 'sub/tall.json', 'sub/tall.mask.png']);
  });

  it('adds nothing when the same images are submitted again', async () => {
    const before = await queue.getJobCounts();
    const again = await submitScan(queue, connection, { ...settings, inputs: [inputs] });
    expect([again.added, again.alreadyQueued]).toEqual([0, 6]);
    expect(await queue.getJobCounts()).toEqual(before);
  });

  it('retries an unreadable file with backoff, then fails it with IO_ERROR', async () => {
    const vanishing = join(root, 'vanishing.png');
    copyFileSync(tiny('images', 'splice_300x500.png'), vanishing);
    await sharp(vanishing).flop().toFile(join(root, 'vanishing-flopped.png'));
    const list = join(root, 'list.txt');
    writeFileSync(list, '# one image that disappears after submission, one that was never there\nvanishing-flopped.png\nmissing.png\n');
    const summary = await submitScan(queue, connection, { ...settings, inputs: [list] });
    expect(summary.unreadable.map((u) => u.path)).toEqual([join(root, 'missing.png')]);
    rmSync(join(root, 'vanishing-flopped.png'));
    const { failed } = await waitForScan(queue, summary.jobIds, () => undefined, 100);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: 'IO_ERROR', attempts: 3 });
  });

  it('reports progress and per-worker rates (--status), as text and from the command', async () => {
    const status = await readScanStatus(queue, connection);
    expect(status.counts).toMatchObject({ completed: 4, failed: 3, waiting: 0, active: 0 });
    const me = status.workers.find((w) => w.name === 'test-worker')!;
    expect(me).toMatchObject({ live: true, state: 'running', completed: 4, model: 'weights.safetensors' });
    expect(me.failedAttempts).toBe(2 + 3);
    expect(me.rate).toBeGreaterThan(0);
    const text = formatScanStatus(status);
    expect(text).toMatch(/^queue scan-test: 4 done, 3 failed, 0 waiting, 0 running/);
    expect(text).toMatch(/test-worker .*: 4 done, 5 failed attempts, [\d.]+ images\/s/);
    expect(text).toMatch(/not-an-image\.png: INVALID_IMAGE: /);

    const { stdout } = await promisify(execFile)(process.execPath, [bin('scan'), '--status', '--json', '--redis', redis.url, '--queue', 'scan-test']);
    const fromCommand = JSON.parse(stdout);
    expect(fromCommand.counts).toEqual(status.counts);
    expect(fromCommand.failed.map((f: { code: string }) => f.code).sort()).toEqual(['INVALID_IMAGE', 'INVALID_IMAGE', 'IO_ERROR']);
  });

  it('`sparsevit-scan` submits, waits with the worker, and exits 1 when an image failed', async () => {
    const more = join(root, 'more');
    mkdirSync(more);
    await sharp(tiny('images', 'splice_640x480.png')).flip().toFile(join(more, 'flipped.png'));
    writeFileSync(join(more, 'broken.webp'), 'RIFF....WEBP');
    const run = promisify(execFile)(process.execPath, [bin('scan'), more, '--redis', redis.url, '--queue', 'scan-test', '--out', out, '--json']);
    const error = await run.then(() => undefined, (e: { code: number; stdout: string }) => e);
    expect(error?.code).toBe(1);
    const report = JSON.parse(error!.stdout);
    expect(report.submitted).toMatchObject({ inputs: 2, added: 2 });
    expect(report.failed.map((f: { input: string; code: string }) => [f.input, f.code])).toEqual([[join(more, 'broken.webp'), 'INVALID_IMAGE']]);
    expect(readRecord('flipped').input).toBe(join(more, 'flipped.png'));
  });
});
