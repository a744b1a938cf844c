import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { deflateSync, crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '@sparsevit/fixtures';
import { pino, type Logger } from 'pino';
import sharp from 'sharp';
import { startServer, type RunningServer, type ServeSettings } from '../src/index';

export const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
export const TINY_WEIGHTS = tiny('weights.safetensors');
export const TINY_CONFIG = tiny('config.json');
export const tinyConfigObject = () => JSON.parse(readFileSync(TINY_CONFIG, 'utf8'));
export const fixtureImage = (name = 'splice_640x480.png') => readFileSync(tiny('images', name));

/** The built command of this package (tests that need a real process: signals, crashes). */
export const bin = (name: 'serve' | 'scan' | 'worker') => fileURLToPath(new URL(`../dist/bin/${name}.js`, import.meta.url));

export const TEST_SETTINGS: ServeSettings = {
  weights: TINY_WEIGHTS,
  config: TINY_CONFIG,
  device: 'cpu',
  fallbackCpu: false,
  maxPixels: 4_000_000,
  host: '127.0.0.1',
  port: 0,
  threshold: 0.5,
  maxBodyBytes: 2 * 2 ** 20,
  concurrency: 1,
  maxQueue: 8,
  requestTimeoutMs: 30_000,
  inferenceTimeoutMs: 30_000,
  shutdownTimeoutMs: 30_000,
  apiKeys: [],
  corsOrigins: [],
};

/** A logger whose lines are kept in `lines` (JSON text, as pino writes them). */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }), lines };
}

/** The service in this process on a free port, ready (model loaded and warmed up). */
export async function startTestServer(overrides: Partial<ServeSettings> = {}): Promise<{ server: RunningServer; url: string; logs: string[] }> {
  const { logger, lines } = memoryLogger();
  const server = await startServer({ ...TEST_SETTINGS, ...overrides }, logger);
  await server.ready;
  return { server, url: server.url, logs: lines };
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/**
 * A complete, valid 1-bit grayscale PNG of `width x height` black pixels: a decompression bomb
 * (30000x30000 is 900 megapixels, ~110 KB on the wire, ~2.7 GB once decoded to RGB).
 */
export function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth
  ihdr[9] = 0; // grayscale
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const raw = Buffer.alloc(rowBytes * height); // all zero: filter 0, black
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `count` different PNGs (one pixel differs in each, so each has its own hash) from a fixture. */
export async function distinctImages(count: number, name = 'splice_640x480.png'): Promise<Buffer[]> {
  const { data, info } = await sharp(fixtureImage(name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const pixels = Buffer.from(data);
      pixels.writeUInt32BE(i, 0);
      return sharp(pixels, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toBuffer();
    }),
  );
}

/** A child process of one of this package's commands, its stdout lines kept. */
export interface CommandProcess {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the exit code, once its output has been read. */
  exited: Promise<number | null>;
  /** Resolves with the first JSON log line for which `match` is true. */
  waitForLog(match: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function spawnCommand(name: 'serve' | 'scan' | 'worker', args: string[]): CommandProcess {
  const child = spawn(process.execPath, [bin(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout!.on('data', (data: Buffer) => {
    buffered += data.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (data: Buffer) => process.stderr.write(`[${name}] ${data}`));
  // 'close', not 'exit': by then every line the process wrote has been read.
  let closed = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      closed = true;
      resolve(code);
    }),
  );
  const parsed = () => lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  return {
    child,
    lines,
    exited,
    async waitForLog(match, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = parsed().find(match);
        if (found) return found;
        if (closed) throw new Error(`${name} exited (${child.exitCode}) before the log line; stdout:\n${lines.join('\n')}`);
        if (Date.now() > deadline) throw new Error(`${name}: no such log line within ${timeoutMs} ms; stdout:\n${lines.join('\n')}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

/** The first channel of a PNG (a mask's gray levels), from bytes, base64 text or a path. */
export async function grayPixels(png: Buffer | string, encoding?: 'base64'): Promise<Buffer> {
  const input = encoding === 'base64' ? Buffer.from(png as string, 'base64') : png;
  return sharp(input).extractChannel(0).raw().toBuffer();
}

/** How many pixels of a 0/255 mask PNG differ from a 0/1 mask. */
export async function maskDifferences(png: Buffer | string, mask: Uint8Array, encoding?: 'base64'): Promise<number> {
  const pixels = await grayPixels(png, encoding);
  if (pixels.length !== mask.length) return Math.max(pixels.length, mask.length);
  let differs = 0;
  for (let i = 0; i < mask.length; i++) if (pixels[i] !== mask[i] * 255) differs++;
  return differs;
}
