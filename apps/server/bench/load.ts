// node apps/server/dist/bench/load.js [--models tiny,base | ''] [--concurrency 1,4,16] [--rounds N]
//                                      [--requests N] [--max-seconds S] [--pin] [--overload] [--json]
//                                      [--no-incremental-marking] [--node-flags="..."] [--env K=V,...]
//
// The HTTP service under load, on loopback only, with autocannon: for each model, requests/s
// and p50/p99 latency at each concurrency, against the SDK's own images/s (`detect` called in a
// loop on the same bytes, in a process of its own as the server is). The two alternate in rounds
// (SDK block, service block, ...) and each round gives a ratio: this host's speed drifts, and
// other processes come and go, so the figure is the median of same-round ratios. Every load is
// bounded by a request count and a wall-clock cap.
// --pin: the server and the SDK loop compute on every CPU but the last, and this process (the
// load generator, autocannon) runs on the last one. Unpinned, the client's work is charged to the
// service: it takes cores from ONNX Runtime, whose passes wait for their slowest thread.
// --no-incremental-marking: the service runs with `sparsevit serve --no-incremental-marking`.
// --node-flags, --env: the service's Node process starts with these flags (space-separated, given
// with "=" since they start with dashes: --node-flags="--initial-old-space-size=32") and these
// environment variables (e.g. --env MALLOC_ARENA_MAX=2), to compare
// deployment settings; the SDK loop runs without them, as a plain `detect` caller would.
// --overload: the tiny model behind a queue of 8, 64 connections, 2,000 requests: the status
// codes, timeouts, and the server's RSS against its idle RSS with the model loaded.
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { fixturePath } from '@sparsevit/fixtures';
import autocannon from 'autocannon';
import { benchWeights, pinThisProcess, startBareUploadServer, quantile, rssMB, scratchDir, startSdkLoop, startService, type ModelSize } from './bench-support';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny,base' },
    concurrency: { type: 'string', default: '1,4,16' },
    requests: { type: 'string' },
    rounds: { type: 'string' },
    'max-seconds': { type: 'string', default: '120' },
    pin: { type: 'boolean', default: false },
    overload: { type: 'boolean', default: false },
    'no-incremental-marking': { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    env: { type: 'string', default: '' },
    json: { type: 'boolean', default: false },
  },
});
const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};
const imagePath = fixturePath('sparsevit-tiny', 'images', 'splice_640x480.png');
const image = readFileSync(imagePath);
const maxSeconds = Number(values['max-seconds']);
const serviceFlags = values['no-incremental-marking'] ? ['--no-incremental-marking'] : [];
const launch = {
  nodeFlags: values['node-flags']!.split(' ').filter(Boolean),
  env: Object.fromEntries(values.env!.split(',').filter(Boolean).map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env takes NAME=value pairs separated by commas, got ${JSON.stringify(pair)}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  })),
};
/** Requests per block: with the rounds, a few hundred on the tiny model, a few dozen on the base one. */
const requestsFor = (size: ModelSize, concurrency: number) => Number(values.requests ?? (size === 'tiny' ? Math.max(40, 3 * concurrency) : Math.max(12, 2 * concurrency)));

interface LoadRun {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  requestsPerSecond: number;
  /** Every answered request's latency, ms. */
  latencies: number[];
  statusCodes: Record<string, number>;
}

async function load(url: string, connections: number, amount: number, timeoutS: number): Promise<LoadRun> {
  const latencies: number[] = [];
  let instance: autocannon.Instance | undefined;
  // The run's own clock, from the start to the last answer: autocannon notices that `amount` is
  // reached only at its next one-second tick, so its `duration` is rounded up to whole seconds
  // (a 1.6 s block of the tiny model reads as 2 s: 20% slower than it was).
  const started = performance.now();
  let lastAnswer = started;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      { url: `${url}/v1/detect`, method: 'POST', headers: { 'content-type': 'image/png' }, body: image, connections, amount, timeout: timeoutS },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
      lastAnswer = performance.now();
    });
  });
  const cap = setTimeout(() => instance!.stop(), maxSeconds * 1000);
  const result = await done;
  clearTimeout(cap);
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]));
  const seconds = (lastAnswer - started) / 1000;
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds,
    requestsPerSecond: seconds > 0 ? result['2xx'] / seconds : 0,
    latencies,
    statusCodes,
  };
}

/**
 * The server process's CPU seconds so far (prom-client's `process_cpu_seconds_total`). Its
 * difference over a load run, per answered request, is what the service costs, whatever the
 * load generator (on the same two cores) takes: throughput alone charges the client to the
 * server.
 */
async function serverCpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total '));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

const median = (values: readonly number[]) => quantile(values, 0.5);

const scratch = scratchDir();
const report: Record<string, unknown> = { machine: `${cpus().length} x ${cpus()[0]?.model.trim()}, Node ${process.version}`, image: 'splice_640x480.png (640x480 PNG)' };
log(`machine: ${report.machine}; image ${report.image}`);
if (serviceFlags.length > 0) {
  report.serviceFlags = serviceFlags;
  log(`service flags: ${serviceFlags.join(' ')}`);
}
if (launch.nodeFlags.length > 0 || Object.keys(launch.env).length > 0) {
  report.serviceLaunch = launch;
  log(`service process: node ${launch.nodeFlags.join(' ')}${Object.entries(launch.env).map(([k, v]) => ` ${k}=${v}`).join('')}`);
}
/** Where the server and the SDK loop compute (a taskset list), with --pin. */
let computeCpus: string | undefined;
if (values.pin) {
  const n = cpus().length;
  if (n < 2) throw new Error('--pin needs at least 2 CPUs (one for the load generator)');
  computeCpus = n === 2 ? '0' : `0-${n - 2}`;
  pinThisProcess(String(n - 1));
  report.pinned = { compute: computeCpus, loadGenerator: String(n - 1) };
  log(`pinned: server and SDK loop on CPU ${computeCpus}, load generator on CPU ${n - 1}`);
}
try {
  // The transport floor: the same upload to a Fastify route that does nothing with it, one
  // connection, on the server's CPUs. A request to the service can cost no less than this.
  let floorMs: number | undefined;
  if (values.models) {
    const bare = await startBareUploadServer(computeCpus);
    try {
      await load(bare.url, 1, 20, 60);
      const runs = [];
      for (let r = 0; r < 3; r++) runs.push(await load(bare.url, 1, 200, 120));
      floorMs = median(runs.map((run) => 1000 / run.requestsPerSecond));
      report.transportFloorMs = floorMs;
      log(`HTTP transport floor (bare Fastify route, same upload, 1 connection): ${floorMs.toFixed(2)} ms per request (median of 3 x 200)`);
    } finally {
      await bare.stop();
    }
  }
  // `--models ''` runs no load rows (only `--overload`, say).
  for (const size of values.models!.split(',').filter(Boolean) as ModelSize[]) {
    const { weights, config, modelArgs } = benchWeights(size, scratch);
    const rounds = Number(values.rounds ?? (size === 'tiny' ? 5 : 3));
    const sdkLoop = await startSdkLoop(weights, config, imagePath, computeCpus);
    const service = await startService([...modelArgs, ...serviceFlags, '--log-level', 'info', '--max-queue', '64', '--inference-timeout-ms', '600000'], computeCpus, launch);
    const rows = [];
    try {
      // Warm-up, not reported: first connections (the SDK loop warmed up as it started).
      await load(service.url, 1, 3, 600);
      for (const c of values.concurrency!.split(',').map(Number)) {
        const n = requestsFor(size, c);
        const sdk: number[] = [];
        const sdkLatencies: number[] = [];
        const sdkCpu: number[] = [];
        const serviceCpu: number[] = [];
        const runs: LoadRun[] = [];
        for (let r = 0; r < rounds; r++) {
          const d = await sdkLoop.block(requestsFor(size, 1));
          sdk.push(d.imagesPerSecond);
          sdkLatencies.push(...d.latencies);
          sdkCpu.push(d.cpuMsPerImage);
          const cpuBefore = await serverCpuSeconds(service.url);
          const run = await load(service.url, c, n, 600);
          serviceCpu.push(((await serverCpuSeconds(service.url)) - cpuBefore) * 1000 / Math.max(1, run.ok));
          runs.push(run);
        }
        const ratios = runs.map((run, i) => run.requestsPerSecond / sdk[i]);
        const cpuRatios = serviceCpu.map((ms, i) => ms / sdkCpu[i]);
        const latencies = runs.flatMap((run) => run.latencies);
        rows.push({
          concurrency: c,
          rounds,
          requestsPerRound: n,
          ok: runs.reduce((t, run) => t + run.ok, 0),
          notOk: runs.reduce((t, run) => t + run.non2xx + run.errors, 0),
          requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
          p50Ms: quantile(latencies, 0.5),
          p99Ms: quantile(latencies, 0.99),
          sdkImagesPerSecond: median(sdk),
          sdkP50Ms: quantile(sdkLatencies, 0.5),
          /** The transport floor as a share of the SDK's time per image: what HTTP alone takes. */
          transportFloorShare: floorMs === undefined ? undefined : floorMs / (1000 / median(sdk)),
          vsSdk: median(ratios),
          vsSdkRange: [Math.min(...ratios), Math.max(...ratios)],
          serviceCpuMsPerRequest: median(serviceCpu),
          sdkCpuMsPerImage: median(sdkCpu),
          cpuVsSdk: median(cpuRatios),
          cpuVsSdkRange: [Math.min(...cpuRatios), Math.max(...cpuRatios)],
        });
      }
    } finally {
      await service.stop();
      await sdkLoop.stop();
    }
    report[size] = rows;
    log(`\n${size} model (${rounds} rounds of SDK block + service block; medians; ratio = median of same-round ratios)`);
    log('| concurrency | requests | not 200 | service req/s | p50 ms | p99 ms | SDK img/s | SDK p50 ms | service / SDK (range) | HTTP floor / SDK time | server CPU ms/req | SDK CPU ms/img | CPU service / SDK (range) |');
    log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      const range = `${r.vsSdkRange[0].toFixed(3)}-${r.vsSdkRange[1].toFixed(3)}`;
      const cpuRange = `${r.cpuVsSdkRange[0].toFixed(3)}-${r.cpuVsSdkRange[1].toFixed(3)}`;
      log(
        `| ${r.concurrency} | ${r.ok + r.notOk} | ${r.notOk} | ${r.requestsPerSecond.toFixed(2)} | ${r.p50Ms.toFixed(0)} | ${r.p99Ms.toFixed(0)} | ${r.sdkImagesPerSecond.toFixed(2)} | ${r.sdkP50Ms.toFixed(0)} | ${r.vsSdk.toFixed(3)} (${range}) | ${r.transportFloorShare === undefined ? 'n/a' : `${(100 * r.transportFloorShare).toFixed(1)}%`} | ` +
          `${r.serviceCpuMsPerRequest.toFixed(1)} | ${r.sdkCpuMsPerImage.toFixed(1)} | ${r.cpuVsSdk.toFixed(3)} (${cpuRange}) |`,
      );
    }
  }

  if (values.overload) {
    const { modelArgs } = benchWeights('tiny', scratch);
    const inferenceTimeoutS = 30;
    const service = await startService([...modelArgs, ...serviceFlags, '--log-level', 'info', '--concurrency', '1', '--max-queue', '8', '--inference-timeout-ms', String(inferenceTimeoutS * 1000)], undefined, launch);
    try {
      const pid = service.child.pid!;
      // Idle with the model, twice: right after ready (loaded and warmed up on one image), and
      // after 20 requests one at a time, when the decoders' threads and the allocator have
      // reached the footprint a steady stream of photos keeps.
      const idle = rssMB(pid);
      for (let i = 0; i < 20; i++) await fetch(`${service.url}/v1/detect`, { method: 'POST', body: image, headers: { 'content-type': 'image/png' } }).then((r) => r.arrayBuffer());
      const steady = rssMB(pid);
      let peak = steady;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMB(pid))), 50);
      const run = await load(service.url, 64, 2000, inferenceTimeoutS + 10);
      const maxMs = Math.max(...run.latencies);
      clearInterval(sampler);
      const afterRss = rssMB(pid);
      const healthy = (await fetch(`${service.url}/healthz`)).status === 200;
      const { latencies: _all, ...counts } = run;
      const overload = { ...counts, maxMs, rssMB: { idleWithModel: idle, steadyIdle: steady, peak, after: afterRss, peakVsIdle: peak / idle, peakVsSteady: peak / steady }, healthyAfter: healthy, inferenceTimeoutS };
      report.overload = overload;
      log(`\noverload: 64 connections, queue of 8, concurrency 1, tiny model, ${run.ok + run.non2xx + run.errors} requests in ${run.seconds.toFixed(1)} s`);
      log(`status codes: ${JSON.stringify(run.statusCodes)}; connection errors ${run.errors}, timeouts ${run.timeouts}; slowest answer ${maxMs.toFixed(0)} ms (timeout ${inferenceTimeoutS} s)`);
      log(`RSS: idle with model ${idle.toFixed(0)} MB (after 20 requests ${steady.toFixed(0)} MB), peak ${peak.toFixed(0)} MB = ${(peak / idle).toFixed(2)}x idle (${(peak / steady).toFixed(2)}x after 20), after ${afterRss.toFixed(0)} MB; /healthz after: ${healthy ? 200 : 'failed'}`);
    } finally {
      await service.stop();
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
