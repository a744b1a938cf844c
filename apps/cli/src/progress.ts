/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (silent when piped or
 * redirected, so logs stay clean). Redraws at most ~10 times a second.
 */
export interface Progress {
  update(done: number, failed: number): void;
  /** Writes a line (a warning) above the bar. */
  log(line: string): void;
  stop(): void;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const total = Math.max(0, Math.round(s));
  const m = Math.floor(total / 60);
  const sec = total % 60;
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total === 0) return { update() {}, log: (line) => void stream.write(`${line}\n`), stop() {} };
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  const draw = (done: number, failed: number, force: boolean) => {
    const t = performance.now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const width = Math.max(10, Math.min(40, (stream.columns || 80) - 50));
    const filled = Math.round((done / total) * width);
    const elapsed = (t - started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    const fail = failed > 0 ? ` ${failed} failed` : '';
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}${fail} eta ${formatSeconds(eta)}`;
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  return {
    update: (done, failed) => draw(done, failed, done === total),
    log(line) {
      stream.write(`${drawn ? '\r\x1b[K' : ''}${line}\n`);
      lastDraw = 0; // the next update redraws the bar below the line
    },
    stop() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
