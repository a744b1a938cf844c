import { closeSync, constants, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SparseViTError } from '@sparsevit/core';

/**
 * Every file the CLI writes appears whole or not at all, and never through a link:
 *
 * - the bytes go to a new temporary file beside the target (`.<name>.<pid>.<n>.tmp`), opened
 *   with `O_CREAT | O_EXCL | O_NOFOLLOW`, so an existing file or link of that name is never
 *   opened, let alone followed;
 * - it is flushed to disk, then renamed over the target. `rename` replaces a link at the target
 *   with the file itself (the link's destination is untouched, a dangling link cannot create a
 *   file elsewhere), and replaces an old file in one step: a reader sees the old file or the new
 *   one, never a half-written one;
 * - on any failure (a full disk: `ENOSPC`; a file size limit: `EFBIG`) the temporary file is
 *   removed and the error is `IO_ERROR` naming the target. Nothing truncated is left behind.
 *
 * Temporary files still open are tracked so that a forced exit (a second Ctrl-C) can remove them
 * synchronously (`removeTemporaryFilesSync`).
 */

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const temporaryFiles = new Set<string>();
/** Folders temporary files were made in: a forced exit also sweeps them for files still being opened. */
const temporaryFolders = new Set<string>();
let counter = 0;

function temporaryPath(target: string): string {
  temporaryFolders.add(dirname(target));
  return join(dirname(target), `.${basename(target)}.${process.pid}.${++counter}.tmp`);
}

/** `IO_ERROR` for a failed write of `target`, with the system's reason. */
export function writeError(target: string, error: unknown): SparseViTError {
  const e = error as NodeJS.ErrnoException;
  const reason = e?.code === 'ENOSPC' ? 'no space left on the device' : e?.code === 'EFBIG' ? 'the file is over the size limit' : undefined;
  const message = e instanceof Error ? e.message : String(error);
  return new SparseViTError('IO_ERROR', `cannot write ${target}: ${reason ? `${reason} (${message})` : message}`, { cause: error });
}

/** Creates the temporary file for `target`; `commit` renames it over the target, `abort` removes it. */
export async function openAtomic(target: string): Promise<{ handle: FileHandle; commit: () => Promise<void>; abort: () => Promise<void> }> {
  const tmp = temporaryPath(target);
  let handle: FileHandle;
  try {
    handle = await open(tmp, CREATE_FLAGS, 0o644);
  } catch (error) {
    throw writeError(target, error);
  }
  temporaryFiles.add(tmp);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await handle.close();
  };
  const abort = async () => {
    await close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    temporaryFiles.delete(tmp);
  };
  const commit = async () => {
    try {
      await handle.datasync();
      await close();
      await rename(tmp, target);
      temporaryFiles.delete(tmp);
    } catch (error) {
      await abort();
      throw writeError(target, error);
    }
  };
  return { handle, commit, abort };
}

/** Writes `data` to `target` atomically (see the module comment). */
export async function writeFileAtomic(target: string, data: Uint8Array | string): Promise<void> {
  const file = await openAtomic(target);
  try {
    await file.handle.writeFile(data);
  } catch (error) {
    await file.abort();
    throw writeError(target, error);
  }
  await file.commit();
}

/** `writeFileAtomic`, synchronously: for what must be written while the process is being stopped. */
export function writeFileAtomicSync(target: string, data: string): void {
  const tmp = temporaryPath(target);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, CREATE_FLAGS, 0o644);
    const bytes = Buffer.from(data);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw writeError(target, error);
  }
}

/**
 * Removes the temporary files of writes still in progress (a forced exit), including any whose
 * `open` had not returned yet (found by this process's id in their name); never throws.
 */
export function removeTemporaryFilesSync(): void {
  const ours = new RegExp(`^\\..*\\.${process.pid}\\.\\d+\\.tmp$`);
  for (const folder of temporaryFolders) {
    let names: string[] = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) if (ours.test(name)) temporaryFiles.add(join(folder, name));
  }
  for (const tmp of temporaryFiles) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or removed
    }
  }
  temporaryFiles.clear();
}
