import { SparseViTError, binarizeMask, preprocess, resizeMaskNearest, type SparseViTConfig } from '@sparsevit/core';
import type { TrainingBatch } from '@sparsevit/train';
import { formatKinds, type KindWeights } from '../kinds-option';
import { loadDataset } from '../eval/dataset';

/** Where a run's samples come from: synthetic manipulations made on the fly, or a Tp/Gt dataset. */
export interface TrainingSource {
  /** What the report and log call it. */
  describe: string;
  /** Number of distinct samples (Infinity for synthetic data). */
  size: number;
  /** Sample `index`, preprocessed for the model; `undefined` when it cannot be read (counted). */
  sample(index: number): Promise<{ image: Float32Array; mask: Float32Array; kind: string } | undefined>;
  /** Samples that could not be read, with the reason. */
  skipped: { id: string; code: string; message: string }[];
  close(): Promise<void>;
}

function toMaskFloats(mask: Uint8Array, width: number, height: number, size: number): Float32Array {
  const resized = width === size && height === size ? mask : resizeMaskNearest(mask, width, height, size, size);
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = resized[i] > 0 ? 1 : 0;
  return out;
}

/**
 * `synth:<photos folder>[#split]`: photos of the manifest's split (train by default).
 *
 * `photoShaped` is the fraction of samples made as `sparsevit synth` writes evaluation sets
 * (photo-shaped, long side 512) and then squashed to the model's input by `preprocess`, as every
 * image is at inference; the rest are square crops at the input size. Run 7, trained on square
 * crops only, scored pixel F1 0.409 / image AUC 0.811 on the test set made square at 256 px but
 * 0.377 / 0.734 on the same images photo-shaped: the resize to a square was not in its training
 * data. Which samples are photo-shaped is a pure function of (seed, index).
 */
export async function synthSource(
  photosRoot: string,
  split: 'train' | 'val' | 'test',
  config: SparseViTConfig,
  seed: number,
  kinds?: KindWeights,
  photoShaped = 0,
): Promise<TrainingSource> {
  const { createSynthesizer, loadPhotoManifest, hashSeed } = await import('@sparsevit/synth');
  const photos = loadPhotoManifest(photosRoot)[split];
  if (photos.length === 0) throw new SparseViTError('INVALID_ARGUMENT', `no ${split} photos under ${photosRoot} (run tooling/scripts/fetch-photos.mjs)`);
  const common = { photos, seed, ...(kinds ? { kinds } : {}) };
  const square = photoShaped < 1 ? await createSynthesizer({ ...common, size: config.img_size }) : undefined;
  const shaped = photoShaped > 0 ? await createSynthesizer({ ...common, maxSide: PHOTO_SHAPED_MAX_SIDE }) : undefined;
  const first = (square ?? shaped) as NonNullable<typeof square>;
  const skipped = first.skipped.map((s) => ({ id: s.path, code: s.error.code, message: s.error.message }));
  const shapeNote = photoShaped > 0 ? `; ${Math.round(photoShaped * 100)}% photo-shaped (long side ${PHOTO_SHAPED_MAX_SIDE}, resized to ${config.img_size}x${config.img_size})` : '';
  return {
    describe: `synthetic manipulations of ${first.photos.length} ${split} photos in ${photosRoot} (seed ${seed}${kinds ? `; kinds ${formatKinds(kinds)}` : ''}${shapeNote})`,
    size: Number.POSITIVE_INFINITY,
    skipped,
    async sample(index) {
      // 2^-32 resolution: a 24-bit draw compared against the fraction.
      const usePhotoShape = shaped !== undefined && (square === undefined || (hashSeed(seed, index, PHOTO_SHAPE_STREAM) >>> 8) / 2 ** 24 < photoShaped);
      const s = await (usePhotoShape ? (shaped as NonNullable<typeof shaped>) : first).sample(index);
      const image = preprocess({ data: s.rgb, width: s.width, height: s.height, channels: 3 }, config.img_size);
      return { image, mask: toMaskFloats(s.mask, s.width, s.height, config.img_size), kind: s.kind };
    },
    async close() {
      await square?.close();
      await shaped?.close();
    },
  };
}

/** The long side of `sparsevit synth`'s photo-shaped images (its default). */
const PHOTO_SHAPED_MAX_SIDE = 512;
/** Keeps the square/photo-shaped draw independent of the synthesizers' own streams. */
const PHOTO_SHAPE_STREAM = 0x5a4e;

/** A Tp/Gt folder or JSON pair list, as `sparsevit eval` reads it; unreadable pairs are skipped and counted. */
export async function datasetSource(target: string, config: SparseViTConfig): Promise<TrainingSource> {
  const { decodeImage } = await import('@sparsevit/node');
  const dataset = await loadDataset(target, { skipUnpaired: true });
  if (dataset.items.length === 0) throw new SparseViTError('INVALID_ARGUMENT', `no image/mask pairs in ${target}`);
  const skipped: TrainingSource['skipped'] = [];
  const failed = new Set<number>();
  return {
    describe: `${dataset.items.length} pairs from ${dataset.path}`,
    size: dataset.items.length,
    skipped,
    async sample(index) {
      const i = index % dataset.items.length;
      if (failed.has(i)) return undefined;
      const item = dataset.items[i];
      try {
        const image = await decodeImage(item.image);
        let mask: Uint8Array = new Uint8Array(image.width * image.height);
        if (item.mask) {
          // Binarised as eval scores masks (core's rule for L, LA, RGB and RGBA masks).
          const m = binarizeMask(await decodeImage(item.mask));
          mask = m.width === image.width && m.height === image.height ? m.data : resizeMaskNearest(m.data, m.width, m.height, image.width, image.height);
        }
        return { image: preprocess(image, config.img_size), mask: toMaskFloats(mask, image.width, image.height, config.img_size), kind: item.mask ? 'manipulated' : 'authentic' };
      } catch (error) {
        failed.add(i);
        const e = error as { code?: string; message?: string };
        skipped.push({ id: item.id, code: e.code ?? 'IO_ERROR', message: String(e.message ?? error).slice(0, 300) });
        return undefined;
      }
    },
    async close() {},
  };
}

/**
 * The micro-batches of optimizer step `step`: samples `(step * perStep + k)` for a synthetic
 * source (a pure function of the step, so a resumed run sees the same data), a seeded
 * permutation per epoch for a dataset. An unreadable sample is replaced by the next index.
 */
export function stepBatches(source: TrainingSource, config: SparseViTConfig, microBatch: number, accumulate: number, seed: number) {
  const perStep = microBatch * accumulate;
  const s = config.img_size;
  const order = (epoch: number): number[] => {
    const n = source.size;
    const idx = Array.from({ length: n }, (_, i) => i);
    let state = (seed * 2654435761 + epoch * 40503) >>> 0;
    for (let i = n - 1; i > 0; i--) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      const j = state % (i + 1);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx;
  };
  const orders = new Map<number, number[]>();
  const indexAt = (k: number): number => {
    if (!Number.isFinite(source.size)) return k;
    const epoch = Math.floor(k / source.size);
    if (!orders.has(epoch)) {
      orders.clear();
      orders.set(epoch, order(epoch));
    }
    return (orders.get(epoch) as number[])[k % source.size];
  };
  return async (step: number): Promise<TrainingBatch[]> => {
    const batches: TrainingBatch[] = [];
    for (let a = 0; a < accumulate; a++) {
      const base = (step * accumulate + a) * microBatch;
      const samples = await Promise.all(
        Array.from({ length: microBatch }, async (_, k) => {
          // Replaced by later indices of a far range when unreadable; bounded attempts.
          for (let attempt = 0; attempt < 16; attempt++) {
            const got = await source.sample(indexAt(base + k + attempt * perStep * 1_000_003));
            if (got) return got;
          }
          throw new SparseViTError('INVALID_ARGUMENT', `training data: 16 samples in a row could not be read (${source.skipped.length} skipped so far)`);
        }),
      );
      const images = new Float32Array(microBatch * 3 * s * s);
      const masks = new Float32Array(microBatch * s * s);
      samples.forEach((x, i) => {
        images.set(x.image, i * 3 * s * s);
        masks.set(x.mask, i * s * s);
      });
      batches.push({ images, masks, n: microBatch });
    }
    return batches;
  };
}

/** A fixed validation set of `count` samples (indices 0..count-1 of `source`). */
export async function validationBatches(source: TrainingSource, config: SparseViTConfig, count: number, microBatch: number): Promise<TrainingBatch[]> {
  const s = config.img_size;
  const batches: TrainingBatch[] = [];
  let index = 0;
  const limit = Number.isFinite(source.size) ? Math.min(count, source.size) : count;
  for (let done = 0; done < limit; ) {
    const n = Math.min(microBatch, limit - done);
    const images = new Float32Array(n * 3 * s * s);
    const masks = new Float32Array(n * s * s);
    let filled = 0;
    while (filled < n && index < limit * 4) {
      const got = await source.sample(index++);
      if (!got) continue;
      images.set(got.image, filled * 3 * s * s);
      masks.set(got.mask, filled * s * s);
      filled++;
    }
    if (filled === 0) break;
    batches.push({ images: images.subarray(0, filled * 3 * s * s), masks: masks.subarray(0, filled * s * s), n: filled });
    done += filled;
  }
  return batches;
}
