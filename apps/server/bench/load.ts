// pnpm --filter @sparsevit/server bench [--models tiny,base] [--concurrency 1,4,16] [--requests N]
//                                        [--max-seconds S] [--overload] [--json]
//
// The HTTP service under load, on loopback only, with autocannon: for each model, requests/s
// and p50/p99 latency at each concurrency, against the SDK's own images/s (`detect` called in a
// loop on the same bytes) measured in the same run, before and after the service (this host's
// speed drifts). Every load is bounded by a request count and a wall-clock cap.
// --overload: the tiny model behind a queue of 8, 64 connections, 2,000 requests: the status
// codes, timeouts, and the server's RSS against its idle RSS with the model loaded.
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModel } from '@sparsevit/node';
import { fixturePath } from '@sparsevit/fixtures';
import autocannon from 'autocannon';
import { benchWeights, quantile, rssMB, scratchDir, startService, type ModelSize } from './bench-support';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny,base' },
    concurrency: { type: 'string', default: '1,4,16' },
    requests: { type: 'string' },
    'max-seconds': { type: 'string', default: '120' },
    overload: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};
const image = readFileSync(fixturePath('sparsevit-tiny', 'images', 'splice_640x480.png'));
const maxSeconds = Number(values['max-seconds']);
/** Requests per run: enough for a p99 on the tiny model, a few dozen on the base one. */
const requestsFor = (size: ModelSize, concurrency: number) => Number(values.requests ?? (size === 'tiny' ? 200 : Math.max(24, 4 * concurrency)));

interface LoadRow {
  concurrency: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

async function load(url: string, connections: number, amount: number, timeoutS: number): Promise<LoadRow & { statusCodes: Record<string, number>; maxMs: number }> {
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      { url: `${url}/v1/detect`, method: 'POST', headers: { 'content-type': 'image/png' }, body: image, connections, amount, timeout: timeoutS },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  const cap = setTimeout(() => instance!.stop(), maxSeconds * 1000);
  const result = await done;
  clearTimeout(cap);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  return {
    concurrency: connections,
    requests: amount,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    requestsPerSecond: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    statusCodes,
  };
}

/** The SDK alone: `detect` on the same bytes, one after another, in this process. */
async function direct(weights: string, configFile: string | undefined, count: number) {
  const config = configFile ? JSON.parse(readFileSync(configFile, 'utf8')) : undefined;
  const model = await loadModel({ weights, config });
  try {
    for (let i = 0; i < 2; i++) await model.detect(image);
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await model.detect(image);
      times.push(performance.now() - t0);
    }
    const seconds = (performance.now() - started) / 1000;
    return { images: count, seconds, imagesPerSecond: count / seconds, p50Ms: quantile(times, 0.5), p99Ms: quantile(times, 0.99) };
  } finally {
    await model.dispose();
  }
}

const scratch = scratchDir();
const report: Record<string, unknown> = { machine: `${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}`, image: 'splice_640x480.png (640x480 PNG)' };
log(`machine: ${report.machine}; image ${report.image}`);
try {
  for (const size of values.models!.split(',') as ModelSize[]) {
    const { weights, config, modelArgs } = benchWeights(size, scratch);
    const directCount = requestsFor(size, 1);
    const before = await direct(weights, config, directCount);
    const service = await startService([...modelArgs, '--log-level', 'info', '--max-queue', '64', '--inference-timeout-ms', '600000']);
    const rows: LoadRow[] = [];
    try {
      // One short warm-up load, not reported: the first requests pay for connection setup.
      await load(service.url, 1, 3, 600);
      for (const c of values.concurrency!.split(',').map(Number)) rows.push(await load(service.url, c, requestsFor(size, c), 600));
    } finally {
      await service.stop();
    }
    const after = await direct(weights, config, directCount);
    const sdk = (before.imagesPerSecond + after.imagesPerSecond) / 2;
    report[size] = { sdk: { before, after, imagesPerSecond: sdk }, service: rows.map((r) => ({ ...r, vsSdk: r.requestsPerSecond / sdk })) };
    log(`\n${size} model: SDK detect in a loop ${before.imagesPerSecond.toFixed(2)} img/s before, ${after.imagesPerSecond.toFixed(2)} after (p50 ${before.p50Ms.toFixed(0)} / ${after.p50Ms.toFixed(0)} ms)`);
    log('| concurrency | requests | 200 | other | errors | req/s | p50 ms | p99 ms | vs SDK img/s |');
    log('|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const overhead = `${(r.requestsPerSecond / sdk).toFixed(3)}x (${((1 - r.requestsPerSecond / sdk) * 100).toFixed(1)}% ${r.requestsPerSecond < sdk ? 'slower' : 'faster'})`;
      log(`| ${r.concurrency} | ${r.requests} | ${r.ok} | ${r.non2xx} | ${r.errors} | ${r.requestsPerSecond.toFixed(2)} | ${r.p50Ms.toFixed(0)} | ${r.p99Ms.toFixed(0)} | ${overhead} |`);
    }
  }

  if (values.overload) {
    const { modelArgs } = benchWeights('tiny', scratch);
    const inferenceTimeoutS = 30;
    const service = await startService([...modelArgs, '--log-level', 'info', '--concurrency', '1', '--max-queue', '8', '--inference-timeout-ms', String(inferenceTimeoutS * 1000)]);
    try {
      const pid = service.child.pid!;
      const idle = rssMB(pid);
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMB(pid))), 50);
      const run = await load(service.url, 64, 2000, inferenceTimeoutS + 10);
      clearInterval(sampler);
      const afterRss = rssMB(pid);
      const healthy = (await fetch(`${service.url}/healthz`)).status === 200;
      const overload = { ...run, rssMB: { idleWithModel: idle, peak, after: afterRss, ratio: peak / idle }, healthyAfter: healthy, inferenceTimeoutS };
      report.overload = overload;
      log(`\noverload: 64 connections, queue of 8, concurrency 1, tiny model, ${run.requests} requests in ${run.seconds.toFixed(1)} s`);
      log(`status codes: ${JSON.stringify(run.statusCodes)}; connection errors ${run.errors}, timeouts ${run.timeouts}; slowest answer ${run.maxMs.toFixed(0)} ms (timeout ${inferenceTimeoutS} s)`);
      log(`RSS: idle with model ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB (${(peak / idle).toFixed(2)}x), after ${afterRss.toFixed(0)} MB; /healthz after: ${healthy ? 200 : 'failed'}`);
    } finally {
      await service.stop();
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
