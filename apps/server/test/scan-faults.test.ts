import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectRedis, openQueue, submitScan, waitForScan, type ScanJobData, type ScanJobResult, type ScanResultRecord } from '../src/index';
import { distinctImages, spawnCommand, TINY_CONFIG, TINY_WEIGHTS, type CommandProcess } from './helpers';
import { startRedis, type TestRedis } from './redis-server';

// Faults of a scan with real processes: a worker killed (SIGKILL) in the middle of a job, and
// Redis itself killed and restarted in the middle of a scan. Either way every image must end
// with exactly one complete result and nothing may be lost.

const root = mkdtempSync(join(tmpdir(), 'sparsevit-faults-'));
const workers: CommandProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const w of workers.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function setUp(name: string, images: number, redisOptions: { durable?: boolean } = {}) {
  const inputs = join(root, name, 'inputs');
  const out = join(root, name, 'out');
  mkdirSync(inputs, { recursive: true });
  (await distinctImages(images)).forEach((png, i) => writeFileSync(join(inputs, `image-${String(i).padStart(3, '0')}.png`), png));
  const redis: TestRedis = await startRedis(redisOptions);
  const connection: Redis = connectRedis(redis.url);
  connection.on('error', () => undefined);
  const queue: Queue<ScanJobData, ScanJobResult> = openQueue(name, connection);
  queue.on('error', () => undefined); // connection errors while Redis is down are expected
  cleanups.push(async () => {
    await queue.close();
    connection.disconnect();
    await redis.stop();
  });
  const summary = await submitScan(queue, connection, { inputs: [inputs], outDir: out, threshold: 0.5, attempts: 3, backoffMs: 100 });
  expect(summary.added).toBe(images);
  return { redis, connection, queue, out, summary };
}

function startWorker(redisUrl: string, queue: string, name: string): CommandProcess {
  const worker = spawnCommand('worker', ['--redis', redisUrl, '--queue', queue, '--weights', TINY_WEIGHTS, '--config', TINY_CONFIG, '--lock-ms', '2000', '--name', name]);
  workers.push(worker);
  return worker;
}

/** Every result in `out`: exactly one `<stem>.json` and `<stem>.mask.png` per image, complete, no temporary files. */
function expectOneResultEach(out: string, images: number): ScanResultRecord[] {
  const files = readdirSync(out).sort();
  const expected = Array.from({ length: images }, (_, i) => `image-${String(i).padStart(3, '0')}`).flatMap((s) => [`${s}.json`, `${s}.mask.png`]).sort();
  expect(files).toEqual(expected);
  return files.filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as ScanResultRecord);
}

const completedCount = async (queue: Queue<ScanJobData, ScanJobResult>) => (await queue.getJobCounts('completed')).completed;
const until = async (check: () => Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('scan faults', () => {
  it('a worker SIGKILLed mid-job: its job is retried by another worker and finished, one result per image', async () => {
    const images = 16;
    const { queue, out, summary, redis } = await setUp('killed-worker', images);
    const first = startWorker(redis.url, 'killed-worker', 'first');
    await until(async () => (await completedCount(queue)) >= 2, 'the first worker to finish two jobs');
    // The first worker is busy all the time; catch it holding a job, then kill it.
    await until(async () => (await queue.getActive()).length > 0, 'an active job');
    first.child.kill('SIGKILL');
    await first.exited;
    const orphans = (await queue.getActive()).map((j) => String(j.id));
    expect(orphans.length).toBe(1);

    const second = startWorker(redis.url, 'killed-worker', 'second');
    const { counts, failed } = await waitForScan(queue, summary.jobIds, () => undefined, 100);
    expect(failed).toEqual([]);
    expect(counts).toMatchObject({ completed: images, failed: 0 });
    const records = expectOneResultEach(out, images);
    const orphan = records.find((r) => `sha256-${r.sha256}` === orphans[0])!;
    expect(orphan.worker).toBe('second');
    const job = await queue.getJob(orphans[0]);
    expect(job?.returnvalue?.alreadyWritten).toBe(false);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('Redis killed and restarted mid-scan: the scan resumes and finishes with nothing lost', async () => {
    const images = 16;
    const { queue, out, summary, redis } = await setUp('redis-restart', images, { durable: true });
    const worker = startWorker(redis.url, 'redis-restart', 'survivor');
    await until(async () => (await completedCount(queue)) >= 3, 'three jobs done');
    await redis.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await redis.start();
    const { counts, failed } = await waitForScan(queue, summary.jobIds, () => undefined, 100);
    expect(failed).toEqual([]);
    expect(counts).toMatchObject({ completed: images, failed: 0, waiting: 0, active: 0, delayed: 0 });
    const records = expectOneResultEach(out, images);
    expect(new Set(records.map((r) => r.sha256)).size).toBe(images);
    expect(worker.child.exitCode).toBeNull();
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });
});
