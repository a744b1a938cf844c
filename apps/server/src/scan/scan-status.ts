import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { failedJobs, scanCounts, type FailedJob, type ScanCounts } from './submit-scan';
import { STATS_INTERVAL_MS, type WorkerStats } from './scan-worker';
import { workerStatsKey, type ScanJobData, type ScanJobResult } from './scan-queue';

/** What `sparsevit scan --status` reports. */
export interface ScanStatus {
  queue: string;
  counts: ScanCounts;
  /** Every worker that has published stats, live ones first; `live`: seen within three intervals. */
  workers: Array<WorkerStats & { live: boolean }>;
  /** Images per second of the live workers together (last minute). */
  rate: number;
  failed: FailedJob[];
}

export async function readScanStatus(queue: Queue<ScanJobData, ScanJobResult>, connection: Redis, options: { failedLimit?: number } = {}): Promise<ScanStatus> {
  const [counts, raw, failed] = await Promise.all([
    scanCounts(queue),
    connection.hgetall(workerStatsKey(queue.name)),
    failedJobs(queue, undefined, options.failedLimit ?? 20),
  ]);
  const now = Date.now();
  const workers = Object.values(raw)
    .map((json) => JSON.parse(json) as WorkerStats)
    .map((w) => ({ ...w, live: w.state === 'running' && now - w.seenAt < 3 * STATS_INTERVAL_MS }))
    .sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name));
  const rate = workers.filter((w) => w.live).reduce((sum, w) => sum + w.rate, 0);
  return { queue: queue.name, counts, workers, rate, failed };
}

const ago = (ms: number) => (ms < 60_000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60_000)} min ago`);

/** The status as text, for people. */
export function formatScanStatus(status: ScanStatus): string {
  const { counts: c } = status;
  const total = c.completed + c.failed + c.waiting + c.active + c.delayed;
  const lines = [
    `queue ${status.queue}: ${c.completed} done, ${c.failed} failed, ${c.waiting} waiting, ${c.active} running, ${c.delayed} to retry (${total} in all)`,
    `rate: ${status.rate.toFixed(2)} images/s over the last minute, from ${status.workers.filter((w) => w.live).length} live workers`,
  ];
  const now = Date.now();
  for (const w of status.workers) {
    const state = w.live ? `${w.rate.toFixed(2)} images/s` : w.state === 'stopped' ? 'stopped' : `gone (last seen ${ago(now - w.seenAt)})`;
    lines.push(`  ${w.name} (pid ${w.pid}, ${w.model}): ${w.completed} done, ${w.failedAttempts} failed attempts, ${state}`);
  }
  if (status.failed.length > 0) {
    lines.push(`failed${c.failed > status.failed.length ? ` (first ${status.failed.length} of ${c.failed})` : ''}:`);
    for (const f of status.failed) lines.push(`  ${f.input}: ${f.reason} (${f.attempts} attempt${f.attempts === 1 ? '' : 's'})`);
  }
  return lines.join('\n');
}
