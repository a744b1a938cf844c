// node apps/server/dist/bench/scale-out.js [--models tiny,base] [--images N] [--json]
//
// Scan throughput with 1 and with 2 `sparsevit-worker` processes on this machine, on a real
// redis-server (loopback): images/s from the first job started to the last one finished (the
// workers are loaded and waiting before the scan is submitted, so model loading is not in it),
// and the ratio. Two workers are run twice: with ONNX Runtime's default threads (every core
// each, so they compete for the cores) and with one thread each.
// Then the queue alone: BullMQ jobs/s through one worker whose job does nothing (what Redis and
// BullMQ cost per job), and Redis memory per finished job.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { connectRedis, jobIdFor, openQueue, submitScan, waitForScan } from '../src/index';
import { distinctImages } from '../test/helpers';
import { startRedis } from '../test/redis-server';
import { benchWeights, command, scratchDir, type ModelSize } from './bench-support';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny,base' },
    images: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};

/** Starts a worker and resolves once it has logged that it is ready. */
function startWorker(redisUrl: string, queue: string, modelArgs: string[], name: string, threads?: number): Promise<ChildProcess> {
  const args = [command('worker'), '--redis', redisUrl, '--queue', queue, ...modelArgs, '--name', name, '--log-level', 'info'];
  if (threads !== undefined) args.push('--threads', String(threads));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"worker ready"')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${out}`)));
  });
}

const scratch = scratchDir();
const redis = await startRedis();
const connection = connectRedis(redis.url);
const report: Record<string, unknown> = { machine: `${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}` };
log(`machine: ${report.machine}`);
try {
  for (const size of values.models!.split(',') as ModelSize[]) {
    const { modelArgs } = benchWeights(size, scratch);
    const count = Number(values.images ?? (size === 'tiny' ? 120 : 16));
    const inputs = join(scratch, `${size}-inputs`);
    mkdirSync(inputs, { recursive: true });
    (await distinctImages(count)).forEach((png, i) => writeFileSync(join(inputs, `image-${i}.png`), png));
    const rows: Array<{ workers: number; threads: string; images: number; seconds: number; imagesPerSecond: number }> = [];
    for (const [workers, threads] of [[1, undefined], [2, undefined], [2, 1]] as const) {
      const queueName = `bench-${size}-${workers}-${threads ?? 'all'}`;
      const queue = openQueue(queueName, connection);
      const out = join(scratch, `${queueName}-out`);
      const children = await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(redis.url, queueName, modelArgs, `w${i + 1}`, threads)));
      const summary = await submitScan(queue, connection, { inputs: [inputs], outDir: out, threshold: 0.5, attempts: 1, backoffMs: 0 });
      const { failed } = await waitForScan(queue, summary.jobIds, () => undefined, 50);
      if (failed.length > 0) throw new Error(`${failed.length} jobs failed: ${failed[0].reason}`);
      const jobs = await queue.getCompleted(0, -1);
      const first = Math.min(...jobs.map((j) => j.processedOn!));
      const last = Math.max(...jobs.map((j) => j.finishedOn!));
      const seconds = (last - first) / 1000;
      rows.push({ workers, threads: threads === undefined ? `${cpus().length} (default)` : String(threads), images: jobs.length, seconds, imagesPerSecond: jobs.length / seconds });
      await Promise.all(children.map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM')))));
      await queue.obliterate({ force: true });
      await queue.close();
      rmSync(out, { recursive: true, force: true });
    }
    const one = rows[0].imagesPerSecond;
    report[size] = rows.map((r) => ({ ...r, vsOneWorker: r.imagesPerSecond / one }));
    log(`\n${size} model, ${count} images (640x480 PNG):`);
    log('| workers | ORT threads each | images | seconds | images/s | vs 1 worker |');
    log('|---|---|---|---|---|---|');
    for (const r of rows) log(`| ${r.workers} | ${r.threads} | ${r.images} | ${r.seconds.toFixed(1)} | ${r.imagesPerSecond.toFixed(2)} | ${(r.imagesPerSecond / one).toFixed(2)}x |`);
  }
  // The queue alone: what one job costs in Redis and BullMQ, with nothing to run.
  const jobs = 2000;
  const queueRows = [];
  for (const concurrency of [1, 16]) {
    const name = `bench-noop-${concurrency}`;
    const queue = openQueue(name, connection);
    const memoryBefore = Number(/used_memory:(\d+)/.exec(await connection.info('memory'))![1]);
    const data = { path: '/nowhere.png', stem: 'x', outDir: '/nowhere', sha256: '', threshold: 0.5 };
    await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'detect', data, opts: { jobId: jobIdFor(String(i).padStart(64, '0')) } })));
    const started = performance.now();
    const workerConnection = connectRedis(redis.url);
    const worker = new Worker(name, async () => ({ stem: 'x', score: 0, alreadyWritten: false }), { connection: workerConnection, concurrency });
    await waitForScan(queue, [], () => undefined, 20);
    const seconds = (performance.now() - started) / 1000;
    const memoryAfter = Number(/used_memory:(\d+)/.exec(await connection.info('memory'))![1]);
    await worker.close();
    workerConnection.disconnect();
    queueRows.push({ concurrency, jobs, seconds, jobsPerSecond: jobs / seconds, redisBytesPerFinishedJob: (memoryAfter - memoryBefore) / jobs });
    await queue.obliterate({ force: true });
    await queue.close();
  }
  report.queueAlone = queueRows;
  log('\nthe queue alone (a job that does nothing), one worker process:');
  log('| worker concurrency | jobs | jobs/s | Redis bytes per finished job |');
  log('|---|---|---|---|');
  for (const r of queueRows) log(`| ${r.concurrency} | ${r.jobs} | ${r.jobsPerSecond.toFixed(0)} | ${r.redisBytesPerFinishedJob.toFixed(0)} |`);
} finally {
  connection.disconnect();
  await redis.stop();
  rmSync(scratch, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
