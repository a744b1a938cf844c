import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';

/** Extensions a folder is expanded to (case-insensitive): the raster formats the decoder reads. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif']);

/** Stems reserved for the run's own files (`summary.json`). */
const RESERVED_STEMS: ReadonlySet<string> = new Set(['summary']);

export interface InputFile {
  /** The path as given, or joined from the folder given. */
  path: string;
  /** The name of this input's output files, unique within the run (case-insensitively). */
  stem: string;
  /** The stem the file name alone gives, when `stem` had to be disambiguated. */
  naturalStem: string;
}

function naturalStem(path: string): string {
  const name = basename(path);
  const ext = extname(name);
  return ext.length > 0 && ext.length < name.length ? name.slice(0, -ext.length) : name;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A file a folder held that is not run, and why (listed in `summary.json` under `skipped`). */
export interface SkippedFile {
  path: string;
  reason: string;
}

export interface CollectedInputs {
  inputs: InputFile[];
  /** The arguments that were folders (the output folder may not be one of them, or inside one). */
  folders: string[];
  /** Files in those folders that are not images by extension (`.svg`, `.txt`, ...); hidden files are not listed. */
  skipped: SkippedFile[];
}

/**
 * Expands the command line's files and folders into the inputs to run, in order: each argument
 * in turn, a folder as its image files (by extension; not recursive; hidden files skipped) sorted
 * by name. A file named explicitly is taken whatever its extension, and so is a path that does not
 * exist: it then fails as an input (recorded in the summary) rather than stopping the run. The
 * same file named twice runs once. Files a folder holds that are not run are returned as
 * `skipped`, so that the summary can say so.
 */
export async function collectInputs(args: readonly string[]): Promise<CollectedInputs> {
  const paths: string[] = [];
  const folders: string[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    const key = resolve(path);
    if (seen.has(key)) return;
    seen.add(key);
    paths.push(path);
  };
  for (const arg of args) {
    let isDirectory = false;
    try {
      isDirectory = (await stat(arg)).isDirectory();
    } catch {
      // Not there: kept as a file, so its failure is reported with the others.
    }
    if (!isDirectory) {
      add(arg);
      continue;
    }
    folders.push(arg);
    const entries = await readdir(arg, { withFileTypes: true });
    const files = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'));
    const isImage = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
    for (const name of files.map((e) => e.name).filter(isImage).sort(byName)) add(join(arg, name));
    for (const name of files.map((e) => e.name).filter((n) => !isImage(n)).sort(byName)) {
      skipped.push({ path: join(arg, name), reason: `not an image extension (${[...IMAGE_EXTENSIONS].join(' ')})` });
    }
  }
  return { inputs: assignStems(paths), folders, skipped };
}

/**
 * Gives every path a unique output stem: the file name without its extension, and for the
 * second and later files with the same stem (compared case-insensitively, as on macOS and
 * Windows file systems) `stem-2`, `stem-3`, ..., skipping any stem another input has by name.
 */
export function assignStems(paths: readonly string[]): InputFile[] {
  const natural = paths.map(naturalStem);
  const key = (s: string) => s.toLowerCase();
  const naturalKeys = new Set(natural.map(key));
  const taken = new Set<string>();
  return paths.map((path, i) => {
    const base = natural[i];
    let stem = base;
    if (taken.has(key(stem)) || RESERVED_STEMS.has(key(stem))) {
      let n = 2;
      while (taken.has(key(`${base}-${n}`)) || naturalKeys.has(key(`${base}-${n}`))) n++;
      stem = `${base}-${n}`;
    }
    taken.add(key(stem));
    return { path, stem, naturalStem: base };
  });
}
