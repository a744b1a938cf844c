import { open, type FileHandle } from 'node:fs/promises';
import { SparseViTError, type ByteSource } from '@sparsevit/core';

/**
 * A `ByteSource` over a file: readers pull only the byte ranges they need, so a 600 MB training
 * checkpoint is never held in memory whole. Close it when done.
 */
export interface FileByteSource extends ByteSource {
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<FileByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  const { size } = await handle.stat();
  return {
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is outside ${path} (${size} bytes)`);
      }
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) throw new SparseViTError('IO_ERROR', `${path} ended early (changed while reading?)`);
        done += bytesRead;
      }
      return bytes;
    },
    close: () => handle.close(),
  };
}
