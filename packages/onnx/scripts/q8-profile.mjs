// node packages/onnx/scripts/q8-profile.mjs [threads] [runs]
//
// Where the time of the base model (512x512, seeded random weights) goes on ONNX Runtime CPU,
// fp32 against q8, by operator type, from ONNX Runtime's own profiler (the kernels of the
// optimized graph, so fused and inserted nodes such as DynamicQuantizeMatMul and the NCHWc
// ReorderInput/ReorderOutput show under their own names). Milliseconds per image, the mean of
// `runs` profiled runs after two unprofiled warm-ups. Run with the machine quiet; needs
// `pnpm build` (it reads ../dist).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE_CONFIG, prepareGraphWeights } from '@sparsevit/core';
import { randomStateDict } from '@sparsevit/fixtures';
import { lowerToOnnx } from '../dist/index.js';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const threads = Number(process.argv[2] ?? 2);
const runs = Number(process.argv[3] ?? 8);
const size = BASE_CONFIG.img_size;
const input = new Float32Array(3 * size * size).map((_, i) => Math.sin(i * 0.37));

const scratch = mkdtempSync(join(tmpdir(), 'sparsevit-q8-profile-'));
const byOp = {};
const totals = {};
const weights = prepareGraphWeights({ tensors: randomStateDict('sparsevit-base'), metadata: {} }, BASE_CONFIG);
for (const dtype of ['fp32', 'q8']) {
  const session = await ort.InferenceSession.create(lowerToOnnx(BASE_CONFIG, weights, { dtype }), {
    intraOpNumThreads: threads,
    enableProfiling: true,
    profileFilePrefix: join(scratch, dtype),
  });
  const feeds = { input: new ort.Tensor('float32', input, [1, 3, size, size]) };
  for (let i = 0; i < 2 + runs; i++) await session.run(feeds);
  // onnxruntime-node's endProfiling() returns no name: the file is the one with the prefix.
  session.endProfiling();
  await session.release();
  const file = readdirSync(scratch).find((name) => name.startsWith(`${dtype}_`));
  const events = JSON.parse(readFileSync(join(scratch, file), 'utf8'));
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const from = modelRuns[2].ts;
  totals[dtype] = modelRuns.slice(2).map((e) => e.dur / 1000).sort((a, b) => a - b)[Math.floor(runs / 2)];
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = e.args.op_name;
    byOp[op] ??= { fp32: 0, q8: 0 };
    byOp[op][dtype] += e.dur / 1000 / runs;
  }
}
rmSync(scratch, { recursive: true, force: true });
const rows = Object.entries(byOp).sort((a, b) => b[1].fp32 + b[1].q8 - (a[1].fp32 + a[1].q8));
console.log(`ONNX Runtime CPU, base config ${size}x${size}, ${threads} threads, ${runs} profiled runs; ms per image (kernel time)`);
console.log('| operator | fp32 | q8 |');
console.log('|---|---|---|');
for (const [op, t] of rows) if (t.fp32 + t.q8 >= 0.5) console.log(`| ${op} | ${t.fp32.toFixed(1)} | ${t.q8.toFixed(1)} |`);
const sum = (d) => rows.reduce((s, [, t]) => s + t[d], 0);
console.log(`| all kernels | ${sum('fp32').toFixed(1)} | ${sum('q8').toFixed(1)} |`);
console.log(`| model_run (median) | ${totals.fp32.toFixed(1)} | ${totals.q8.toFixed(1)} |`);
