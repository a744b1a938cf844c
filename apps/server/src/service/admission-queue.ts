import { ServiceError } from './service-error';

export interface AdmissionQueueOptions {
  /** Tasks running at once (requests inside the model). */
  concurrency: number;
  /** Tasks allowed to wait for a slot; one more is refused with `OVERLOADED`. */
  maxQueue: number;
}

interface Waiter {
  start: () => void;
}

/**
 * A place held for a request from its arrival until it enters `run` (or is answered without it),
 * so that the uploads being received count against the capacity too. `release` is idempotent.
 */
export interface Admission {
  release(): void;
}

/**
 * A bounded queue in front of the model: at most `concurrency` tasks run, at most `maxQueue`
 * wait, and one past that is refused at once (`OVERLOADED`, with a `Retry-After` estimated from
 * the recent service time), so an overload is answered instead of piling up requests and memory.
 *
 * Requests are admitted when they arrive (`admit`, before their body is read): a place is held
 * while the upload is received, so at most `concurrency + maxQueue` bodies are ever held in
 * memory, however many clients send at once. Checking only at `run` let every connection of a
 * burst pass while the queue was still empty and hold its whole upload before being refused.
 *
 * A task's `signal` (its timeout, or the client gone) takes it out of the queue while it waits
 * (`TIMEOUT`). Once running it cannot be stopped (a forward pass is not interruptible), so its
 * caller is answered at once while the slot stays taken until the work really ends: the counts
 * always tell what the model is doing.
 */
export class AdmissionQueue {
  readonly concurrency: number;
  readonly maxQueue: number;
  private active = 0;
  private readonly waiters: Waiter[] = [];
  /** Admitted requests not yet in `run` (uploads being received, headers being checked). */
  private reserved = 0;
  /** Exponentially weighted mean of recent task times, for `Retry-After`. */
  private meanTaskMs = 0;
  private idle: Array<() => void> = [];

  constructor(options: AdmissionQueueOptions) {
    for (const [name, value, min] of [['concurrency', options.concurrency, 1], ['maxQueue', options.maxQueue, 0]] as const) {
      if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
    }
    this.concurrency = options.concurrency;
    this.maxQueue = options.maxQueue;
  }

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Requests admitted and not yet running or waiting. */
  get admitted(): number {
    return this.reserved;
  }

  /** True when a new request would be refused now: running, waiting and admitted fill every place. */
  get full(): boolean {
    return this.active + this.waiters.length + this.reserved >= this.concurrency + this.maxQueue;
  }

  /**
   * Holds a place for a request that has just arrived, or throws `OVERLOADED` when there is none.
   * Pass the admission to `run`, and release it if the request ends without running.
   */
  admit(): Admission {
    if (this.full) throw this.overloaded();
    this.reserved++;
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.reserved--;
        this.notifyIfIdle();
      },
    };
  }

  /** The error a refused task gets: `OVERLOADED`, 503, with `Retry-After`. */
  overloaded(): ServiceError {
    return new ServiceError('OVERLOADED', `the server is at capacity (${this.active} running, ${this.waiters.length} queued); retry later`, {
      headers: { 'retry-after': String(this.retryAfterSeconds()) },
    });
  }

  /** Seconds a refused client should wait: the time to work through what is admitted now. */
  retryAfterSeconds(): number {
    const backlog = this.active + this.waiters.length + this.reserved;
    return Math.max(1, Math.ceil((backlog * this.meanTaskMs) / this.concurrency / 1000));
  }

  /**
   * Runs `task` when a slot is free. Rejects with `OVERLOADED` when the queue is full, and with
   * `TIMEOUT` when `signal` fires first (its reason, if a `ServiceError`, is used instead). With
   * the request's `admission`, the place it held becomes its place in the queue.
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal, admission?: Admission): Promise<T> {
    admission?.release();
    if (signal?.aborted) throw abortReason(signal);
    if (this.active >= this.concurrency) {
      if (this.waiters.length >= this.maxQueue) throw this.overloaded();
      await this.waitForSlot(signal);
    } else {
      this.active++;
    }
    const started = performance.now();
    const work = task().finally(() => this.release(performance.now() - started));
    if (!signal) return work;
    // Answer the caller when the signal fires; the slot is released only when `work` settles.
    work.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Resolves when nothing runs, waits or is being admitted (used by shutdown). */
  drained(): Promise<void> {
    if (this.active === 0 && this.waiters.length === 0 && this.reserved === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private waitForSlot(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortReason(signal!));
        this.notifyIfIdle();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(taskMs: number): void {
    this.meanTaskMs = this.meanTaskMs === 0 ? taskMs : 0.8 * this.meanTaskMs + 0.2 * taskMs;
    const next = this.waiters.shift();
    // The slot passes straight to the next waiter: `active` does not change.
    if (next) next.start();
    else this.active--;
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.active > 0 || this.waiters.length > 0 || this.reserved > 0) return;
    const idle = this.idle;
    this.idle = [];
    for (const resolve of idle) resolve();
  }
}

function abortReason(signal: AbortSignal): ServiceError {
  if (signal.reason instanceof ServiceError) return signal.reason;
  return new ServiceError('TIMEOUT', 'the request was not answered within the inference timeout', { headers: { 'retry-after': '1' } });
}
