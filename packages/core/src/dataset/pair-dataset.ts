import { SparseViTError } from '../errors';

/**
 * Pairing of a folder dataset (`Tp/` images, `Gt/` masks) by file name. Pure logic on the
 * names: the caller lists the folders (fs, File System Access API, a zip...) and joins paths.
 *
 * Unlike IMDLBenCo's `ManiDataset`, which sorts both listings and pairs them by position (one
 * missing file silently shifts every later pair), images and masks are matched by stem:
 * - `Tp/<stem>.<ext>` pairs with `Gt/<stem>.<ext>`, `Gt/<stem>_gt.<ext>` or `Gt/<stem>_mask.<ext>`
 *   (CASIA style: `Sp_D_CND_A_pla0005_pla0023_0281.jpg` with `..._0281_gt.png`);
 * - any of {@link IMAGE_EXTENSIONS} on either side, compared case-insensitively; stems are
 *   case-sensitive;
 * - other files (and names starting with a dot: `.DS_Store`) are ignored and listed in `ignored`.
 *
 * Ambiguity is resolved deterministically and reported, never fatal: every (image, mask)
 * candidate gets a rank (0 same stem, 1 `_gt`, 2 `_mask`), candidates are taken in order of
 * rank, then image name, then mask name (code-unit order), and a candidate is used when neither
 * its image nor its mask is taken yet. So with `Gt/x.png` and `Gt/x_gt.png` both present, `x.jpg`
 * pairs with `x.png`; with `Gt/x.png` and `Gt/x.tif`, with `x.png`. Every file with more than one
 * candidate (or whose candidates were all taken) is reported in `ambiguous`. A spare mask left
 * over by that resolution is only reported there; an image left without a mask is ALSO listed in
 * `imagesWithoutMask` (and so fails {@link pairDatasetFiles}), because silently dropping an
 * image would change the evaluated set.
 */

export const IMAGE_EXTENSIONS: readonly string[] = ['jpg', 'jpeg', 'png', 'tif', 'tiff', 'bmp', 'webp', 'gif'];

/** Suffixes a mask's stem may add to its image's stem, in order of preference after the bare stem. */
export const MASK_SUFFIXES: readonly string[] = ['_gt', '_mask'];

export interface DatasetPair {
  /** The image's file name, as given. */
  image: string;
  /** The mask's file name, as given. */
  mask: string;
}

export interface AmbiguousMatch {
  /** The file that had several candidates (an image, or a mask claimed by several images). */
  file: string;
  side: 'image' | 'mask';
  /** Every candidate on the other side, in preference order. */
  candidates: string[];
  /** The candidate it was paired with, or `null` when all were taken by better matches. */
  chosen: string | null;
}

export interface PairingResult {
  /** Sorted by image name. */
  pairs: DatasetPair[];
  /** Images with no candidate mask (sorted). */
  imagesWithoutMask: string[];
  /** Masks with no candidate image (sorted). */
  masksWithoutImage: string[];
  ambiguous: AmbiguousMatch[];
  /** Names that are not images by extension, on either side (sorted). */
  ignored: string[];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits `name` into stem and lower-cased extension; `null` when it is not an image name. */
export function imageStem(name: string): string | null {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  if (base.startsWith('.')) return null;
  const dot = base.lastIndexOf('.');
  if (dot <= 0) return null;
  const ext = base.slice(dot + 1).toLowerCase();
  if (!IMAGE_EXTENSIONS.includes(ext)) return null;
  return base.slice(0, dot);
}

/** Pairs image and mask file names; never throws (see {@link pairDatasetFiles}). */
export function pairByName(imageFiles: readonly string[], maskFiles: readonly string[]): PairingResult {
  if (!Array.isArray(imageFiles) || !Array.isArray(maskFiles)) {
    throw new SparseViTError('INVALID_ARGUMENT', 'pairByName expects two arrays of file names');
  }
  const ignored: string[] = [];
  const images: { name: string; stem: string }[] = [];
  const masksByStem = new Map<string, string[]>();
  const maskNames: string[] = [];
  for (const name of [...new Set(imageFiles)].sort(compare)) {
    const stem = imageStem(name);
    if (stem === null) ignored.push(name);
    else images.push({ name, stem });
  }
  for (const name of [...new Set(maskFiles)].sort(compare)) {
    const stem = imageStem(name);
    if (stem === null) {
      ignored.push(name);
      continue;
    }
    maskNames.push(name);
    const list = masksByStem.get(stem);
    if (list) list.push(name);
    else masksByStem.set(stem, [name]);
  }

  interface Candidate {
    rank: number;
    image: string;
    mask: string;
  }
  const candidates: Candidate[] = [];
  const suffixes = ['', ...MASK_SUFFIXES];
  for (const { name, stem } of images) {
    suffixes.forEach((suffix, rank) => {
      for (const mask of masksByStem.get(stem + suffix) ?? []) candidates.push({ rank, image: name, mask });
    });
  }
  candidates.sort((a, b) => a.rank - b.rank || compare(a.image, b.image) || compare(a.mask, b.mask));

  const imageOf = new Map<string, string>();
  const maskOf = new Map<string, string>();
  const byImage = new Map<string, string[]>();
  const byMask = new Map<string, string[]>();
  for (const c of candidates) {
    (byImage.get(c.image) ?? byImage.set(c.image, []).get(c.image)!).push(c.mask);
    (byMask.get(c.mask) ?? byMask.set(c.mask, []).get(c.mask)!).push(c.image);
    if (!maskOf.has(c.image) && !imageOf.has(c.mask)) {
      maskOf.set(c.image, c.mask);
      imageOf.set(c.mask, c.image);
    }
  }

  const pairs: DatasetPair[] = [];
  const imagesWithoutMask: string[] = [];
  const ambiguous: AmbiguousMatch[] = [];
  for (const { name } of images) {
    const mask = maskOf.get(name);
    const cands = byImage.get(name) ?? [];
    if (mask !== undefined) pairs.push({ image: name, mask });
    else imagesWithoutMask.push(name);
    if (cands.length > 1 || (cands.length === 1 && mask === undefined)) {
      ambiguous.push({ file: name, side: 'image', candidates: cands, chosen: mask ?? null });
    }
  }
  const masksWithoutImage: string[] = [];
  for (const name of maskNames) {
    const cands = byMask.get(name) ?? [];
    if (cands.length === 0) masksWithoutImage.push(name);
    else if (cands.length > 1 || !imageOf.has(name)) {
      ambiguous.push({ file: name, side: 'mask', candidates: cands, chosen: imageOf.get(name) ?? null });
    }
  }
  return { pairs, imagesWithoutMask, masksWithoutImage, ambiguous, ignored: ignored.sort(compare) };
}

export interface PairDatasetOptions {
  /** Leave unpaired files out instead of failing. Default false. */
  skipUnpaired?: boolean;
  /** At most this many names per list in the error message (all are in `details`). Default 50. */
  maxListed?: number;
}

/**
 * {@link pairByName}, then ONE `INVALID_ARGUMENT` error listing every image without a mask and
 * every mask without an image (names in the message, up to `maxListed` per list; the full lists
 * in `details`), unless `skipUnpaired`. Ambiguous matches are resolved (see the module comment)
 * and returned, not thrown.
 */
export function pairDatasetFiles(
  imageFiles: readonly string[],
  maskFiles: readonly string[],
  options: PairDatasetOptions = {},
): PairingResult {
  const result = pairByName(imageFiles, maskFiles);
  const { imagesWithoutMask, masksWithoutImage } = result;
  if (options.skipUnpaired || (imagesWithoutMask.length === 0 && masksWithoutImage.length === 0)) return result;
  const max = options.maxListed ?? 50;
  const list = (names: string[]) =>
    names.slice(0, max).map((n) => `  ${n}`).join('\n') + (names.length > max ? `\n  ... and ${names.length - max} more` : '');
  const parts: string[] = [];
  if (imagesWithoutMask.length > 0) parts.push(`${imagesWithoutMask.length} image(s) without a mask:\n${list(imagesWithoutMask)}`);
  if (masksWithoutImage.length > 0) parts.push(`${masksWithoutImage.length} mask(s) without an image:\n${list(masksWithoutImage)}`);
  throw new SparseViTError(
    'INVALID_ARGUMENT',
    `dataset has unpaired files (a mask pairs with an image of the same stem, or the stem plus _gt or _mask; ` +
      `pass skipUnpaired to leave them out):\n${parts.join('\n')}`,
    { details: { imagesWithoutMask, masksWithoutImage } },
  );
}
