// pnpm --filter @sparsevit/bench bench:train [--steps N] [--batch N] [--engines ort,wasm,cpu]
//
// Training throughput of @sparsevit/train: images per second of an optimizer step (forward,
// backward, AdamW) on each engine (ONNX Runtime CPU running the lowered training step, and
// TensorFlow.js's wasm and cpu backends), beside the same engine's inference images per second,
// all on the `small` preset (the default model's config) at 256x256, measured in this run. Each
// engine runs in this process one after the other, after one warm-up step; figures are medians,
// and the last column is each engine against tfjs-wasm.
import { availableParallelism } from 'node:os';
import { SMALL_CONFIG, graphCost, prepareGraphWeights } from '@sparsevit/core';
import { lowerToOnnx } from '@sparsevit/onnx';
import { OrtTrainer, Trainer, initialStateDict } from '@sparsevit/train';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-node';
import { parseBenchArgs, positiveInteger } from './bench-args';
import { median } from './median';

const USAGE = `Usage: pnpm bench:train [--steps N] [--batch N] [--engines ort,wasm,cpu]

Images per second of a training step (forward, backward, AdamW) on each engine, beside
inference, small preset at 256x256.

Options:
  --steps <n>       Timed steps per engine (default 5)
  --batch <n>       Images per step (default 4)
  --engines <list>  ort (ONNX Runtime CPU), wasm, cpu (TensorFlow.js) (default ort,wasm,cpu)
  -h, --help        Show this help
`;
const values = parseBenchArgs('bench:train', USAGE, {
  steps: { type: 'string', default: '5' },
  batch: { type: 'string', default: '4' },
  engines: { type: 'string', default: 'ort,wasm,cpu' },
});
const steps = positiveInteger('bench:train', 'steps', values.steps, USAGE);
const n = positiveInteger('bench:train', 'batch', values.batch, USAGE);
const config = SMALL_CONFIG;
const s = config.img_size;
const weights = prepareGraphWeights(initialStateDict(config, 1), config);
const images = Float32Array.from({ length: n * 3 * s * s }, (_, i) => Math.sin(i * 0.37) * 1.5);
const masks = Float32Array.from({ length: n * s * s }, (_, i) => ((i % s) < s / 3 ? 1 : 0));
const cost = graphCost(config, weights);
const timed = async (count: number, fn: () => unknown | Promise<unknown>) => {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
};

const rows: { engine: string; trainImgS: number; inferImgS: number }[] = [];
const schedule = { lr: 1e-4, minLr: 1e-6, warmupSteps: 1, totalSteps: 1000 };
for (const engine of values.engines!.split(',')) {
  if (engine === 'ort') {
    // As `sparsevit train` runs it: a thread per core (ONNX Runtime's default is one per physical core).
    const trainer = new OrtTrainer({ ort, config, weights, schedule, sessionOptions: { intraOpNumThreads: availableParallelism() } });
    const trainMs = await timed(steps, () => trainer.trainStep([{ images, masks, n }]));
    const inferMs = await timed(steps, () => trainer.predict(images, n));
    await trainer.dispose();
    rows.push({ engine: 'onnxruntime-node cpu', trainImgS: (n * 1000) / trainMs, inferImgS: (n * 1000) / inferMs });
    continue;
  }
  await tf.setBackend(engine);
  await tf.ready();
  const trainer = new Trainer({ tf: tf as never, config, weights, schedule });
  const trainMs = await timed(steps, () => trainer.trainStep([{ images, masks, n }]));
  const inferMs = await timed(steps, () => trainer.predict(images, n));
  trainer.dispose();
  rows.push({ engine: `tfjs-${engine}`, trainImgS: (n * 1000) / trainMs, inferImgS: (n * 1000) / inferMs });
}
// The inference model itself (constant weights, which ORT pre-packs), for the inference ceiling.
const session = await ort.InferenceSession.create(lowerToOnnx(config, weights), { executionProviders: ['cpu'] });
const ortMs = await timed(steps, () => session.run({ input: new ort.Tensor('float32', images, [n, 3, s, s]) }));
await session.release();
const wasm = rows.find((r) => r.engine === 'tfjs-wasm');

process.stdout.write(`SparseViT small (${(cost.flops / 1e9).toFixed(2)} GFLOP per ${s}x${s} image forward), batch ${n}, median of ${steps} after 1 warm-up\n\n`);
process.stdout.write('| engine | train img/s (fwd+bwd+AdamW) | inference img/s (same engine) | train / inference | train vs tfjs-wasm |\n|---|---|---|---|---|\n');
for (const r of rows) {
  const ratio = wasm ? `${(r.trainImgS / wasm.trainImgS).toFixed(2)}x` : '';
  process.stdout.write(`| ${r.engine} | ${r.trainImgS.toFixed(2)} | ${r.inferImgS.toFixed(2)} | ${(r.trainImgS / r.inferImgS).toFixed(2)} | ${ratio} |\n`);
}
process.stdout.write(`| onnxruntime-node cpu, inference model | | ${((n * 1000) / ortMs).toFixed(2)} | | |\n`);
