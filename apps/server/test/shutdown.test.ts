import { afterEach, describe, expect, it } from 'vitest';
import { fixtureImage, spawnCommand, TINY_CONFIG, TINY_WEIGHTS, type CommandProcess } from './helpers';

// The `sparsevit-serve` process itself, stopped with SIGTERM while requests are in flight.

const image = fixtureImage('splice_640x480.png');
let running: CommandProcess | undefined;
afterEach(() => {
  if (running?.child.exitCode === null) running.child.kill('SIGKILL');
  running = undefined;
});

async function startServe(extra: string[] = []) {
  running = spawnCommand('serve', ['--weights', TINY_WEIGHTS, '--config', TINY_CONFIG, '--port', '0', '--max-queue', '16', ...extra]);
  const listening = await running.waitForLog((e) => e.msg === 'listening');
  await running.waitForLog((e) => e.msg === 'model ready');
  return { proc: running, url: listening.url as string };
}

const post = (url: string): Promise<{ status: number; score?: number; error?: string }> =>
  fetch(`${url}/v1/detect`, { method: 'POST', body: image, headers: { 'content-type': 'image/png', connection: 'close' } }).then(
    async (r) => ({ status: r.status, score: (await r.json()).score as number | undefined }),
    (e: Error) => ({ status: 0, error: e.message }),
  );

/** Resolves once the server has logged `n` detect requests as received. */
const receivedDetects = (proc: CommandProcess, n: number) =>
  proc.waitForLog(() => proc.lines.filter((l) => l.includes('"incoming request"') && l.includes('/v1/detect')).length >= n);

describe('graceful shutdown on SIGTERM', () => {
  it('finishes every in-flight request (running and queued), refuses new ones, and exits 0', async () => {
    const { proc, url } = await startServe();
    const inFlight = Array.from({ length: 8 }, () => post(url));
    await receivedDetects(proc, 8);
    proc.child.kill('SIGTERM');
    await proc.waitForLog((e) => e.msg === 'shutting down: finishing in-flight requests');
    const late = await post(url);
    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const r of results) expect(r.score).toBeGreaterThan(0);
    // The listener is closed: a new connection is refused (or, had it raced in, answered 503).
    expect([0, 503]).toContain(late.status);
    expect(await proc.exited).toBe(0);
    const stopped = await proc.waitForLog((e) => e.msg === 'stopped');
    expect(stopped.drained).toBe(true);
  });

  it('with --no-incremental-marking (V8 flag set at run time), serves and drains alike', async () => {
    const { proc, url } = await startServe(['--no-incremental-marking']);
    expect(proc.lines.find((l) => l.includes('"listening"'))).toContain('"incrementalMarking":false');
    const results = await Promise.all(Array.from({ length: 4 }, () => post(url)));
    expect(results.map((r) => r.status)).toEqual(Array(4).fill(200));
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('cuts what is left when the shutdown deadline passes, and exits 1', async () => {
    const { proc, url } = await startServe(['--shutdown-timeout-ms', '50']);
    const inFlight = Array.from({ length: 12 }, () => post(url));
    await receivedDetects(proc, 12);
    proc.child.kill('SIGTERM');
    const results = await Promise.all(inFlight);
    expect(await proc.exited).toBe(1);
    expect(proc.lines.some((l) => l.includes('shutdown deadline passed'))).toBe(true);
    // Twelve passes of ~50-100 ms cannot all finish in 50 ms: some connections were cut.
    expect(results.some((r) => r.status === 0)).toBe(true);
    expect(results.every((r) => r.status === 0 || r.status === 200)).toBe(true);
  });

  it('exits 1 when the model cannot be loaded, after saying why', async () => {
    running = spawnCommand('serve', ['--weights', '/nonexistent/weights.safetensors', '--port', '0']);
    expect(await running.exited).toBe(1);
    const failure = await running.waitForLog((e) => e.msg === 'the model could not be loaded');
    expect((failure.err as { code?: string }).code).toBe('IO_ERROR');
  });

  it('serves the SDK default model when no --weights is given, and says so', async () => {
    running = spawnCommand('serve', ['--port', '0']);
    const notice = await running.waitForLog((e) => typeof e.msg === 'string' && e.msg.startsWith('no --weights given'));
    expect(notice.msg).toMatch(/sparsevit-small-synth/);
    const { url } = await running.waitForLog((e) => e.msg === 'listening');
    await running.waitForLog((e) => e.msg === 'model ready');
    const ready = await (await fetch(`${url}/readyz`)).json();
    expect(ready.model.weights).toBe('sparsevit-small-synth-fp16.safetensors');
    const detected = await post(url as string);
    expect(detected.status).toBe(200);
    running.child.kill('SIGTERM');
    expect(await running.exited).toBe(0);
  });
});
