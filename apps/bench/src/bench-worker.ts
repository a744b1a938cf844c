// One benchmark measurement in its own process, so that peak RSS belongs to one backend and one
// weights file. Prints one JSON line. Driven by bench.ts.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModel, type RawImage } from '@sparsevit/node';
import { median } from './median';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'onnx-cpu' },
    weights: { type: 'string' },
    batch: { type: 'string', default: '1' },
    runs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string' },
    dtype: { type: 'string', default: 'fp32' },
  },
});

/**
 * Peak resident memory of this process in MB. Linux's VmHWM belongs to this process image;
 * getrusage's maxRSS does not: exec keeps the high-water mark of the forked parent, so a worker
 * spawned by a parent holding 800 MB of freshly written weights would report 800 MB.
 */
function peakRssMB(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}


/** A deterministic 640x480 RGB test image (content does not change the work done). */
function testImage(): RawImage {
  const width = 640;
  const height = 480;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  return { data, width, height, channels: 3 };
}

async function load(backend: string, weights: string, batch: number) {
  const threads = values.threads ? Number(values.threads) : undefined;
  const dtype = values.dtype as 'fp32' | 'fp16' | 'q8';
  if (backend === 'onnx-cpu' || backend === 'onnx-cuda' || backend === 'onnx-webgpu') {
    // No fallback: a device that cannot start makes its row "unavailable" with the reason.
    return loadModel({ weights, device: backend.slice(5) as 'cpu' | 'cuda' | 'webgpu', batchSize: batch, intraOpNumThreads: threads, dtype });
  }
  if (backend === 'tfjs-wasm' || backend === 'tfjs-cpu') {
    // Imported only when asked for, so an ONNX-only run does not load TensorFlow.js.
    if (dtype !== 'fp32') throw new Error(`${backend} runs fp32 only`);
    const tfjs = await import('@sparsevit/tfjs');
    return tfjs.loadModel({ weights, backend: backend.slice(5), batchSize: batch });
  }
  if (backend === 'ort-web-wasm' || backend.startsWith('ort-web-wasm:')) {
    // `ort-web-wasm:2`: two wasm threads (a cross-origin-isolated page); default one.
    const { loadOrtWebWasm } = await import('./ort-web-wasm');
    return loadOrtWebWasm(weights, Number(backend.split(':')[1] ?? threads ?? 1), batch, dtype);
  }
  throw new Error(`unknown backend ${backend}`);
}

const backend = values.backend!;
const batch = Number(values.batch);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const image = testImage();
const images = Array.from({ length: batch }, () => image);

const t0 = performance.now();
const model = await load(backend, values.weights!, batch).catch((error: Error) => {
  // The parent shows this line as the row's reason (a device that cannot start, ...).
  process.stderr.write(`${error.message.split('\n')[0]}\n`);
  process.exit(1);
});
const loadMs = performance.now() - t0;
const peakAfterLoadMB = peakRssMB();
await model.detectBatch(images);
const firstResultMs = performance.now() - t0;
for (let i = 1; i < warmup; i++) await model.detectBatch(images);

const total: number[] = [];
const inference: number[] = [];
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const outcomes = await model.detectBatch(images);
  total.push((performance.now() - start) / batch);
  const first = outcomes[0];
  if (!first.ok) throw first.error;
  inference.push(first.result.timings.inferenceMs / batch);
}
await model.dispose();

const report = {
  backend,
  dtype: values.dtype,
  device: model.device,
  batch,
  runs,
  loadMs,
  firstResultMs,
  perImageMs: { median: median(total), min: Math.min(...total), max: Math.max(...total) },
  inferencePerImageMs: { median: median(inference), min: Math.min(...inference), max: Math.max(...inference) },
  imagesPerSecond: 1000 / median(total),
  peakAfterLoadMB,
  peakRssMB: peakRssMB(),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
