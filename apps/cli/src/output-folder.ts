import { mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { SparseViTError } from '@sparsevit/core';
import { UsageError } from './usage-error';

/** The real path of `path`, or of its nearest existing ancestor joined with the rest (`path` may not exist yet). */
async function realpathOrAncestor(path: string): Promise<string> {
  const absolute = resolve(path);
  const rest: string[] = [];
  let at = absolute;
  for (;;) {
    try {
      return join(await realpath(at), ...rest.reverse());
    } catch {
      const parent = dirname(at);
      if (parent === at) return absolute;
      rest.push(basename(at));
      at = parent;
    }
  }
}

const isWithin = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);

export interface OutputFolderChecks {
  /** Folders the inputs were read from: the output folder may be neither one nor inside one. */
  inputFolders?: readonly string[];
  /** Input files no output may replace. */
  inputFiles?: readonly string[];
  /** Names of the files the run will write into the folder. */
  outputNames?: readonly string[];
}

/**
 * Checks `--out` and creates it, before any model is loaded: it must be a folder (or not exist
 * yet), must not be or lie inside a folder the inputs come from (outputs would mix with the
 * inputs, overwrite some, and be taken as inputs by the next run), and none of the files it will
 * hold may be an input. A mistake is a `UsageError` (exit 2); a folder that cannot be created is
 * `IO_ERROR`.
 */
export async function prepareOutputFolder(command: string, outDir: string, checks: OutputFolderChecks = {}): Promise<void> {
  const info = await stat(outDir).catch(() => undefined);
  if (info && !info.isDirectory()) throw new UsageError(`--out ${outDir} is a file, not a folder`, command);
  const realOut = await realpathOrAncestor(outDir);
  for (const folder of checks.inputFolders ?? []) {
    const realFolder = await realpathOrAncestor(folder);
    if (isWithin(realOut, realFolder)) {
      throw new UsageError(
        `--out ${outDir} is ${realOut === realFolder ? 'the input folder' : 'inside the input folder'} ${folder}: the outputs would mix with the inputs and be read as inputs by the next run; choose a folder outside it`,
        command,
      );
    }
  }
  if (checks.inputFiles?.length && checks.outputNames?.length) {
    const outputs = new Set(checks.outputNames.map((n) => join(realOut, n)));
    for (const file of checks.inputFiles) {
      // An input is hit if an output lands on its name (a link there would be replaced) or on the
      // file it names through links.
      const asNamed = join(await realpathOrAncestor(dirname(file)), basename(file));
      if (outputs.has(asNamed) || outputs.has(await realpathOrAncestor(file))) {
        throw new UsageError(`--out ${outDir}: the run would write over its input ${file}; choose another folder`, command);
      }
    }
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot create the output folder ${outDir}: ${(error as Error).message}`, { cause: error });
  }
}
