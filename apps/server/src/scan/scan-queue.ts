import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** The queue `scan` fills and `worker` drains, unless `--queue` names another. */
export const DEFAULT_QUEUE = 'sparsevit-scan';

/** One image to run: what `scan` puts in a job and a worker needs to write its result. */
export interface ScanJobData {
  /** Absolute path of the image, readable by every worker (shared storage). */
  path: string;
  /** Name of the result files in `outDir` (may contain `/`: the input's sub-folders). */
  stem: string;
  /** Shared output folder, absolute. */
  outDir: string;
  /** SHA-256 of the image when submitted (hex); the job id is made from it. */
  sha256: string;
  threshold: number;
}

/** What a finished job returns (stored by BullMQ as the job's return value). */
export interface ScanJobResult {
  stem: string;
  score: number;
  /** True when an earlier attempt had already written this result (its completion was lost). */
  alreadyWritten: boolean;
}

/**
 * The job id of an image: its content hash, so submitting the same image again (under any
 * name) adds nothing. BullMQ's custom ids must not be integers; the prefix sees to it.
 */
export function jobIdFor(sha256: string): string {
  return `sha256-${sha256}`;
}

/**
 * A Redis connection for BullMQ: commands wait through a disconnection (a Redis restart) instead
 * of failing after a few retries, and reconnection backs off up to 2 s.
 */
export function connectRedis(url: string): Redis {
  if (!/^rediss?:\/\//.test(url)) throw new TypeError(`the Redis URL must start with redis:// or rediss://, got "${url}"`);
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2000),
    lazyConnect: false,
  });
}

/** The Redis hash where each worker publishes its counts and rate (field: the worker's name). */
export function workerStatsKey(queue: string): string {
  return `sparsevit:${queue}:workers`;
}

/** A BullMQ queue handle on `connection` (which the caller closes). */
export function openQueue(name: string, connection: Redis): Queue<ScanJobData, ScanJobResult> {
  return new Queue<ScanJobData, ScanJobResult>(name, { connection });
}

/** The typed code at the front of a failed job's reason (`INVALID_IMAGE: ...`), as workers write it. */
export function failureCode(reason: string | undefined): string {
  return /^([A-Z_]+):/.exec(reason ?? '')?.[1] ?? 'UNKNOWN';
}
