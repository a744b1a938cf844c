import { SparseViTError } from '../errors';

/**
 * IMDLBenCo's JSON pair list (`JsonDataset`):
 * ```json
 * [["./Tp/6.jpg", "./Gt/6.png"], ["./Tp/8.jpg", "Negative"]]
 * ```
 * Each entry is `[image_path, mask_path]`; the exact string `"Negative"` (case-sensitive, as the
 * reference compares it) marks an authentic image, whose ground truth is the all-zero mask of the
 * image's size (`emptyMask(width, height)`) and whose label is 0. Every other entry has label 1,
 * whatever its mask holds, as in IMDLBenCo.
 *
 * Paths are resolved by the caller's `resolve` callback, so core stays free of any runtime's path
 * module. The intended rule (the reference resolves against the working directory instead):
 * relative paths are relative to the JSON file's folder, absolute paths are kept. In Node:
 * `resolve: (p) => path.resolve(path.dirname(listFile), p)`.
 */

export const NEGATIVE_MASK = 'Negative';

export interface PairListEntry {
  /** Position in the list. */
  index: number;
  /** The image path, after `resolve`. */
  image: string;
  /** The mask path after `resolve`, or `null` for a "Negative" (authentic) entry. */
  mask: string | null;
  /** 1 = manipulated (a mask path), 0 = authentic ("Negative"). */
  label: 0 | 1;
}

export interface ParsePairListOptions {
  /** Maps each path as written in the list to the path to open (not called for "Negative"). */
  resolve?: (path: string) => string;
  /** Name of the list file, for error messages. */
  source?: string;
  /** At most this many bad entries described in the message (all are in `details`). Default 20. */
  maxListed?: number;
}

/**
 * Parses and validates a pair list given as JSON text or as the already-parsed value. Throws ONE
 * `INVALID_ARGUMENT` error describing every bad entry by index (not an array, not exactly two
 * elements, an empty or non-string path, "Negative" as the image), or when the text is not JSON,
 * not an array, or empty.
 */
export function parsePairList(input: string | unknown, options: ParsePairListOptions = {}): PairListEntry[] {
  const where = options.source === undefined ? 'pair list' : `pair list ${options.source}`;
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new SparseViTError('INVALID_ARGUMENT', `${where} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (!Array.isArray(value)) {
    throw new SparseViTError('INVALID_ARGUMENT', `${where} must be a JSON array of [image_path, mask_path or "Negative"] entries`);
  }
  if (value.length === 0) throw new SparseViTError('INVALID_ARGUMENT', `${where} is empty`);

  const problems: { index: number; problem: string }[] = [];
  const entries: PairListEntry[] = [];
  const resolve = options.resolve ?? ((p: string) => p);
  value.forEach((entry: unknown, index) => {
    if (!Array.isArray(entry)) {
      problems.push({ index, problem: `expected [image_path, mask_path], got ${describe(entry)}` });
      return;
    }
    if (entry.length !== 2) {
      problems.push({ index, problem: `expected 2 elements [image_path, mask_path], got ${entry.length}` });
      return;
    }
    const [image, mask] = entry as unknown[];
    if (typeof image !== 'string' || image.length === 0) {
      problems.push({ index, problem: `image path must be a non-empty string, got ${describe(image)}` });
      return;
    }
    if (image === NEGATIVE_MASK) {
      problems.push({ index, problem: `"${NEGATIVE_MASK}" is only valid as the mask (second element)` });
      return;
    }
    if (typeof mask !== 'string' || mask.length === 0) {
      problems.push({ index, problem: `mask path must be a non-empty string or "${NEGATIVE_MASK}", got ${describe(mask)}` });
      return;
    }
    const negative = mask === NEGATIVE_MASK;
    entries.push({ index, image: resolve(image), mask: negative ? null : resolve(mask), label: negative ? 0 : 1 });
  });
  if (problems.length > 0) {
    const max = options.maxListed ?? 20;
    const lines = problems.slice(0, max).map((p) => `  entry ${p.index}: ${p.problem}`);
    if (problems.length > max) lines.push(`  ... and ${problems.length - max} more`);
    throw new SparseViTError('INVALID_ARGUMENT', `${where} has ${problems.length} bad entr${problems.length === 1 ? 'y' : 'ies'}:\n${lines.join('\n')}`, {
      details: { problems },
    });
  }
  return entries;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length === 0 ? 'an empty string' : JSON.stringify(v);
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}
