import { describe, expect, it } from 'vitest';
import { AdmissionQueue, ServiceError } from '../src/index';

/** A task that runs until `finish()` is called. */
function gate<T>(value: T) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let started = false;
  return {
    task: async () => {
      started = true;
      await done;
      return value;
    },
    finish: () => finish(),
    get started() {
      return started;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof ServiceError ? e.code : String(e)));

describe('AdmissionQueue', () => {
  it('runs `concurrency` tasks at once, queues `maxQueue`, refuses the next with OVERLOADED and a Retry-After', async () => {
    const queue = new AdmissionQueue({ concurrency: 2, maxQueue: 3 });
    const gates = Array.from({ length: 5 }, (_, i) => gate(i));
    const runs = gates.map((g) => queue.run(g.task));
    await tick();
    expect(gates.map((g) => g.started)).toEqual([true, true, false, false, false]);
    expect([queue.running, queue.waiting]).toEqual([2, 3]);
    const refused = await queue.run(async () => 'never').catch((e: ServiceError) => e);
    expect(refused).toBeInstanceOf(ServiceError);
    expect((refused as ServiceError).code).toBe('OVERLOADED');
    expect((refused as ServiceError).statusCode).toBe(503);
    expect(Number((refused as ServiceError).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Slots pass in arrival order.
    gates[0].finish();
    await tick();
    expect(gates.map((g) => g.started)).toEqual([true, true, true, false, false]);
    for (const g of gates) g.finish();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });

  it('takes a waiting task out of the queue when its signal fires (TIMEOUT), so it never runs', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 4 });
    const first = gate('first');
    const running = queue.run(first.task);
    const second = gate('second');
    const controller = new AbortController();
    const waiting = codeOf(queue.run(second.task, controller.signal));
    await tick();
    expect(queue.waiting).toBe(1);
    controller.abort();
    expect(await waiting).toBe('TIMEOUT');
    expect(queue.waiting).toBe(0);
    first.finish();
    await running;
    expect(second.started).toBe(false);
  });

  it('answers a running task at once when its signal fires, but holds the slot until the work ends', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 0 });
    const work = gate('late');
    const controller = new AbortController();
    const answer = codeOf(queue.run(work.task, controller.signal));
    await tick();
    controller.abort(new ServiceError('ABORTED', 'client gone'));
    expect(await answer).toBe('ABORTED');
    // The forward pass is still running: the slot is taken, a new task is refused.
    expect(queue.running).toBe(1);
    expect(await codeOf(queue.run(async () => 1))).toBe('OVERLOADED');
    let drained = false;
    const idle = queue.drained().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    work.finish();
    await idle;
    expect(queue.running).toBe(0);
    expect(await queue.run(async () => 'free again')).toBe('free again');
  });

  it('releases the slot when a task fails, and passes the failure on', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 1 });
    await expect(queue.run(async () => Promise.reject(new Error('model failed')))).rejects.toThrow('model failed');
    expect(queue.running).toBe(0);
    expect(() => new AdmissionQueue({ concurrency: 0, maxQueue: 1 })).toThrow(RangeError);
  });

  it('holds a place for each admitted request until it runs or is released, so a burst cannot pass at once', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 1 });
    const a = queue.admit();
    const b = queue.admit();
    // Two uploads arriving fill both places (1 slot + 1 queued) before either runs.
    expect(queue.admitted).toBe(2);
    expect(queue.full).toBe(true);
    expect(() => queue.admit()).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    // A request that ends before running (a bad upload) gives its place back, once.
    b.release();
    b.release();
    expect(queue.admitted).toBe(1);
    const c = queue.admit();
    // Admitted requests take their places in the queue: the first runs, the second waits.
    const first = gate('first');
    const second = gate('second');
    const runs = [queue.run(first.task, undefined, a), queue.run(second.task, undefined, c)];
    await tick();
    expect([queue.running, queue.waiting, queue.admitted]).toEqual([1, 1, 0]);
    expect(() => queue.admit()).toThrow(expect.objectContaining({ code: 'OVERLOADED' }));
    first.finish();
    second.finish();
    expect(await Promise.all(runs)).toEqual(['first', 'second']);
  });

  it('drained() waits for admitted requests too', async () => {
    const queue = new AdmissionQueue({ concurrency: 1, maxQueue: 0 });
    const admission = queue.admit();
    let drained = false;
    void queue.drained().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    admission.release();
    await tick();
    expect(drained).toBe(true);
  });
});
