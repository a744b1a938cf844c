import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { WriteSynthDatasetOptions } from '@sparsevit/synth';
import { numberOption, parseCommandArgs, requiredOption } from '../args';
import { printHelp, SYNTH_USAGE } from '../help';
import { createProgress } from '../progress';
import { parseKindsOption, type KindWeights } from '../kinds-option';
import { UsageError } from '../usage-error';

/** The manipulated kinds keep their ratios and share 1 - f; authentic gets f. */
function withAuthenticFraction(weights: KindWeights, fraction: number): KindWeights {
  const kinds = Object.keys(weights) as (keyof KindWeights)[];
  const manipulated = kinds.filter((k) => k !== 'authentic').reduce((s, k) => s + weights[k], 0);
  if (manipulated === 0 && fraction < 1) throw new UsageError('--authentic-fraction < 1 needs a manipulated kind with a weight > 0', 'synth');
  const out = { ...weights, authentic: fraction };
  for (const k of kinds) if (k !== 'authentic') out[k] = manipulated === 0 ? 0 : (weights[k] / manipulated) * (1 - fraction);
  return out;
}

/** `sparsevit synth`: returns the exit code (0 all written, 1 any image failed, 130 interrupted). */
export async function synthCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('synth', argv, {
    photos: { type: 'string', short: 'p' },
    manifest: { type: 'string' },
    split: { type: 'string' },
    count: { type: 'string', short: 'n' },
    seed: { type: 'string' },
    out: { type: 'string', short: 'o' },
    size: { type: 'string' },
    'max-side': { type: 'string' },
    kinds: { type: 'string' },
    'authentic-fraction': { type: 'string' },
    area: { type: 'string' },
    'no-postprocess': { type: 'boolean' },
  });
  if (values.help) return printHelp(SYNTH_USAGE);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, 'synth');
  const photosDir = requiredOption('synth', 'photos', values.photos as string | undefined);
  const out = requiredOption('synth', 'out', values.out as string | undefined);
  const count = numberOption('synth', 'count', requiredOption('synth', 'count', values.count as string | undefined), { integer: true, min: 1, max: 10_000_000 })!;
  const seed = numberOption('synth', 'seed', values.seed as string | undefined, { integer: true, min: 0 }) ?? 0;
  const size = numberOption('synth', 'size', values.size as string | undefined, { integer: true, min: 16, max: 4096 });
  const maxSide = numberOption('synth', 'max-side', values['max-side'] as string | undefined, { integer: true, min: 16, max: 4096 });
  if (size !== undefined && maxSide !== undefined) throw new UsageError('--size and --max-side exclude each other', 'synth');
  let kinds = values.kinds === undefined ? { ...(await import('@sparsevit/synth')).DEFAULT_KIND_WEIGHTS } : await parseKindsOption('synth', values.kinds as string);
  const authentic = numberOption('synth', 'authentic-fraction', values['authentic-fraction'] as string | undefined, { min: 0, max: 1 });
  if (authentic !== undefined) kinds = withAuthenticFraction(kinds, authentic);
  let areaRange: [number, number] | undefined;
  if (values.area !== undefined) {
    const parts = (values.area as string).split(',').map((v) => numberOption('synth', 'area', v, { min: 0.0001, max: 0.95 })!);
    if (parts.length !== 2 || parts[0] > parts[1]) throw new UsageError(`--area expects min,max fractions with min <= max, got "${String(values.area)}"`, 'synth');
    areaRange = [parts[0], parts[1]];
  }
  const split = values.split as string | undefined;
  if (split !== undefined && !['train', 'val', 'test'].includes(split)) throw new UsageError(`--split must be train, val or test, got "${split}"`, 'synth');
  if (!existsSync(photosDir) || !statSync(photosDir).isDirectory()) throw new UsageError(`--photos must be a folder, got "${photosDir}"`, 'synth');

  const synth = await import('@sparsevit/synth');
  // A folder from fetch-photos.mjs has a manifest with the splits; any other folder is used whole.
  const manifest = (values.manifest as string | undefined) ?? join(photosDir, 'manifest.json');
  let photos: string[];
  let source: string;
  if (values.manifest !== undefined || existsSync(manifest)) {
    const chosen = (split ?? 'test') as 'train' | 'val' | 'test';
    photos = synth.loadPhotoManifest(photosDir, manifest)[chosen];
    source = `${chosen} split of ${manifest}`;
    if (photos.length === 0) throw new UsageError(`the ${chosen} split of ${manifest} has no photo`, 'synth');
  } else {
    if (split !== undefined) throw new UsageError(`--split needs a photo manifest (${manifest} is missing)`, 'synth');
    photos = synth.findPhotos(photosDir);
    source = photosDir;
    if (photos.length === 0) throw new UsageError(`no image in ${photosDir}`, 'synth');
  }

  const progress = createProgress(count, process.stderr, { label: 'synth' });
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const options: WriteSynthDatasetOptions = {
    photos,
    seed,
    out,
    count,
    size,
    maxSide,
    kinds,
    areaRange,
    postprocess: !values['no-postprocess'],
    signal: controller.signal,
    onProgress: (done, _total, failed) => progress.update(done, failed),
  };
  let result;
  try {
    result = await synth.writeSynthDataset(options);
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.stop();
  }
  for (const s of result.skippedPhotos) process.stderr.write(`sparsevit: synth: skipped photo ${s.path}: ${s.error.message}\n`);
  for (const f of result.failed) process.stderr.write(`sparsevit: synth: image ${f.index} failed: ${f.error}\n`);
  const written = result.items.length;
  const summary = synth.MANIPULATION_KINDS.map((k) => `${k} ${result.kinds[k]}`).join(', ');
  process.stdout.write(
    `sparsevit: synth: wrote ${written} images to ${result.out} (${summary}; ${result.failed.length} failed) ` +
      `from ${photos.length - result.skippedPhotos.length} photos (${source}; ${result.skippedPhotos.length} skipped)` +
      `${result.interrupted ? '; interrupted' : ''}\n` +
      `sparsevit: synth: ${result.manifest} lists every image; evaluate with: sparsevit eval ${result.pairList} --weights <file> --out <dir>\n`,
  );
  return result.interrupted ? 130 : result.failed.length > 0 ? 1 : 0;
}
