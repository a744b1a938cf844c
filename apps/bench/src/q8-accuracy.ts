// pnpm --filter @sparsevit/bench q8-accuracy [--weights file | --random-base] [--pairs pairs.json] [--protocol imdlbenco|native] [--limit N] [--json]
//
// q8 against fp32 of the same weights on a held-out pair list, through @sparsevit/node (sharp
// decoding, ONNX Runtime CPU, the SDK's resampling), scored as `sparsevit eval` scores:
// pixel F1 and image AUC of each dtype, the differences, how many mask pixels are equal, and the
// logits' error (read from the same lowered models run directly). Any model can be run through
// it: the default is the SDK's default model on data/synth-test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  BASE_CONFIG,
  binarizeMask,
  bytesSource,
  CONFIG_METADATA_KEY,
  createEvaluationAccumulator,
  emptyMask,
  EVALUATION_PROTOCOLS,
  parsePairList,
  evaluateImage,
  preparePair,
  preprocess,
  type EvaluationProtocol,
  writeSafetensors,
  type EvaluationSummary,
  type WeightTensor,
} from '@sparsevit/core';
import { randomStateDict } from '@sparsevit/fixtures';
import { decodeImage, loadModel } from '@sparsevit/node';
import { buildOnnxModel, type OnnxDtype, type Q8Target } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-node';
import { parseBenchArgs, positiveInteger } from './bench-args';

const USAGE = `Usage: pnpm --filter @sparsevit/bench q8-accuracy [options]

q8 against fp32 of the same weights on a pair list (IMDLBenCo JSON: [[image, mask], ...], paths
relative to the list), scored as \`sparsevit eval\` scores them.

Options:
  --weights <file>     Weights (default: the SDK's default model)
  --q8-target <t>      cpu (default: the layout @sparsevit/node runs) or wasm (@sparsevit/web's)
  --random-base        Seeded random weights of the published base config (512x512) instead:
                       how far q8 drifts from fp32 on the full-size model
  --pairs <file>       Pair list (default: data/synth-test/pairs.json of the repository)
  --protocol <name>    imdlbenco (default) or native, as \`sparsevit eval --protocol\`
  --limit <n>          Only the first n pairs
  --json               Print one JSON document instead of the table
  -h, --help           Show this help
`;

const values = parseBenchArgs('q8-accuracy', USAGE, {
  weights: { type: 'string' },
  'random-base': { type: 'boolean', default: false },
  'q8-target': { type: 'string', default: 'cpu' },
  pairs: { type: 'string' },
  protocol: { type: 'string', default: 'imdlbenco' },
  limit: { type: 'string' },
  json: { type: 'boolean', default: false },
});
const protocol = values.protocol as EvaluationProtocol;
if (!EVALUATION_PROTOCOLS.includes(protocol)) {
  process.stderr.write(`q8-accuracy: --protocol must be one of ${EVALUATION_PROTOCOLS.join(', ')}\n\n${USAGE.trimEnd()}\n`);
  process.exit(2);
}
const limit = values.limit === undefined ? Infinity : positiveInteger('q8-accuracy', 'limit', values.limit, USAGE);
const require = createRequire(import.meta.url);
const repo = resolve(dirname(require.resolve('@sparsevit/core/package.json')), '..', '..');
const weightsPath = values['random-base'] ? 'seeded random base weights' : values.weights ?? join(repo, 'packages/default-model/model/sparsevit-small-synth-fp16.safetensors');
const pairsPath = values.pairs ?? join(repo, 'data/synth-test/pairs.json');
// Core's reader: the same validation and "Negative" rule as `sparsevit eval`.
const pairs = parsePairList(readFileSync(pairsPath, 'utf8'), { source: pairsPath, resolve: (p) => resolve(dirname(pairsPath), p) }).slice(0, limit);
const DTYPES = ['fp32', 'q8'] as const satisfies readonly OnnxDtype[];

const weightBytes = values['random-base']
  ? writeSafetensors({ tensors: randomStateDict('sparsevit-base') as Map<string, WeightTensor>, metadata: { [CONFIG_METADATA_KEY]: JSON.stringify(BASE_CONFIG) } })
  : new Uint8Array(readFileSync(weightsPath));
const q8Target = values['q8-target'] as Q8Target;
if (q8Target !== 'cpu' && q8Target !== 'wasm') {
  process.stderr.write(`q8-accuracy: --q8-target must be cpu or wasm\n\n${USAGE.trimEnd()}\n`);
  process.exit(2);
}
// Lowered once per dtype; the pipeline (@sparsevit/node, ONNX Runtime CPU) runs those graphs, and
// the same graphs run directly give the logits (the pipeline returns probabilities only).
const built = Object.fromEntries(await Promise.all(DTYPES.map(async (dtype) => [dtype, await buildOnnxModel(bytesSource(weightBytes), { dtype, q8Target })] as const)));
const models = Object.fromEntries(await Promise.all(DTYPES.map(async (dtype) => [dtype, await loadModel({ weights: built[dtype].model, dtype })] as const)));
const sessions = Object.fromEntries(await Promise.all(DTYPES.map(async (dtype) => [dtype, await ort.InferenceSession.create(built[dtype].model)] as const)));
const imgSize = built.fp32.config.img_size;

const accumulators = Object.fromEntries(DTYPES.map((dtype) => [dtype, createEvaluationAccumulator()]));
let maskPixels = 0;
let maskEqual = 0;
let imagesAllEqual = 0;
let labelFlips = 0;
let logitMax = 0;
let logitSum = 0;
let logitCount = 0;
let logitRange = 0;
let probabilityMax = 0;
for (const [i, pairEntry] of pairs.entries()) {
  const image = await decodeImage(pairEntry.image);
  // An authentic ("Negative") entry is scored against an empty mask.
  const mask = pairEntry.mask === null ? emptyMask(image.width, image.height) : binarizeMask(await decodeImage(pairEntry.mask));
  const results = { fp32: await models.fp32.detect(image), q8: await models.q8.detect(image) };
  for (const dtype of DTYPES) {
    const pair = preparePair(results[dtype], mask, protocol);
    accumulators[dtype].add({ id: String(i), ...evaluateImage(pair.pred, pair.gt, { score: results[dtype].score }) });
  }
  let equal = 0;
  for (let p = 0; p < results.fp32.mask.length; p++) {
    if (results.fp32.mask[p] === results.q8.mask[p]) equal++;
    probabilityMax = Math.max(probabilityMax, Math.abs(results.fp32.probability[p] - results.q8.probability[p]));
  }
  maskPixels += results.fp32.mask.length;
  maskEqual += equal;
  if (equal === results.fp32.mask.length) imagesAllEqual++;
  if (results.fp32.score > 0.5 !== results.q8.score > 0.5) labelFlips++;

  const input = new ort.Tensor('float32', preprocess(image, imgSize), [1, 3, imgSize, imgSize]);
  const [a, b] = await Promise.all(DTYPES.map(async (dtype) => (await sessions[dtype].run({ input }, ['logits'])).logits.data as Float32Array));
  for (let p = 0; p < a.length; p++) {
    const d = Math.abs(a[p] - b[p]);
    logitMax = Math.max(logitMax, d);
    logitSum += d;
    logitRange = Math.max(logitRange, Math.abs(a[p]));
  }
  logitCount += a.length;
}
for (const dtype of DTYPES) {
  await models[dtype].dispose();
  await sessions[dtype].release();
}

const summaries = Object.fromEntries(DTYPES.map((dtype) => [dtype, accumulators[dtype].summary()])) as Record<(typeof DTYPES)[number], EvaluationSummary>;
const delta = (key: 'pixel_f1' | 'image_auc' | 'pixel_auc' | 'image_f1') =>
  summaries.q8[key] === null || summaries.fp32[key] === null ? null : summaries.q8[key]! - summaries.fp32[key]!;
const report = {
  weights: weightsPath,
  pairs: pairsPath,
  protocol,
  q8Target,
  images: pairs.length,
  modelMB: { fp32: built.fp32.model.byteLength / 2 ** 20, q8: built.q8.model.byteLength / 2 ** 20 },
  fp32: summaries.fp32,
  q8: summaries.q8,
  delta: { pixel_f1: delta('pixel_f1'), image_auc: delta('image_auc'), pixel_auc: delta('pixel_auc'), image_f1: delta('image_f1') },
  maskAgreement: maskEqual / maskPixels,
  imagesWithIdenticalMasks: imagesAllEqual,
  imageLabelFlips: labelFlips,
  probabilityMaxAbsDiff: probabilityMax,
  logits: { maxAbsDiff: logitMax, meanAbsDiff: logitSum / logitCount, fp32MaxAbs: logitRange },
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} else {
  const f = (v: number | null, digits = 4) => (v === null ? 'n/a' : v.toFixed(digits));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`${weightsPath} on ${pairsPath} (${pairs.length} pairs, protocol ${protocol}, q8 layout for ${q8Target})`);
  log('');
  log('| | fp32 | q8 | q8 - fp32 |');
  log('|---|---|---|---|');
  for (const key of ['pixel_f1', 'pixel_auc', 'image_auc', 'image_f1'] as const) {
    log(`| ${key} | ${f(summaries.fp32[key])} | ${f(summaries.q8[key])} | ${f(report.delta[key])} |`);
  }
  log(`| model MB | ${report.modelMB.fp32.toFixed(2)} | ${report.modelMB.q8.toFixed(2)} | ${(report.modelMB.q8 / report.modelMB.fp32).toFixed(2)}x |`);
  log('');
  log(`mask pixels equal: ${(100 * report.maskAgreement).toFixed(3)}% (${imagesAllEqual} of ${pairs.length} images identical); image labels flipped: ${labelFlips}`);
  log(`probability max |diff| ${probabilityMax.toExponential(2)}; logits max |diff| ${logitMax.toExponential(2)}, mean ${report.logits.meanAbsDiff.toExponential(2)} (fp32 logits reach ${logitRange.toFixed(2)})`);
}
