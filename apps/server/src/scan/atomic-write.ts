import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `path` so that a reader sees either the old file or the whole new one, never
 * a part: the bytes go to a temporary file beside it (same folder, so the same file system),
 * are flushed to disk, and the temporary file is renamed over `path` (atomic on POSIX). Two
 * workers writing the same result race harmlessly: the last rename wins, and both wrote the
 * same content. A process killed mid-write leaves at most a `.<name>.*.tmp` file, never a
 * truncated result.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
