import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import sharp from 'sharp';
import { SparseViTError, isSparseViTError } from '@sparsevit/core';
import { hashSeed, Random } from './random';
import { createSynthesizer, kindWeights, MANIPULATION_KINDS, type ManipulationKind, type SkippedPhoto, type SynthesizerOptions } from './synthesizer';

export interface WriteSynthDatasetOptions extends SynthesizerOptions {
  /** Output folder: empty, absent, or an earlier synth dataset (which is replaced). */
  out: string;
  /** Number of images. */
  count: number;
  /** Called after each image with the images done so far and the failures among them. */
  onProgress?: (done: number, total: number, failed: number) => void;
  /** Stops after the image in progress; what was written is listed (`interrupted: true`). */
  signal?: AbortSignal;
}

/** One written image, as listed in `synth.json`. */
export interface SynthDatasetItem {
  index: number;
  kind: ManipulationKind;
  /** Relative to the dataset folder. */
  image: string;
  /** Relative to the dataset folder; `null` for an authentic image. */
  mask: string | null;
  width: number;
  height: number;
  maskFraction: number;
  photo: string;
  donor?: string;
  manipulation?: unknown;
  steps: string[];
}

export interface SynthDatasetResult {
  out: string;
  /** Images written per kind. */
  kinds: Record<ManipulationKind, number>;
  items: SynthDatasetItem[];
  /** Samples that failed (a photo that became unreadable after the start), with the reason. */
  failed: { index: number; error: string }[];
  skippedPhotos: SkippedPhoto[];
  /** `<out>/pairs.json`: the IMDLBenCo pair list, authentic images as "Negative". */
  pairList: string;
  /** `<out>/synth.json`: what was made, and how. */
  manifest: string;
  /** The signal fired before every image was written. */
  interrupted: boolean;
}

export const SYNTH_MANIFEST = 'synth.json';
export const PAIR_LIST = 'pairs.json';

/**
 * Exact counts per kind for `count` images (largest remainder over the weights), in an order
 * shuffled by the seed, so a dataset has the configured proportions, not a random draw of them.
 */
export function kindSchedule(count: number, weights: readonly number[], seed: number): ManipulationKind[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (w / total) * count);
  const counts = exact.map(Math.floor);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; counts.reduce((a, b) => a + b, 0) < count; k++) counts[order[k % order.length][1]]++;
  const list: ManipulationKind[] = [];
  counts.forEach((n, i) => {
    for (let j = 0; j < n; j++) list.push(MANIPULATION_KINDS[i]);
  });
  const random = new Random(hashSeed(seed, 0x5eed));
  for (let i = list.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

async function prepareOut(out: string): Promise<void> {
  if (!existsSync(out)) {
    await mkdir(out, { recursive: true });
    return;
  }
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the output folder ${out}: ${(error as Error).message}`, { cause: error });
  }
  if (entries.length === 0) return;
  if (!entries.includes(SYNTH_MANIFEST)) {
    throw new SparseViTError('INVALID_ARGUMENT', `the output folder ${out} is not empty and holds no ${SYNTH_MANIFEST}: refusing to write a dataset into it`);
  }
  // An earlier synth dataset: replace it whole, so no stale image of a larger run stays behind.
  for (const name of ['Tp', 'Gt', 'Au', PAIR_LIST, SYNTH_MANIFEST]) await rm(join(out, name), { recursive: true, force: true });
}

async function writePng(path: string, data: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<void> {
  try {
    await sharp(data, { raw: { width, height, channels } }).png({ compressionLevel: 6 }).toFile(path);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Writes `count` samples as a dataset `sparsevit eval` reads: `Tp/<name>.png` manipulated images,
 * `Gt/<name>_gt.png` their masks (0/255), `Au/<name>.png` authentic images, plus `pairs.json`
 * (the IMDLBenCo pair list with authentic images as `"Negative"`, label 0: evaluate that file to
 * score authentic images; the folder alone pairs `Tp/` with `Gt/`) and `synth.json` (options,
 * photos, and every image's kind, mask fraction and steps). Images are PNG, so the
 * post-processing (JPEG included) reaches the file unchanged. Kinds come in exact proportions
 * ({@link kindSchedule}); sample `i` is `createSynthesizer(options).sample(i, { kind })`.
 *
 * @example
 * const { test } = loadPhotoManifest('data/photos');
 * await writeSynthDataset({ photos: test, seed: 1, count: 250, out: 'data/synth-test' });
 */
export async function writeSynthDataset(options: WriteSynthDatasetOptions): Promise<SynthDatasetResult> {
  const { out: outArg, count, onProgress, signal, ...synthOptions } = options;
  if (!Number.isSafeInteger(count) || count < 1) throw new SparseViTError('INVALID_ARGUMENT', `count must be a positive integer, got ${String(count)}`);
  const out = resolve(outArg);
  const synth = await createSynthesizer(synthOptions);
  try {
    await prepareOut(out);
    for (const d of ['Tp', 'Gt', 'Au']) await mkdir(join(out, d), { recursive: true });
    const schedule = kindSchedule(count, kindWeights(synthOptions.kinds), synthOptions.seed);
    const kinds = Object.fromEntries(MANIPULATION_KINDS.map((k) => [k, 0])) as Record<ManipulationKind, number>;
    const items: SynthDatasetItem[] = [];
    const failed: { index: number; error: string }[] = [];
    const digits = Math.max(4, String(count - 1).length);
    let interrupted = false;
    for (let index = 0; index < count; index++) {
      if (signal?.aborted) {
        interrupted = true;
        break;
      }
      let s;
      try {
        s = await synth.sample(index, { kind: schedule[index] });
      } catch (error) {
        // A photo that stopped reading or decoding since the start costs one image, not the run.
        if (!isSparseViTError(error) || (error.code !== 'INVALID_IMAGE' && error.code !== 'IO_ERROR')) throw error;
        failed.push({ index, error: error.message });
        onProgress?.(index + 1, count, failed.length);
        continue;
      }
      const name = `synth-${String(index).padStart(digits, '0')}-${s.kind}`;
      const authentic = s.kind === 'authentic';
      const image = authentic ? `Au/${name}.png` : `Tp/${name}.png`;
      const mask = authentic ? null : `Gt/${name}_gt.png`;
      await writePng(join(out, image), s.rgb, s.width, s.height, 3);
      if (mask) {
        const m = new Uint8Array(s.mask.length);
        for (let i = 0; i < m.length; i++) m[i] = s.mask[i] ? 255 : 0;
        await writePng(join(out, mask), m, s.width, s.height, 1);
      }
      kinds[s.kind]++;
      items.push({
        index,
        kind: s.kind,
        image,
        mask,
        width: s.width,
        height: s.height,
        maskFraction: s.maskFraction,
        photo: relative(out, s.photo),
        donor: s.donor === undefined ? undefined : relative(out, s.donor),
        manipulation: s.manipulation,
        steps: s.steps,
      });
      onProgress?.(index + 1, count, failed.length);
    }
    const pairList = join(out, PAIR_LIST);
    const manifest = join(out, SYNTH_MANIFEST);
    const pairs = items.map((it) => [it.image, it.mask ?? 'Negative']);
    await writeFile(pairList, `${JSON.stringify(pairs, null, 1)}\n`);
    const { photos, ...settings } = synthOptions;
    await writeFile(
      manifest,
      `${JSON.stringify(
        {
          generator: '@sparsevit/synth',
          settings: { ...settings, count },
          interrupted,
          photos: synth.photos.map((p) => relative(out, p)),
          skippedPhotos: synth.skipped.map((s) => ({ path: relative(out, s.path), error: s.error.message })),
          kinds,
          failed,
          items,
        },
        null,
        1,
      )}\n`,
    );
    return { out, kinds, items, failed, skippedPhotos: [...synth.skipped], pairList, manifest, interrupted };
  } finally {
    await synth.close();
  }
}
