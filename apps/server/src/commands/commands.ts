/**
 * The command-line entry points: `sparsevit serve`, `sparsevit scan`, `sparsevit worker` (in
 * @sparsevit/cli) and this package's `sparsevit-serve`, `sparsevit-scan`, `sparsevit-worker`
 * call these. Each parses its arguments first (a usage error throws `CommandUsageError` before
 * anything heavy is loaded) and resolves with the exit code.
 */
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { MODEL_FLAGS, modelSettingsFrom, redisUrlFrom } from './model-flags';
import { CommandUsageError, parseOptions, required } from './option-table';
import { SCAN_USAGE, SERVE_USAGE, WORKER_USAGE } from './usage';

export { CommandUsageError } from './option-table';
export { SCAN_USAGE, SERVE_USAGE, WORKER_USAGE } from './usage';

const SERVE_FLAGS = {
  ...MODEL_FLAGS,
  host: { kind: 'string' },
  port: { kind: 'integer', min: 0, max: 65535 },
  threshold: { kind: 'number', short: 't', min: 0, max: 1 },
  'max-body-bytes': { kind: 'integer', min: 1 },
  concurrency: { kind: 'integer', min: 1 },
  'max-queue': { kind: 'integer', min: 0 },
  'request-timeout-ms': { kind: 'integer', min: 1 },
  'inference-timeout-ms': { kind: 'integer', min: 1 },
  'shutdown-timeout-ms': { kind: 'integer', min: 1 },
  'api-keys-file': { kind: 'string' },
  'cors-origin': { kind: 'string', multiple: true },
  'no-incremental-marking': { kind: 'flag' },
} as const;

const WORKER_FLAGS = {
  ...MODEL_FLAGS,
  redis: { kind: 'string' },
  queue: { kind: 'string' },
  concurrency: { kind: 'integer', min: 1 },
  'lock-ms': { kind: 'integer', min: 1000 },
  name: { kind: 'string' },
} as const;

const SCAN_FLAGS = {
  redis: { kind: 'string' },
  queue: { kind: 'string' },
  out: { kind: 'string', short: 'o' },
  threshold: { kind: 'number', short: 't', min: 0, max: 1 },
  attempts: { kind: 'integer', min: 1 },
  'backoff-ms': { kind: 'integer', min: 0 },
  detach: { kind: 'flag' },
  status: { kind: 'flag' },
  json: { kind: 'flag' },
} as const;

const help = (text: string) => {
  process.stdout.write(`${text}\n`);
  return 0;
};

/**
 * Resolves on the first SIGTERM or SIGINT; a second one exits at once (code 1), for an operator
 * who does not want to wait for the drain.
 */
function firstSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.once('SIGTERM', () => process.exit(1));
      process.once('SIGINT', () => process.exit(1));
      logger.info({ signal }, 'signal received');
      resolve(signal);
    };
    process.once('SIGTERM', on);
    process.once('SIGINT', on);
  });
}

/** Exits with `code` soon even if a library left a handle open (the work is done by now). */
function exitSoon(code: number): number {
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

async function createLogger(level: string): Promise<Logger> {
  const { pino } = await import('pino');
  return pino({ level, base: { pid: process.pid }, redact: ['req.headers.authorization'] });
}

/**
 * Turns off libvips' operation cache (sharp keeps up to 50 MB of recent results by default).
 * A service decodes a different image every time, so the cache never hits and only holds
 * memory: measured under overload, it was most of the RSS growth above idle.
 */
async function uncacheImageOperations(): Promise<void> {
  const { default: sharp } = await import('sharp');
  sharp.cache(false);
}

/**
 * `--no-incremental-marking`: V8's incremental marking off for the serving process, trading
 * memory for CPU. Measured on the tiny model (640x480 PNG uploads, the server pinned to one CPU,
 * 240 requests a block): once the young generation has grown under concurrent requests, V8
 * starts marking again right after each full collection (a 17 MB live heap under a 40 MB limit),
 * so 64-79 mark-compacts ran per 240 requests at 4 and 16 connections and a request cost 48-62 ms
 * of CPU; with the flag, 0-13 stop-the-world ones and 38-42 ms. The cost: garbage lives longer,
 * so a 64-connection overload peaked at 1.55-1.58x idle RSS instead of 1.43x, which is why it is
 * not the default. V8 reads the flag each time it decides to start marking, so setting it at
 * run time takes effect (and `--no-incremental-marking` is not allowed in NODE_OPTIONS).
 */
function withoutIncrementalMarking(): void {
  setFlagsFromString('--no-incremental-marking');
}

/** `sparsevit serve`: runs until SIGTERM/SIGINT; 0 after a clean drain. */
export async function serveMain(argv: string[]): Promise<number> {
  const { options, positionals, help: wantsHelp } = parseOptions('serve', argv, SERVE_FLAGS);
  if (wantsHelp) return help(SERVE_USAGE);
  if (positionals.length > 0) throw new CommandUsageError('serve', `unexpected argument "${positionals[0]}"`);
  const model = modelSettingsFrom('serve', options);
  if (options['no-incremental-marking']) withoutIncrementalMarking();
  const logger = await createLogger(model.logLevel);
  if (model.defaultModelNotice) logger.warn(model.defaultModelNotice);
  await uncacheImageOperations();
  const [{ startServer }, { loadApiKeys }] = await Promise.all([import('../service/start-server'), import('../service/api-keys')]);
  const apiKeys = await loadApiKeys({ file: options['api-keys-file'] });
  const server = await startServer(
    {
      ...model,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      threshold: options.threshold ?? 0.5,
      maxBodyBytes: options['max-body-bytes'] ?? 20 * 2 ** 20,
      // One ONNX Runtime session on the CPU already uses every core for one image; a GPU gains
      // from a second request preparing on the CPU while the first runs.
      concurrency: options.concurrency ?? (model.device === 'cpu' ? 1 : 2),
      maxQueue: options['max-queue'] ?? 8,
      requestTimeoutMs: options['request-timeout-ms'] ?? 30_000,
      inferenceTimeoutMs: options['inference-timeout-ms'] ?? 30_000,
      shutdownTimeoutMs: options['shutdown-timeout-ms'] ?? 30_000,
      apiKeys,
      corsOrigins: options['cors-origin'] ?? [],
    },
    logger,
  );
  logger.info({ url: server.url, apiKeys: apiKeys.length, concurrency: server.service.queue.concurrency, maxQueue: server.service.queue.maxQueue, incrementalMarking: !options['no-incremental-marking'] }, 'listening');
  const loaded = server.ready.then(() => true, () => false);
  const stop = await Promise.race([firstSignal(logger).then(() => 'signal' as const), loaded.then((ok) => (ok ? new Promise<never>(() => {}) : ('load-failed' as const)))]);
  const { drained } = await server.close();
  return exitSoon(stop === 'load-failed' || !drained ? 1 : 0);
}

/** `sparsevit worker`: takes scan jobs until SIGTERM/SIGINT. */
export async function workerMain(argv: string[]): Promise<number> {
  const { options, positionals, help: wantsHelp } = parseOptions('worker', argv, WORKER_FLAGS);
  if (wantsHelp) return help(WORKER_USAGE);
  if (positionals.length > 0) throw new CommandUsageError('worker', `unexpected argument "${positionals[0]}"`);
  const model = modelSettingsFrom('worker', options);
  const redisUrl = redisUrlFrom('worker', options.redis);
  const logger = await createLogger(model.logLevel);
  if (model.defaultModelNotice) logger.warn(model.defaultModelNotice);
  await uncacheImageOperations();
  const { startScanWorker } = await import('../scan/scan-worker');
  const { DEFAULT_QUEUE } = await import('../scan/scan-queue');
  const worker = await startScanWorker(
    { ...model, redisUrl, queue: options.queue ?? DEFAULT_QUEUE, concurrency: options.concurrency ?? 1, lockMs: options['lock-ms'] ?? 30_000, name: options.name },
    logger,
  );
  await firstSignal(logger);
  await worker.close();
  logger.info({ name: worker.name }, 'worker stopped');
  return exitSoon(0);
}

/** `sparsevit scan`: submits and waits (bar on stderr), or `--status`. */
export async function scanMain(argv: string[]): Promise<number> {
  const { options, positionals, help: wantsHelp } = parseOptions('scan', argv, SCAN_FLAGS);
  if (wantsHelp) return help(SCAN_USAGE);
  const redisUrl = redisUrlFrom('scan', options.redis);
  if (options.status && positionals.length > 0) throw new CommandUsageError('scan', '--status takes no inputs');
  if (!options.status && positionals.length === 0) throw new CommandUsageError('scan', 'no folders, images or list files given');
  const outDir = options.status ? '' : required('scan', 'out', options.out);
  const [{ connectRedis, openQueue, DEFAULT_QUEUE }, { submitScan, waitForScan }, { readScanStatus, formatScanStatus }, { createScanProgress }] = await Promise.all([
    import('../scan/scan-queue'),
    import('../scan/submit-scan'),
    import('../scan/scan-status'),
    import('../scan/scan-progress'),
  ]);
  const connection = connectRedis(redisUrl);
  connection.on('error', () => undefined); // commands wait for the reconnection (see connectRedis)
  const queue = openQueue(options.queue ?? DEFAULT_QUEUE, connection);
  queue.on('error', () => undefined); // the same: a Redis restart is waited out, not reported
  const print = (value: unknown, text: string) => process.stdout.write(`${options.json ? JSON.stringify(value, null, 2) : text}\n`);
  try {
    if (options.status) {
      const status = await readScanStatus(queue, connection);
      print(status, formatScanStatus(status));
      return 0;
    }
    const summary = await submitScan(queue, connection, {
      inputs: positionals,
      outDir,
      threshold: options.threshold ?? 0.5,
      attempts: options.attempts ?? 3,
      backoffMs: options['backoff-ms'] ?? 2000,
    });
    const submitted = `scan: ${summary.inputs} images: ${summary.added} queued, ${summary.alreadyQueued} already in the queue, ${summary.duplicates.length} duplicates of another, ${summary.unreadable.length} unreadable`;
    for (const u of summary.unreadable) process.stderr.write(`scan: cannot read ${u.path}: ${u.message}\n`);
    if (options.detach) {
      print({ submitted: summary }, submitted);
      return summary.unreadable.length > 0 ? 1 : 0;
    }
    if (!options.json) process.stdout.write(`${submitted}\n`);
    const progress = createScanProgress();
    const { counts, failed } = await waitForScan(queue, summary.jobIds, (c) => progress.update(c));
    progress.stop();
    const lines = [`scan: ${summary.jobIds.length - failed.length}/${summary.jobIds.length} images done, ${failed.length} failed; results in ${outDir}`];
    for (const f of failed) lines.push(`  ${f.input}: ${f.reason}`);
    print({ submitted: summary, counts, failed }, lines.join('\n'));
    return failed.length > 0 || summary.unreadable.length > 0 ? 1 : 0;
  } finally {
    await queue.close();
    await connection.quit().catch(() => connection.disconnect());
  }
}
