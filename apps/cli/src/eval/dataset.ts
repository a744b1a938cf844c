import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { SparseViTError, pairDatasetFiles, parsePairList, type AmbiguousMatch } from '@sparsevit/core';

/** One image to evaluate. */
export interface EvalItem {
  /** Unique within the dataset: `Tp/<file>` for a folder, the image path as written for a list. */
  id: string;
  /** Path to open. */
  image: string;
  /** Path of the mask to open; `null` for an authentic ("Negative") image: an all-zero mask. */
  mask: string | null;
  /** IMDLBenCo's label: 1 for every entry with a mask file, 0 for "Negative". */
  label: 0 | 1;
}

export interface EvalDataset {
  layout: 'folder' | 'list';
  /** The dataset folder or list file, resolved. */
  path: string;
  items: EvalItem[];
  /** Folder layout: what pairing left out or resolved (empty for a list). */
  pairing: {
    imagesWithoutMask: string[];
    masksWithoutImage: string[];
    ambiguous: AmbiguousMatch[];
    ignored: string[];
  };
}

/** `Tp` / `Gt` inside `root`, matched case-insensitively (`tp/`, `GT/` work too). */
async function findSubfolder(root: string, name: string): Promise<string | undefined> {
  const entries = await readdir(root, { withFileTypes: true });
  const exact = entries.find((e) => e.isDirectory() && e.name === name);
  if (exact) return exact.name;
  return entries.find((e) => e.isDirectory() && e.name.toLowerCase() === name.toLowerCase())?.name;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
}

/**
 * Reads a dataset: a folder with `Tp/` (images) and `Gt/` (masks), paired by stem with core's
 * `pairDatasetFiles` (CASIA's `_gt` / `_mask` suffixes), or an IMDLBenCo JSON pair list
 * (`[[image, mask | "Negative"], ...]`, paths relative to the list's folder). Unpaired files of a
 * folder are ONE `INVALID_ARGUMENT` error listing them, unless `skipUnpaired`. A missing file in
 * a list is not checked here: it becomes a failed row, like any unreadable image.
 */
export async function loadDataset(target: string, options: { skipUnpaired?: boolean } = {}): Promise<EvalDataset> {
  const path = resolve(target);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the dataset ${target}: ${(error as Error).message}`, { cause: error });
  }
  if (info.isDirectory()) {
    const tp = await findSubfolder(path, 'Tp');
    const gt = await findSubfolder(path, 'Gt');
    if (!tp || !gt) {
      throw new SparseViTError(
        'INVALID_ARGUMENT',
        `the dataset folder ${target} must hold a Tp/ folder (images) and a Gt/ folder (masks)${tp ? '; Gt/ is missing' : gt ? '; Tp/ is missing' : ''}`,
      );
    }
    const result = pairDatasetFiles(await listFiles(join(path, tp)), await listFiles(join(path, gt)), { skipUnpaired: options.skipUnpaired });
    const items: EvalItem[] = result.pairs.map((p) => ({
      id: `${tp}/${p.image}`,
      image: join(path, tp, p.image),
      mask: join(path, gt, p.mask),
      label: 1,
    }));
    if (items.length === 0) throw new SparseViTError('INVALID_ARGUMENT', `the dataset folder ${target} has no image/mask pair`);
    return {
      layout: 'folder',
      path,
      items,
      pairing: {
        imagesWithoutMask: result.imagesWithoutMask.map((n) => `${tp}/${n}`),
        masksWithoutImage: result.masksWithoutImage.map((n) => `${gt}/${n}`),
        ambiguous: result.ambiguous,
        ignored: result.ignored,
      },
    };
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the pair list ${target}: ${(error as Error).message}`, { cause: error });
  }
  const base = dirname(path);
  // Paths are kept as written (the ids), then resolved against the list's folder.
  const entries = parsePairList(text, { source: basename(target) });
  const seen = new Map<string, number>();
  const items = entries.map((e): EvalItem => {
    const n = (seen.get(e.image) ?? 0) + 1;
    seen.set(e.image, n);
    return {
      id: n === 1 ? e.image : `${e.image}#${n}`,
      image: isAbsolute(e.image) ? e.image : resolve(base, e.image),
      mask: e.mask === null ? null : isAbsolute(e.mask) ? e.mask : resolve(base, e.mask),
      label: e.label,
    };
  });
  // An id `x#2` written literally in the list could collide with a renamed duplicate.
  const ids = new Set<string>();
  for (const item of items) {
    if (ids.has(item.id)) throw new SparseViTError('INVALID_ARGUMENT', `pair list ${basename(target)}: the image ${item.id} appears twice`);
    ids.add(item.id);
  }
  return { layout: 'list', path, items, pairing: { imagesWithoutMask: [], masksWithoutImage: [], ambiguous: [], ignored: [] } };
}

/**
 * What the run says about the pairing before it starts: the masks an image had to choose from
 * (all are in report.json) and the files `--skip-unpaired` left out. One line each.
 */
export function pairingNotices(dataset: EvalDataset): string[] {
  const { pairing } = dataset;
  const lines: string[] = [];
  for (const a of pairing.ambiguous) {
    if (a.side !== 'image') continue;
    const taken = a.chosen === null ? 'none is left for it' : `using ${a.chosen}`;
    lines.push(`sparsevit: ${a.file}: ${a.candidates.length} masks match (${a.candidates.join(', ')}); ${taken} (report.json: dataset.ambiguous)`);
  }
  if (pairing.imagesWithoutMask.length + pairing.masksWithoutImage.length > 0) {
    lines.push(
      `sparsevit: --skip-unpaired: left out ${pairing.imagesWithoutMask.length} image(s) without a mask and ` +
        `${pairing.masksWithoutImage.length} mask(s) without an image (listed in report.json under dataset.unpaired)`,
    );
  }
  return lines;
}

/** The dataset's folders and files, which the output folder must not be or overwrite. */
export function datasetInputs(dataset: EvalDataset): { inputFolders: string[]; inputFiles: string[] } {
  const { items } = dataset;
  return {
    inputFolders: dataset.layout === 'folder' ? [...new Set(items.flatMap((i) => [dirname(i.image), ...(i.mask ? [dirname(i.mask)] : [])]))] : [],
    inputFiles: [dataset.path, ...items.flatMap((i) => (i.mask ? [i.image, i.mask] : [i.image]))],
  };
}
