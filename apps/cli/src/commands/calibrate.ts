import { resolve } from 'node:path';
import {
  calibrateOutputThreshold,
  createThresholdSweep,
  EVALUATION_PROTOCOLS,
  logitShiftForThreshold,
  preparePair,
  SparseViTError,
  type BinaryMask,
  type EvaluationProtocol,
  type ThresholdSweepPoint,
  type ThresholdSweepResult,
} from '@sparsevit/core';
import { parseCommandArgs } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { loadConfigOption } from '../config-option';
import { errorRecord } from '../errors';
import { loadDataset, pairingNotices, type EvalItem } from '../eval/dataset';
import { createItemPreparer, detectBatches } from '../eval/passes';
import { formatBytes } from '../format-bytes';
import { CALIBRATE_USAGE, printHelp } from '../help';
import { loadCliModel } from '../load-cli-model';
import { readCheckedWeights, safetensorsWithConfig } from '../model-files';
import { MODEL_OPTIONS, parseModelOptions } from '../model-options';
import { createProgress } from '../progress';
import { UsageError } from '../usage-error';
import { version } from '../version';

const warn = (line: string) => void process.stderr.write(`${line}\n`);

/** The F1 curve on stdout: every 0.05, and the chosen threshold marked; bars relative to the best. */
function curveLines(result: ThresholdSweepResult, best: ThresholdSweepPoint): string[] {
  const shown = result.points.filter((p) => Math.abs(p.threshold * 20 - Math.round(p.threshold * 20)) < 1e-9 || p === best);
  return shown.map((p) => {
    const bar = '#'.repeat(best.pixel_f1 > 0 ? Math.round((40 * p.pixel_f1) / best.pixel_f1) : 0);
    return `  ${p.threshold.toFixed(2)}  F1 ${p.pixel_f1.toFixed(4)}  ${bar}${p === best ? '  <- chosen' : ''}`;
  });
}

/** `sparsevit calibrate`: returns the exit code (0 written, 1 a failure). */
export async function calibrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('calibrate', argv, {
    ...MODEL_OPTIONS,
    protocol: { type: 'string', short: 'p' },
    'skip-unpaired': { type: 'boolean' },
  });
  if (values.help) return printHelp(CALIBRATE_USAGE);
  if (values.threshold !== undefined) throw new UsageError('calibrate chooses the threshold itself: --threshold does not apply', 'calibrate');
  const settings = parseModelOptions('calibrate', values);
  const output = settings.outDir;
  const protocol = ((values.protocol as string | undefined) ?? 'imdlbenco') as EvaluationProtocol;
  if (!EVALUATION_PROTOCOLS.includes(protocol)) throw new UsageError(`--protocol must be one of ${EVALUATION_PROTOCOLS.join(', ')}, got "${protocol}"`, 'calibrate');
  if (positionals.length !== 1) throw new UsageError(`expected one validation dataset (a folder with Tp/ and Gt/, or a JSON pair list), got ${positionals.length}`, 'calibrate');
  if (!output.endsWith('.safetensors')) throw new UsageError(`--out is the calibrated weights file and must end in .safetensors, got "${output}"`, 'calibrate');
  if (settings.weights.endsWith('.onnx')) throw new UsageError('calibrate rewrites the weights: give the .safetensors or .pth the .onnx was made from', 'calibrate');
  if (resolve(output) === resolve(settings.weights)) throw new UsageError('--out must not be the --weights file', 'calibrate');
  const [datasetPath] = positionals;

  // 1. The validation images, read as `sparsevit eval` reads them.
  const dataset = await loadDataset(datasetPath, { skipUnpaired: Boolean(values['skip-unpaired']) });
  for (const line of pairingNotices(dataset)) warn(line);
  const { items } = dataset;

  // 2. Every image's map into the sweep, scored as eval scores it (same protocol and masks).
  const model = await loadCliModel(settings, warn);
  // The default thresholds (0.01 ... 0.99) include 0.5 itself: the uncalibrated figure.
  const sweep = createThresholdSweep();
  // No perturbation is applied, so the noise seed is never read.
  const prepare = await createItemPreparer({ maxPixels: settings.maxPixels, seed: 0 });
  const progress = createProgress(items.length, process.stderr, { label: 'calibrate' });
  let done = 0;
  let failed = 0;
  try {
    const batches: EvalItem[][] = [];
    for (let start = 0; start < items.length; start += settings.batchSize) batches.push(items.slice(start, start + settings.batchSize));
    for await (const batch of detectBatches(batches, { model, prepare, perturbation: null, batchSize: settings.batchSize })) {
      batch.prepared.forEach((p, i) => {
        const outcome = batch.outcomes[i];
        const error = p.error ?? (outcome && !outcome.ok ? errorRecord(outcome.error) : undefined);
        if (error || !outcome?.ok) {
          // One unreadable image is counted and named, never the end of the run.
          failed++;
          progress.log(`sparsevit: ${p.item.id}: ${error?.code ?? 'INTERNAL'}: ${error?.message ?? 'no result'}`);
        } else {
          const pair = preparePair(outcome.result, p.mask as BinaryMask, protocol);
          sweep.add(pair.pred, pair.gt);
        }
        progress.update(++done, failed);
      });
    }
  } finally {
    progress.stop();
    await model.dispose();
  }
  const result = sweep.result();
  if (!result.best) {
    throw new SparseViTError('INVALID_ARGUMENT', `no image of ${datasetPath} that could be read has a manipulated pixel: a threshold cannot be chosen without them`);
  }
  const best = result.best;
  const atHalf = result.points.find((p) => p.threshold === 0.5)!;

  // 3. The weights again, from the file (so the dtype and every tensor are kept), shifted.
  const { store, config } = await readCheckedWeights(settings.weights, await loadConfigOption(settings.config));
  const calibrated = calibrateOutputThreshold(store, best.threshold, {
    data: datasetPath,
    images: result.images,
    manipulated: result.manipulated,
    failed,
    protocol,
    pixelF1Before: atHalf.pixel_f1,
    pixelF1: best.pixel_f1,
    by: `sparsevit calibrate ${version}`,
  });
  const bytes = safetensorsWithConfig(calibrated, config);
  await writeFileAtomic(output, bytes);

  const out = process.stdout;
  out.write(`sparsevit: calibrate: ${result.images} images (${result.manipulated} manipulated), ${failed} failed; mean pixel F1 by threshold:\n`);
  for (const line of curveLines(result, best)) out.write(`${line}\n`);
  out.write(
    `sparsevit: threshold ${best.threshold.toFixed(2)} gives pixel F1 ${best.pixel_f1.toFixed(4)} against ${atHalf.pixel_f1.toFixed(4)} at 0.5; ` +
      `wrote ${output} (${formatBytes(bytes.byteLength)}), whose 0.5 is that threshold (logits shifted by ${logitShiftForThreshold(best.threshold).toFixed(4)})\n`,
  );
  return failed > 0 ? 1 : 0;
}
