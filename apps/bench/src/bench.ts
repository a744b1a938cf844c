// pnpm bench [--json] [--runs N] [--warmup N] [--batch 1,4] [--backends onnx-cpu,tfjs-wasm,ort-web-wasm:2]
//            [--weights file] [--threads N] [--dtypes fp32,q8]
//
// Backends: onnx-cpu, onnx-cuda, onnx-webgpu (@sparsevit/node), tfjs-wasm and tfjs-cpu
// (@sparsevit/tfjs), ort-web-wasm[:threads] (the WASM engine of @sparsevit/web, run in Node). One
// that cannot start here gets an "unavailable" row with the reason.
//
// SparseViT base (the published configuration) at 512x512 on every backend asked for. Each
// (backend, batch) runs in its own process: load (file to first result) is timed apart from
// inference, then warm-up, then N timed runs; figures are medians with min/max, plus peak RSS.
// Without --weights, seeded random weights of the published shapes are written to a temporary
// .safetensors file (latency does not depend on the values; no trained weights ship here).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BASE_CONFIG, CONFIG_METADATA_KEY, graphCost, prepareGraphWeights, PRESETS, readSafetensors, resolveConfig, writeSafetensors, type WeightTensor } from '@sparsevit/core';
import { fixturePath, randomStateDict } from '@sparsevit/fixtures';
import { parseBenchArgs, positiveInteger } from './bench-args';
import { releaseLikeCheckpoint } from './release-like-checkpoint';

const USAGE = `Usage: pnpm bench [options]

Latency, throughput, load time and peak memory of SparseViT base (512x512), or of the model given
with --weights at its own size, on each backend asked for, each (backend, batch) in its own
process; medians with min/max.

Options:
  --backends <list>   onnx-cpu, onnx-cuda, onnx-webgpu, tfjs-wasm, tfjs-cpu, ort-web-wasm[:threads]
                      (default onnx-cpu,tfjs-wasm)
  --batch <list>      Batch sizes (default 1,4)
  --runs <n>          Timed runs (default 10)
  --warmup <n>        Warm-up runs (default 2)
  --weights <file>    Weights to run, with the config their metadata holds (default: seeded random
                      weights of the published shapes)
  --threads <n>       Threads for ONNX Runtime
  --dtypes <list>     Model arithmetic per row: fp32, fp16, q8 (default fp32); each row also gets
                      its ratio to the fp32 row of the same backend and batch, from this run
  --pth               Also time loading a checkpoint laid out like the authors' release (~600 MB)
  --cli               Also measure the peak RSS of \`sparsevit detect\` on one image (GNU time)
  --json              Print one JSON document instead of tables
  -h, --help          Show this help
`;

const values = parseBenchArgs('bench', USAGE, {
  json: { type: 'boolean', default: false },
  runs: { type: 'string', default: '10' },
  warmup: { type: 'string', default: '2' },
  batch: { type: 'string', default: '1,4' },
  backends: { type: 'string', default: 'onnx-cpu,tfjs-wasm' },
  weights: { type: 'string' },
  threads: { type: 'string' },
  dtypes: { type: 'string', default: 'fp32' },
  pth: { type: 'boolean', default: false },
  cli: { type: 'boolean', default: false },
});
positiveInteger('bench', 'runs', values.runs, USAGE);
for (const b of values.batch!.split(',')) positiveInteger('bench', 'batch', b, USAGE);

const run = promisify(execFile);
const worker = fileURLToPath(new URL('./bench-worker.js', import.meta.url));
const log = (line: string) => {
  if (!values.json) process.stdout.write(`${line}\n`);
};

let weights = values.weights;
let scratch: string | undefined;
const extraWeights: Array<[string, string]> = [];
const tensors = randomStateDict('sparsevit-base') as Map<string, WeightTensor>;
// The arithmetic of one image, counted on the graph the backends run (shapes only), for the
// config the weights carry (`--weights` of another preset, such as the default model, is not
// the base model; a `.pth` carries no config and is the base model).
const given = weights?.endsWith('.safetensors') ? await readSafetensors(readFileSync(weights)) : undefined;
const config = given ? resolveConfig(undefined, given.metadata) : BASE_CONFIG;
const cost = graphCost(config, prepareGraphWeights(given ?? { tensors, metadata: {} }, config));
// The preset's name when the config is one (the default model is `small`), else its widths.
const modelName = Object.entries(PRESETS).find(([, preset]) => JSON.stringify(preset) === JSON.stringify(config))?.[0] ?? `embed_dim [${config.embed_dim.join(', ')}]`;
const gflopsPerImage = cost.flops / 1e9;
if (!weights || values.pth) {
  scratch = mkdtempSync(join(tmpdir(), 'sparsevit-bench-'));
  if (!weights) {
    weights = join(scratch, 'sparsevit-base-random.safetensors');
    writeFileSync(weights, writeSafetensors({ tensors, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(BASE_CONFIG) } }));
  }
  if (values.pth) {
    const pth = join(scratch, 'release-like-checkpoint.pth');
    writeFileSync(pth, releaseLikeCheckpoint(tensors));
    extraWeights.push(['onnx-cpu', pth]);
  }
}

const machine = `${cpus().length} x ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
log(`SparseViT ${modelName}, ${config.img_size}x${config.img_size}, ${values.runs} runs after ${values.warmup} warm-up; weights ${weights} (${(statSync(weights).size / 2 ** 20).toFixed(0)} MiB)`);
log(`machine: ${machine}`);
log(`work per image: ${gflopsPerImage.toFixed(1)} GFLOP (${(cost.macs / 1e9).toFixed(1)} G multiply-adds: conv ${(cost.macsByOp.conv2d / 1e9).toFixed(1)}, matmul ${(cost.macsByOp.matmul / 1e9).toFixed(1)})`);

const results: Record<string, unknown>[] = [];
const dtypes = values.dtypes!.split(',');
for (const d of dtypes) {
  if (!['fp32', 'fp16', 'q8'].includes(d)) {
    process.stderr.write(`bench: --dtypes takes fp32, fp16, q8, got ${JSON.stringify(d)}\n\n${USAGE.trimEnd()}\n`);
    process.exit(2);
  }
}
const measure = async (backend: string, batch: number, file: string, dtype = 'fp32') => {
  const args = [worker, '--backend', backend, '--weights', file, '--batch', String(batch), '--runs', values.runs!, '--warmup', values.warmup!, '--dtype', dtype];
  if (values.threads) args.push('--threads', values.threads);
  const label = { backend, dtype, batch, weights: file.split('/').pop(), weightsMB: statSync(file).size / 2 ** 20 };
  try {
    const { stdout } = await run(process.execPath, args, { maxBuffer: 1 << 20 });
    results.push({ ...label, ...JSON.parse(stdout.trim().split('\n').pop()!) });
  } catch (error) {
    const message = ((error as { stderr?: string }).stderr || (error as Error).message).trim().split('\n').slice(-1)[0];
    results.push({ ...label, error: message });
  }
};
for (const backend of values.backends!.split(',')) {
  for (const batch of values.batch!.split(',').map(Number)) for (const dtype of dtypes) await measure(backend, batch, weights, dtype);
}
for (const [backend, file] of extraWeights) await measure(backend, 1, file);

/** tfjs-wasm's matrix-product rate on the model's largest layers: its floor for this model. */
let wasmGemm: { gflopsPerSecond: number; byShape: Record<string, number> } | undefined;
if (values.backends!.split(',').includes('tfjs-wasm')) {
  const roofline = fileURLToPath(new URL('./wasm-gemm-roofline.js', import.meta.url));
  wasmGemm = await run(process.execPath, [roofline]).then(
    ({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!),
    () => undefined,
  );
}
/**
 * Peak RSS of `sparsevit detect` on one image, per weights file, measured by GNU time around
 * the command (the process's own high-water mark, whatever spawned it).
 */
const cliRows: Array<{ weights: string; peakRssMB?: number; error?: string }> = [];
if (values.cli) {
  const cli = join(dirname(createRequire(import.meta.url).resolve('@sparsevit/cli/package.json')), 'dist', 'bin.js');
  const image = fixturePath('sparsevit-tiny', 'images', 'splice_640x480.png');
  const out = mkdtempSync(join(tmpdir(), 'sparsevit-bench-cli-'));
  const files = [weights, ...extraWeights.map(([, file]) => file)];
  const onnx = join(out, 'sparsevit-base.onnx');
  await run(process.execPath, [cli, 'export', weights, onnx]).then(() => files.push(onnx), () => undefined);
  for (const file of files) {
    try {
      const { stderr } = await run('/usr/bin/time', ['-f', 'peak-kb %M', process.execPath, cli, 'detect', image, '--weights', file, '--out', join(out, 'detect')]);
      cliRows.push({ weights: file.split('/').pop()!, peakRssMB: Number(/peak-kb (\d+)/.exec(stderr)![1]) / 1024 });
    } catch (error) {
      cliRows.push({ weights: file.split('/').pop()!, error: (error as Error).message.split('\n')[0] });
    }
  }
  rmSync(out, { recursive: true, force: true });
}
if (scratch) rmSync(scratch, { recursive: true, force: true });

type Row = { backend: string; dtype: string; vsFp32?: number; batch: number; weights: string; error?: string; perImageMs: { median: number; min: number; max: number }; inferencePerImageMs: { median: number }; imagesPerSecond: number; gflopsPerSecond: number; loadMs: number; firstResultMs: number; peakRssMB: number };
const rows = results as Row[];
for (const r of rows) if (!r.error) r.gflopsPerSecond = gflopsPerImage / (r.perImageMs.median / 1000);
// Each dtype against fp32 on the same backend and batch, both measured in this run.
for (const r of rows) {
  const fp32 = rows.find((f) => f.dtype === 'fp32' && f.backend === r.backend && f.batch === r.batch && f.weights === r.weights && !f.error);
  if (!r.error && fp32 && r !== fp32) r.vsFp32 = r.perImageMs.median / fp32.perImageMs.median;
}
const baseline = rows.find((r) => !r.error);
const wasmFloorMs = wasmGemm ? (gflopsPerImage / wasmGemm.gflopsPerSecond) * 1000 : undefined;
if (values.json) {
  const work = { gflopsPerImage, macsPerImage: cost.macs, macsByOp: cost.macsByOp };
  const floor = wasmGemm && { ...wasmGemm, floorMsPerImage: wasmFloorMs };
  process.stdout.write(`${JSON.stringify({ machine, config: modelName, imgSize: config.img_size, runs: Number(values.runs), work, results: rows, tfjsWasmGemm: floor, cli: cliRows }, null, 2)}\n`);
} else {
  const header = ['backend', 'dtype', 'vs fp32', 'weights', 'batch', 'median ms/img', 'min', 'max', 'inference ms/img', 'img/s', 'GFLOP/s', 'vs baseline', 'load ms', 'first result ms', 'peak RSS MB'];
  const table = rows.map((r) =>
    r.error
      ? [r.backend, r.dtype, '', r.weights, String(r.batch), `unavailable: ${r.error}`]
      : [
          r.backend,
          r.dtype,
          r.vsFp32 === undefined ? '' : `${r.vsFp32.toFixed(2)}x`,
          r.weights,
          String(r.batch),
          r.perImageMs.median.toFixed(0),
          r.perImageMs.min.toFixed(0),
          r.perImageMs.max.toFixed(0),
          r.inferencePerImageMs.median.toFixed(0),
          r.imagesPerSecond.toFixed(2),
          r.gflopsPerSecond.toFixed(0),
          `${(r.perImageMs.median / baseline!.perImageMs.median).toFixed(2)}x`,
          r.loadMs.toFixed(0),
          r.firstResultMs.toFixed(0),
          r.peakRssMB.toFixed(0),
        ],
  );
  log('');
  log(`| ${header.join(' | ')} |`);
  log(`|${header.map(() => '---').join('|')}|`);
  for (const row of table) log(`| ${row.join(' | ')} |`);
  log(`\nratios are against ${baseline ? `${baseline.backend} batch ${baseline.batch}` : 'nothing (no backend ran)'}, measured in this run`);
  if (wasmGemm && wasmFloorMs !== undefined) {
    const shapes = Object.entries(wasmGemm.byShape).map(([shape, rate]) => `${shape} ${rate.toFixed(0)}`).join(', ');
    const vs = baseline ? ` = ${(wasmFloorMs / baseline.perImageMs.median).toFixed(1)}x the baseline` : '';
    log(`tfjs-wasm matrix product alone: ${wasmGemm.gflopsPerSecond.toFixed(0)} GFLOP/s (${shapes}), so at least ${wasmFloorMs.toFixed(0)} ms/img${vs} on that backend`);
  }
}
if (!values.json && cliRows.length > 0) {
  log('\n| `sparsevit detect`, one image | peak RSS MB |');
  log('|---|---|');
  for (const r of cliRows) log(`| ${r.weights} | ${r.error ? `unavailable: ${r.error}` : r.peakRssMB!.toFixed(0)} |`);
}
