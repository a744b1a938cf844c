import type { ScanCounts } from './submit-scan';

/**
 * The submit side's bar: `[#####-----] 120/400 done, 2 failed, 38 running or waiting, 3.1 images/s`.
 * `rate` counts only what finished since the bar started.
 */
export function scanProgressLine(counts: ScanCounts, finishedAtStart: number, elapsedS: number, columns: number): string {
  const finished = counts.completed + counts.failed;
  const total = finished + counts.waiting + counts.active + counts.delayed;
  const rate = elapsedS > 0 ? (finished - finishedAtStart) / elapsedS : 0;
  const pending = counts.waiting + counts.active + counts.delayed;
  const text = ` ${finished}/${total} done, ${counts.failed} failed, ${pending} running or waiting, ${rate.toFixed(rate >= 10 ? 0 : 2)} images/s`;
  const width = Math.max(10, Math.min(40, columns - text.length - 2));
  const filled = total === 0 ? width : Math.round((finished / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`;
}

/** Draws the bar on a terminal (redrawn in place); on anything else, one line every 10 s. */
export function createScanProgress(stream: NodeJS.WriteStream = process.stderr): { update(counts: ScanCounts): void; stop(): void } {
  const started = performance.now();
  let finishedAtStart: number | undefined;
  let lastLine = 0;
  let drawn = false;
  return {
    update(counts) {
      finishedAtStart ??= counts.completed + counts.failed;
      const now = performance.now();
      const line = scanProgressLine(counts, finishedAtStart, (now - started) / 1000, stream.columns || 80);
      if (stream.isTTY) {
        stream.write(`\r${line}\x1b[K`);
        drawn = true;
      } else if (now - lastLine >= 10_000) {
        stream.write(`${line}\n`);
        lastLine = now;
      }
    },
    stop() {
      if (drawn) stream.write('\n');
    },
  };
}
