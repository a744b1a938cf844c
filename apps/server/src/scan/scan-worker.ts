import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isSparseViTError, type SparseViTErrorCode } from '@sparsevit/node';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { loadServiceModel, type ModelSettings } from '../model-host';
import { readResult, writeResult } from './result-files';
import { connectRedis, workerStatsKey, type ScanJobData, type ScanJobResult } from './scan-queue';

export interface ScanWorkerSettings extends ModelSettings {
  redisUrl: string;
  queue: string;
  /** Jobs this process runs at once; 1 suits one ONNX Runtime session on the CPU. */
  concurrency: number;
  /**
   * How long a job's lock lasts without renewal, ms. A worker that dies (SIGKILL, a lost machine)
   * stops renewing; after this its job is taken back and retried by another worker.
   */
  lockMs: number;
  /** The name shown by `scan --status`; default `<host>-<pid>`. */
  name?: string;
}

/** Errors that retrying cannot fix: the image itself is bad. They fail the job at once. */
const PERMANENT: ReadonlySet<SparseViTErrorCode> = new Set(['INVALID_IMAGE', 'IMAGE_TOO_LARGE', 'INVALID_ARGUMENT', 'UNSUPPORTED_FORMAT']);

/** What `scan --status` shows of one worker (stored as JSON in `workerStatsKey`). */
export interface WorkerStats {
  name: string;
  host: string;
  pid: number;
  state: 'running' | 'stopped';
  startedAt: number;
  /** When it last wrote these stats, ms since the epoch (a worker that stops writing is gone). */
  seenAt: number;
  completed: number;
  /** Failed attempts (a retried job can count more than once). */
  failedAttempts: number;
  /** Images per second over the last minute (or since it started, if sooner). */
  rate: number;
  model: string;
}

/** How often a worker publishes its stats while idle, ms. */
export const STATS_INTERVAL_MS = 5000;

export interface RunningScanWorker {
  name: string;
  /** Stops taking jobs, lets the current ones finish, releases the model and the connection. */
  close(): Promise<void>;
}

/**
 * A scan worker: loads the model once, then takes jobs from the queue until closed. Results go
 * where each job says (its `outDir`), written atomically; the job id being the image's hash, a
 * job retried after its worker died, or run twice when a lock ran out, writes the same files.
 */
export async function startScanWorker(settings: ScanWorkerSettings, logger: Logger): Promise<RunningScanWorker> {
  const name = settings.name ?? `${hostname()}-${process.pid}`;
  const { model, identity } = await loadServiceModel(settings, (message) => logger.warn(message));
  const connection = connectRedis(settings.redisUrl);
  connection.on('error', (error) => logger.warn({ err: error }, 'redis connection error (retrying)'));
  const statsKey = workerStatsKey(settings.queue);
  const startedAt = Date.now();
  const recent: number[] = [];
  let completed = 0;
  let failedAttempts = 0;
  let state: WorkerStats['state'] = 'running';

  const publishStats = async () => {
    const now = Date.now();
    while (recent.length > 0 && recent[0] < now - 60_000) recent.shift();
    const window = Math.min(60_000, now - startedAt) / 1000;
    const stats: WorkerStats = {
      name,
      host: hostname(),
      pid: process.pid,
      state,
      startedAt,
      seenAt: now,
      completed,
      failedAttempts,
      rate: window > 0 ? recent.length / window : 0,
      model: identity.weights,
    };
    await connection.hset(statsKey, name, JSON.stringify(stats)).catch(() => undefined);
  };

  const processJob = async (job: Job<ScanJobData, ScanJobResult>): Promise<ScanJobResult> => {
    const { path, stem, outDir, threshold } = job.data;
    // An earlier attempt may have written the result and died before BullMQ heard of it.
    const existing = await readResult(outDir, stem);
    if (existing?.sha256 === job.data.sha256) return { stem, score: existing.score, alreadyWritten: true };
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      // Possibly transient (shared storage): retried with backoff, then failed.
      throw new Error(`IO_ERROR: cannot read ${path}: ${(error as Error).message}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    try {
      const result = await model.detect(bytes, { threshold });
      const record = await writeResult(outDir, { input: path, stem, sha256, worker: name, attempt: job.attemptsMade + 1 }, result, identity);
      return { stem, score: record.score, alreadyWritten: false };
    } catch (error) {
      const code = isSparseViTError(error) ? error.code : 'IO_ERROR';
      const reason = `${code}: ${(error as Error).message}`;
      if (isSparseViTError(error) && PERMANENT.has(error.code)) throw new UnrecoverableError(reason);
      throw new Error(reason);
    }
  };

  const worker = new Worker<ScanJobData, ScanJobResult>(settings.queue, processJob, {
    connection,
    name,
    concurrency: settings.concurrency,
    lockDuration: settings.lockMs,
    // Check for jobs whose worker died at the lock's pace, so they are retried soon after.
    stalledInterval: Math.max(1000, Math.floor(settings.lockMs / 2)),
    // A job whose worker died is taken back twice before it counts as failed.
    maxStalledCount: 2,
  });
  worker.on('completed', (job, result) => {
    completed++;
    recent.push(Date.now());
    logger.info({ job: job.id, input: job.data.path, stem: result.stem, score: result.score, alreadyWritten: result.alreadyWritten }, 'done');
    void publishStats();
  });
  worker.on('failed', (job, error) => {
    failedAttempts++;
    logger.warn({ job: job?.id, input: job?.data.path, attempt: job?.attemptsMade, reason: error.message }, 'job failed');
    void publishStats();
  });
  worker.on('error', (error) => logger.warn({ err: error }, 'worker error'));
  const heartbeat = setInterval(() => void publishStats(), STATS_INTERVAL_MS);
  await worker.waitUntilReady();
  await publishStats();
  logger.info({ name, queue: settings.queue, model: identity.weights, device: identity.device, concurrency: settings.concurrency }, 'worker ready');

  let closing: Promise<void> | undefined;
  return {
    name,
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        await worker.close();
        state = 'stopped';
        await publishStats();
        await model.dispose();
        await connection.quit().catch(() => connection.disconnect());
      })();
      return closing;
    },
  };
}
