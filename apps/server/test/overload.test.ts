import { createConnection } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createDetectService, type RunningServer } from '../src/index';
import { fixtureImage, memoryLogger, startTestServer, TEST_SETTINGS } from './helpers';

// Admission control over real HTTP: many more clients than the model has slots. Every request
// must be answered (a client gives up only past the server's own timeout plus a margin), with
// 200 or 503 + Retry-After and nothing else, and the server must be idle and healthy after.

const image = fixtureImage('splice_640x480.png');
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function post(url: string, clientTimeoutMs: number) {
  const response = await fetch(`${url}/v1/detect`, { method: 'POST', body: image, headers: { 'content-type': 'image/png' }, signal: AbortSignal.timeout(clientTimeoutMs) });
  const body = await response.json();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), code: body.error?.code as string | undefined };
}

const metric = (text: string, name: string) => Number(text.split('\n').find((l) => l.startsWith(name))?.slice(name.length).trim() ?? 0);

describe('overload', () => {
  it('64 concurrent clients against a queue of 8 get only 200s and 503s with Retry-After; none hangs', async () => {
    const inferenceTimeoutMs = 20_000;
    const { server, url } = await startTestServer({ concurrency: 1, maxQueue: 8, inferenceTimeoutMs });
    servers.push(server);
    const clients = 64;
    const perClient = 3;
    const results = (
      await Promise.all(
        Array.from({ length: clients }, async () => {
          const mine = [];
          for (let i = 0; i < perClient; i++) mine.push(await post(url, inferenceTimeoutMs + 10_000));
          return mine;
        }),
      )
    ).flat();
    expect(results).toHaveLength(clients * perClient);
    const statuses = new Set(results.map((r) => r.status));
    expect([...statuses].sort()).toEqual([200, 503]);
    const refused = results.filter((r) => r.status === 503);
    for (const r of refused) {
      expect(r.code).toBe('OVERLOADED');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // At most 1 running + 8 queued at any time: the first wave admits at most 9 of 64.
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(9);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metric(metrics, 'sparsevit_rejections_total{reason="OVERLOADED"}')).toBe(refused.length);
    expect(metric(metrics, 'sparsevit_queue_depth')).toBe(0);
    expect(metric(metrics, 'sparsevit_queue_running')).toBe(0);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await post(url, 30_000)).status).toBe(200);
  });

  it('answers 503 TIMEOUT when the inference timeout passes, whether waiting or running, and recovers', async () => {
    // A timeout shorter than one forward pass of the tiny model on this machine (~40-100 ms).
    const { server, url } = await startTestServer({ concurrency: 1, maxQueue: 8, inferenceTimeoutMs: 5 });
    servers.push(server);
    const results = await Promise.all(Array.from({ length: 5 }, () => post(url, 30_000)));
    for (const r of results) {
      expect(r.status).toBe(503);
      expect(r.code).toBe('TIMEOUT');
      expect(r.retryAfter).not.toBeNull();
    }
    // The pass that was running finishes in the background and gives its slot back.
    await server.service.queue.drained();
    expect([server.service.queue.running, server.service.queue.waiting]).toEqual([0, 0]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('before the model is ready: alive (/healthz 200), not ready, and detect refused with 503 NOT_READY', async () => {
    const service = await createDetectService(TEST_SETTINGS, memoryLogger().logger);
    await service.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const url = `http://127.0.0.1:${(service.app.server.address() as { port: number }).port}`;
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, (await ready.json()).error.code]).toEqual([503, 'NOT_READY']);
      const refused = await post(url, 10_000);
      expect([refused.status, refused.code, refused.retryAfter]).toEqual([503, 'NOT_READY', '5']);
      service.startShutdown();
      expect((await (await fetch(`${url}/readyz`)).json()).error.code).toBe('SHUTTING_DOWN');
    } finally {
      await service.app.close();
    }
  });

  it('answers 408 to an upload that does not arrive within the request timeout, and closes it', async () => {
    const { server, url } = await startTestServer({ requestTimeoutMs: 500 });
    servers.push(server);
    const { port } = new URL(url);
    // Headers promise 1000 bytes of body; 10 come, then nothing (a slow or stuck client).
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) }, () => {
        socket.write('POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n0123456789');
      });
      let received = '';
      socket.on('data', (d) => (received += d.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer within 10 s: ${received}`)), 10_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: { code: 'REQUEST_TIMEOUT', message: 'the request was not received within the request timeout' } });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
