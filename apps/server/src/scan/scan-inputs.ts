import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { IMAGE_EXTENSIONS } from '@sparsevit/node';

/** One image of a scan: where it is and what its result files are called. */
export interface ScanInput {
  /** Absolute path. */
  path: string;
  /** Result name: the path below the folder (or list) it came from, without its extension. */
  stem: string;
}

const isImageName = (name: string) => IMAGE_EXTENSIONS.includes(extname(name).slice(1).toLowerCase());
const withoutExtension = (path: string) => path.slice(0, path.length - extname(path).length);
/** Stems use `/` on every platform (they are names inside the output folder). */
const toStem = (path: string) => withoutExtension(path).split(sep).join('/');

/** Image files below `root`, recursively, in name order; hidden files and folders are skipped. */
async function walk(root: string, dir: string, out: ScanInput[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await walk(root, path, out);
    else if ((entry.isFile() || entry.isSymbolicLink()) && isImageName(entry.name)) out.push({ path, stem: toStem(relative(root, path)) });
  }
}

/** The entries of a list file: one path per line, relative ones to the list's folder; `#` comments. */
async function readList(list: string): Promise<ScanInput[]> {
  const base = dirname(list);
  const lines = (await readFile(list, 'utf8')).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return lines.map((line) => {
    const path = resolve(base, line);
    const below = relative(base, path);
    const inside = below !== '' && !below.startsWith('..') && !isAbsolute(below);
    return { path, stem: toStem(inside ? below : basename(path)) };
  });
}

/**
 * The images of `sparsevit scan <folder|list>...`: a folder is searched recursively for image
 * files (by extension), a file with an image extension is itself, any other file is a list of
 * paths. Paths come back absolute (workers elsewhere read them from shared storage); a path
 * named twice is kept once; stems are made unique within the scan (case-insensitively: `x`,
 * `x-2`, ...).
 */
export async function expandScanInputs(args: readonly string[]): Promise<ScanInput[]> {
  const found: ScanInput[] = [];
  for (const arg of args) {
    const path = resolve(arg);
    const info = await stat(path).catch(() => undefined);
    // A path that is not there is kept: hashing it fails, and the scan reports it as unreadable.
    if (!info) found.push({ path, stem: toStem(basename(path)) });
    else if (info.isDirectory()) await walk(path, path, found);
    else if (isImageName(path)) found.push({ path, stem: toStem(basename(path)) });
    else found.push(...(await readList(path)));
  }
  const seenPaths = new Set<string>();
  const taken = new Set<string>();
  const inputs: ScanInput[] = [];
  for (const input of found) {
    if (seenPaths.has(input.path)) continue;
    seenPaths.add(input.path);
    let stem = input.stem;
    for (let n = 2; taken.has(stem.toLowerCase()); n++) stem = `${input.stem}-${n}`;
    taken.add(stem.toLowerCase());
    inputs.push({ path: input.path, stem });
  }
  return inputs;
}
