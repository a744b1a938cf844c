/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal (silent when piped or
 * redirected, so logs stay clean). Redraws at most ~10 times a second. Shows done/total, the
 * failures, the rate and the estimated time left; an optional label (`eval` names the pass it is
 * running, e.g. `jpeg:50`) goes in front.
 */
export interface Progress {
  update(done: number, failed: number): void;
  /** Writes a line (a warning) above the bar. */
  log(line: string): void;
  /** Changes the label shown before the bar (redrawn at the next update). */
  setLabel(label: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Text before the bar. */
  label?: string;
  /**
   * Items already done before this run started (a resumed evaluation): counted in `done/total`
   * but not in the rate, so the ETA reflects this run's speed.
   */
  alreadyDone?: number;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const total = Math.max(0, Math.round(s));
  const m = Math.floor(total / 60);
  const sec = total % 60;
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

/** The bar's text (exported for tests): `label [####----] done/total failed rate eta`. */
export function progressLine(
  state: { done: number; total: number; failed: number; elapsedS: number; alreadyDone: number; label: string },
  columns: number,
): string {
  const { done, total, failed, elapsedS, alreadyDone, label } = state;
  const ranHere = done - alreadyDone;
  const rate = ranHere > 0 && elapsedS > 0 ? ranHere / elapsedS : Number.NaN;
  const eta = Number.isFinite(rate) ? (total - done) / rate : Number.NaN;
  const fail = failed > 0 ? ` ${failed} failed` : '';
  const speed = Number.isFinite(rate) ? ` ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s` : '';
  const tail = ` ${done}/${total}${fail}${speed} eta ${formatSeconds(eta)}`;
  const head = label ? `${label} ` : '';
  const width = Math.max(10, Math.min(40, columns - head.length - tail.length - 3));
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `${head}[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
}

export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr, options: ProgressOptions = {}): Progress {
  let label = options.label ?? '';
  if (!stream.isTTY || total === 0) {
    return { update() {}, log: (line) => void stream.write(`${line}\n`), setLabel: (l) => void (label = l), stop() {} };
  }
  const alreadyDone = options.alreadyDone ?? 0;
  const started = performance.now();
  let lastDraw = 0;
  let drawn = false;
  const draw = (done: number, failed: number, force: boolean) => {
    const t = performance.now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const line = progressLine({ done, total, failed, elapsedS: (t - started) / 1000, alreadyDone, label }, stream.columns || 80);
    stream.write(`\r${line}\x1b[K`);
    drawn = true;
  };
  return {
    update: (done, failed) => draw(done, failed, done === total),
    log(line) {
      stream.write(`${drawn ? '\r\x1b[K' : ''}${line}\n`);
      lastDraw = 0; // the next update redraws the bar below the line
    },
    setLabel(l) {
      label = l;
      lastDraw = 0;
    },
    stop() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
