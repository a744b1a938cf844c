import { SparseViTError, isSparseViTError } from '@sparsevit/core';
import { jpegRoundTrip } from './jpeg';
import { copyMove, removal, splice, type ManipulationInfo } from './manipulate';
import { PhotoCache } from './photos';
import { hashSeed, pickWeighted, Random } from './random';
import { brightnessContrast, createRaster, flipHorizontal, flipVertical, gaussianBlur, resample, resizeNearest, rotate90, type Raster } from './raster';

export type ManipulationKind = 'splice' | 'copy-move' | 'removal' | 'authentic';

export const MANIPULATION_KINDS: readonly ManipulationKind[] = ['splice', 'copy-move', 'removal', 'authentic'];

/** Default mix: splice .4, copy-move .2, removal .15, authentic .25. */
export const DEFAULT_KIND_WEIGHTS: Readonly<Record<ManipulationKind, number>> = { splice: 0.4, 'copy-move': 0.2, removal: 0.15, authentic: 0.25 };

export interface SynthSample {
  /** width*height*3, interleaved RGB, row-major. */
  rgb: Uint8Array;
  /** width*height, 1 = manipulated pixel, 0 = authentic (exact, after all transforms). */
  mask: Uint8Array;
  width: number;
  height: number;
  kind: ManipulationKind;
  /** The sample's index. */
  index: number;
  /** The host photo's path. */
  photo: string;
  /** The donor photo's path (splice only). */
  donor?: string;
  /** Fraction of the pixels that are manipulated. */
  maskFraction: number;
  /** How the manipulation was drawn (`undefined` for authentic). */
  manipulation?: ManipulationInfo;
  /** The post-processing steps applied, in order (`hflip`, `jpeg:83`, `blur:5`, ...). */
  steps: string[];
}

export interface SynthesizerOptions {
  /** File paths of source photos (the trainer passes the train split). */
  photos: string[];
  seed: number;
  /** Output is size x size when given (training); else photo-shaped, long side <= maxSide. */
  size?: number;
  /** Default 512. */
  maxSide?: number;
  /** Weights; default splice .4, copy-move .2, removal .15, authentic .25. Missing kinds weigh 0 when any is given. */
  kinds?: Partial<Record<ManipulationKind, number>>;
  /** The authors' training augmentations plus double JPEG, default true. */
  postprocess?: boolean;
  /** Manipulated area as a fraction of the image (log-uniform). Default [0.02, 0.35]. */
  areaRange?: [number, number];
  /**
   * Decoded photos kept in memory (LRU). Default 256: at the default working side a photo takes
   * about 1.2 MB decoded, so all 152 fetched photos fit in ~190 MB; with 64, training on the 109
   * train photos kept decoding photos again, and a training run (batch 8, ONNX Runtime, 2 cores)
   * made 10.5 img/s; resumed with 256, the same run made 12.7.
   */
  cacheSize?: number;
  /** Short side photos are decoded to. Default max(480, 1.5 x the output's side). */
  workingSide?: number;
}

export interface SampleOverrides {
  /** Makes this kind instead of drawing one from the weights (the rest of the draw is unchanged). */
  kind?: ManipulationKind;
}

export interface SkippedPhoto {
  path: string;
  error: SparseViTError;
}

export interface Synthesizer {
  /** A pure function of (seed, index, usable photos): random access, same bytes every time. */
  sample(index: number, overrides?: SampleOverrides): Promise<SynthSample>;
  /** The photos that decoded, in the order given; samples draw from these. */
  readonly photos: readonly string[];
  /** Photos that could not be read or decoded, with the reason; they are never used. */
  readonly skipped: readonly SkippedPhoto[];
  close(): Promise<void>;
}

function checkOptions(options: SynthesizerOptions): void {
  const bad = (message: string) => new SparseViTError('INVALID_ARGUMENT', `createSynthesizer: ${message}`);
  if (!Array.isArray(options.photos) || options.photos.length === 0) throw bad('photos must be a non-empty list of file paths');
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw bad(`seed must be a non-negative integer, got ${String(options.seed)}`);
  if (options.size !== undefined && (!Number.isInteger(options.size) || options.size < 16 || options.size > 4096)) throw bad(`size must be an integer in [16, 4096], got ${String(options.size)}`);
  if (options.maxSide !== undefined && (!Number.isInteger(options.maxSide) || options.maxSide < 16 || options.maxSide > 4096)) {
    throw bad(`maxSide must be an integer in [16, 4096], got ${String(options.maxSide)}`);
  }
  for (const [kind, weight] of Object.entries(options.kinds ?? {})) {
    if (!MANIPULATION_KINDS.includes(kind as ManipulationKind)) throw bad(`unknown manipulation kind "${kind}" (${MANIPULATION_KINDS.join(', ')})`);
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) throw bad(`the weight of ${kind} must be a finite number >= 0`);
  }
  if (options.kinds && !Object.values(options.kinds).some((w) => (w ?? 0) > 0)) throw bad('at least one kind needs a weight > 0');
  const area = options.areaRange;
  if (area && !(area.length === 2 && area[0] > 0 && area[0] <= area[1] && area[1] < 1)) throw bad('areaRange must be [min, max] with 0 < min <= max < 1');
}

/** The kind weights in {@link MANIPULATION_KINDS} order. */
export function kindWeights(kinds?: Partial<Record<ManipulationKind, number>>): number[] {
  return MANIPULATION_KINDS.map((k) => (kinds ? (kinds[k] ?? 0) : DEFAULT_KIND_WEIGHTS[k]));
}

/**
 * Creates a synthesizer over `options.photos`. Every photo is decoded once here, so unreadable
 * or corrupt ones are found up front, skipped and listed in `skipped` (never fatal, unless none
 * is left: `INVALID_ARGUMENT`), and `sample` stays a pure function of its index.
 *
 * @example
 * const synth = await createSynthesizer({ photos: loadPhotoManifest('data/photos').train, seed: 1, size: 256 });
 * const { rgb, mask, kind } = await synth.sample(0);
 */
export async function createSynthesizer(options: SynthesizerOptions): Promise<Synthesizer> {
  checkOptions(options);
  const maxSide = options.maxSide ?? 512;
  const side = options.size ?? maxSide;
  const cache = new PhotoCache(options.workingSide ?? Math.max(480, Math.ceil(side * 1.5)), options.cacheSize ?? 256);
  const usable: string[] = [];
  const skipped: SkippedPhoto[] = [];
  for (const path of options.photos) {
    try {
      await cache.get(path);
      usable.push(path);
    } catch (error) {
      skipped.push({ path, error: isSparseViTError(error) ? error : new SparseViTError('INVALID_IMAGE', `cannot decode the photo ${path}`, { cause: error }) });
    }
  }
  if (usable.length === 0) {
    throw new SparseViTError('INVALID_ARGUMENT', `createSynthesizer: none of the ${options.photos.length} photos could be decoded (first: ${skipped[0]?.error.message})`, {
      details: { skipped },
    });
  }
  const weights = kindWeights(options.kinds);
  const postprocess = options.postprocess ?? true;
  const areaRange = options.areaRange;
  let closed = false;

  async function sample(index: number, overrides: SampleOverrides = {}): Promise<SynthSample> {
    if (closed) throw new SparseViTError('DISPOSED', 'the synthesizer was closed');
    if (!Number.isSafeInteger(index) || index < 0) throw new SparseViTError('INVALID_ARGUMENT', `sample index must be a non-negative integer, got ${String(index)}`);
    if (overrides.kind !== undefined && !MANIPULATION_KINDS.includes(overrides.kind)) {
      throw new SparseViTError('INVALID_ARGUMENT', `unknown manipulation kind "${String(overrides.kind)}"`);
    }
    const random = new Random(hashSeed(options.seed, index));
    // Separate streams, so that overriding the kind leaves the photo, crop and post-processing
    // draws of the sample as they were.
    const drawn = MANIPULATION_KINDS[pickWeighted(random, weights)];
    const kind = overrides.kind ?? drawn;
    const geometry = random.fork(1);
    const manipulation = random.fork(2);
    const post = random.fork(3);

    const hostIndex = geometry.int(usable.length);
    const donorIndex = usable.length > 1 ? (hostIndex + 1 + geometry.int(usable.length - 1)) % usable.length : hostIndex;
    const host = await cache.get(usable[hostIndex]);
    // RandomScale(0.2): the manipulation is made at 1/f of the output size, and the result resized.
    const f = postprocess ? geometry.range(0.8, 1.2) : 1;
    let outW: number;
    let outH: number;
    let crop: { x: number; y: number; width: number; height: number };
    if (options.size !== undefined) {
      outW = outH = options.size;
      const short = Math.min(host.width, host.height);
      const min = Math.min(short, options.size / f);
      const c = min * (short / min) ** geometry.next();
      crop = { x: geometry.range(0, host.width - c), y: geometry.range(0, host.height - c), width: c, height: c };
    } else {
      // Half the crops keep the photo's aspect, half take another in [0.6, 1.67].
      const aspect = geometry.chance(0.5) ? host.width / host.height : geometry.logRange(0.6, 1 / 0.6);
      let cw = host.width;
      let ch = host.width / aspect;
      if (ch > host.height) {
        ch = host.height;
        cw = host.height * aspect;
      }
      const u = geometry.range(0.6, 1);
      cw *= u;
      ch *= u;
      crop = { x: geometry.range(0, host.width - cw), y: geometry.range(0, host.height - ch), width: cw, height: ch };
      const long = Math.min(maxSide, Math.max(16, Math.round(Math.max(cw, ch))));
      outW = Math.max(1, Math.round(aspect >= 1 ? long : long * aspect));
      outH = Math.max(1, Math.round(aspect >= 1 ? long / aspect : long));
    }
    const workW = Math.max(8, Math.round(outW / f));
    const workH = Math.max(8, Math.round(outH / f));
    let base = resample(host, workW, workH, crop);
    const steps: string[] = [];
    if (f !== 1) steps.push(`scale:${f.toFixed(3)}`);
    // Double JPEG: the host is compressed before the manipulation and the result again at the end.
    const doubleJpeg = postprocess && post.chance(0.2);
    let secondQuality = 0;
    if (doubleJpeg) {
      const first = post.intRange(60, 95);
      do secondQuality = post.intRange(60, 100);
      while (Math.abs(secondQuality - first) < 5);
      base = await jpegRoundTrip(base, first);
      steps.push(`jpeg-first:${first}`);
    }

    let rgb: Raster;
    let mask: Raster;
    let info: ManipulationInfo | undefined;
    let donor: string | undefined;
    const manipulationOptions = { areaRange };
    if (kind === 'splice') {
      donor = usable[donorIndex];
      const donorPhoto = await cache.get(donor);
      ({ rgb, mask, info } = splice(base, donorPhoto, workW / crop.width, manipulation, manipulationOptions));
    } else if (kind === 'copy-move') {
      ({ rgb, mask, info } = copyMove(base, manipulation, manipulationOptions));
    } else if (kind === 'removal') {
      ({ rgb, mask, info } = removal(base, manipulation, manipulationOptions));
    } else {
      rgb = base;
      mask = createRaster(workW, workH, 1);
    }

    if (postprocess) {
      if (workW !== outW || workH !== outH) {
        rgb = resample(rgb, outW, outH);
        mask = resizeNearest(mask, outW, outH);
      }
      // The authors' training augmentations, in their order (utils/sparsevit_transforms.py).
      if (post.chance(0.5)) {
        rgb = flipHorizontal(rgb);
        mask = flipHorizontal(mask);
        steps.push('hflip');
      }
      if (post.chance(0.5)) {
        rgb = flipVertical(rgb);
        mask = flipVertical(mask);
        steps.push('vflip');
      }
      const alpha = 1 + post.range(-0.1, 0.1);
      const beta = post.range(-0.1, 0.1);
      rgb = brightnessContrast(rgb, alpha, beta);
      steps.push(`contrast:${alpha.toFixed(3)},brightness:${beta.toFixed(3)}`);
      if (post.chance(0.2)) {
        const q = post.intRange(70, 100);
        rgb = await jpegRoundTrip(rgb, q);
        steps.push(`jpeg:${q}`);
      }
      if (post.chance(0.5)) {
        const k = post.intRange(0, 3);
        rgb = rotate90(rgb, k);
        mask = rotate90(mask, k);
        steps.push(`rot90:${k}`);
      }
      if (post.chance(0.2)) {
        const ksize = post.pick([3, 5, 7]);
        rgb = gaussianBlur(rgb, ksize);
        steps.push(`blur:${ksize}`);
      }
      if (doubleJpeg) {
        rgb = await jpegRoundTrip(rgb, secondQuality);
        steps.push(`jpeg-second:${secondQuality}`);
      }
    }
    let ones = 0;
    for (const v of mask.data) ones += v;
    return {
      rgb: rgb.data,
      mask: mask.data,
      width: rgb.width,
      height: rgb.height,
      kind,
      index,
      photo: usable[hostIndex],
      donor,
      maskFraction: ones / mask.data.length,
      manipulation: info,
      steps,
    };
  }

  return {
    sample,
    photos: usable,
    skipped,
    async close() {
      closed = true;
      cache.clear();
    },
  };
}
