import { resolve } from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sha256OfFile } from '../file-hash';
import { expandScanInputs, type ScanInput } from './scan-inputs';
import { failureCode, jobIdFor, type ScanJobData, type ScanJobResult } from './scan-queue';

export interface SubmitScanSettings {
  /** Folders, image files and list files (see `expandScanInputs`). */
  inputs: readonly string[];
  /** Shared output folder (made absolute). */
  outDir: string;
  threshold: number;
  /** Tries per job, the first included, for errors that may pass (a file unreadable for a moment). */
  attempts: number;
  /** First retry delay, ms; doubled at each retry. */
  backoffMs: number;
}

export interface SubmitSummary {
  /** Images found. */
  inputs: number;
  /** Jobs added now. */
  added: number;
  /** Images whose job was already in the queue (any state): a resubmission adds nothing. */
  alreadyQueued: number;
  /** Images with the same content as another of this scan: one job, one result, under the first name. */
  duplicates: Array<{ path: string; sameAs: string }>;
  /** Files that could not be read to hash them (not submitted). */
  unreadable: Array<{ path: string; message: string }>;
  /** The jobs of this scan, added or already there. */
  jobIds: string[];
}

/** Hashes files `width` at a time, keeping input order. */
async function hashAll(inputs: readonly ScanInput[], width: number): Promise<Array<{ input: ScanInput; sha256?: string; error?: string }>> {
  const out: Array<{ input: ScanInput; sha256?: string; error?: string }> = new Array(inputs.length);
  let next = 0;
  const lane = async () => {
    while (next < inputs.length) {
      const i = next++;
      try {
        out[i] = { input: inputs[i], sha256: await sha256OfFile(inputs[i].path) };
      } catch (error) {
        out[i] = { input: inputs[i], error: (error as Error).message };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, inputs.length) }, lane));
  return out;
}

/**
 * Enqueues one job per distinct image. The job id is the image's SHA-256, so a job already in
 * the queue (waiting, running, done or failed) is not added again: submitting a folder twice,
 * or after an interruption, adds only what is new.
 */
export async function submitScan(queue: Queue<ScanJobData, ScanJobResult>, connection: Redis, settings: SubmitScanSettings): Promise<SubmitSummary> {
  const outDir = resolve(settings.outDir);
  const hashed = await hashAll(await expandScanInputs(settings.inputs), 8);
  const summary: SubmitSummary = { inputs: hashed.length, added: 0, alreadyQueued: 0, duplicates: [], unreadable: [], jobIds: [] };
  const firstWithHash = new Map<string, string>();
  const jobs: Array<{ id: string; data: ScanJobData }> = [];
  for (const { input, sha256, error } of hashed) {
    if (sha256 === undefined) {
      summary.unreadable.push({ path: input.path, message: error ?? 'unreadable' });
      continue;
    }
    const first = firstWithHash.get(sha256);
    if (first !== undefined) {
      summary.duplicates.push({ path: input.path, sameAs: first });
      continue;
    }
    firstWithHash.set(sha256, input.path);
    jobs.push({ id: jobIdFor(sha256), data: { path: input.path, stem: input.stem, outDir, sha256, threshold: settings.threshold } });
  }
  const chunk = 500;
  for (let i = 0; i < jobs.length; i += chunk) {
    const part = jobs.slice(i, i + chunk);
    // Which of these are there already, only to report it: adding one again is a no-op anyway.
    const check = connection.pipeline();
    for (const job of part) check.exists(queue.toKey(job.id));
    const known = ((await check.exec()) ?? []).filter(([, n]) => Number(n) > 0).length;
    summary.alreadyQueued += known;
    summary.added += part.length - known;
    await queue.addBulk(
      part.map((job) => ({
        name: 'detect',
        data: job.data,
        opts: { jobId: job.id, attempts: settings.attempts, backoff: { type: 'exponential', delay: settings.backoffMs }, removeOnComplete: false, removeOnFail: false },
      })),
    );
  }
  summary.jobIds = jobs.map((j) => j.id);
  return summary;
}

/** Job counts of the states `scan` waits on and `--status` shows. */
export interface ScanCounts {
  completed: number;
  failed: number;
  waiting: number;
  active: number;
  delayed: number;
}

export async function scanCounts(queue: Queue<ScanJobData, ScanJobResult>): Promise<ScanCounts> {
  const c = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
  return { completed: c.completed ?? 0, failed: c.failed ?? 0, waiting: (c.waiting ?? 0) + (c.prioritized ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0 };
}

export interface FailedJob {
  id: string;
  input: string;
  /** The typed code (`INVALID_IMAGE`, `IO_ERROR`, ...). */
  code: string;
  reason: string;
  attempts: number;
}

/** Failed jobs of the queue, or of `ids` only when given. */
export async function failedJobs(queue: Queue<ScanJobData, ScanJobResult>, ids?: ReadonlySet<string>, limit = Infinity): Promise<FailedJob[]> {
  const jobs = await queue.getFailed(0, ids || limit === Infinity ? -1 : limit - 1);
  return jobs
    .filter((job) => job && (!ids || ids.has(String(job.id))))
    .slice(0, limit)
    .map((job) => ({ id: String(job.id), input: job.data.path, code: failureCode(job.failedReason), reason: job.failedReason, attempts: job.attemptsMade }));
}

/**
 * Waits until the queue has nothing waiting, running or delayed, calling `onProgress` with the
 * counts every `intervalMs`. Resolves with the failed jobs among `ids`. Counts are the queue's:
 * another scan on the same queue shows in them (use `--queue` to keep scans apart).
 */
export async function waitForScan(
  queue: Queue<ScanJobData, ScanJobResult>,
  ids: readonly string[],
  onProgress: (counts: ScanCounts) => void,
  intervalMs = 500,
): Promise<{ counts: ScanCounts; failed: FailedJob[] }> {
  for (;;) {
    const counts = await scanCounts(queue);
    onProgress(counts);
    if (counts.waiting + counts.active + counts.delayed === 0) return { counts, failed: await failedJobs(queue, new Set(ids)) };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
