import { writeFile } from 'node:fs/promises';
import { SparseViTError, type ByteSource } from '@sparsevit/core';
import { explainLoadError } from './errors';

/**
 * Opens the weights file `input` as a byte source (a training checkpoint's optimizer state is
 * never read), runs `read` on it and closes it. A failure comes back with the file named
 * (`explainLoadError`); `configFromWeights` is true when no `--config` was given.
 */
export async function withWeightsFile<T>(input: string, configFromWeights: boolean, read: (source: ByteSource) => Promise<T>): Promise<T> {
  const { openFileSource } = await import('@sparsevit/node');
  try {
    const source = await openFileSource(input);
    try {
      return await read(source);
    } finally {
      await source.close();
    }
  } catch (error) {
    throw explainLoadError(error, input, configFromWeights);
  }
}

/** Writes a converted or exported model; a failure is `SparseViTError('IO_ERROR')` naming the file. */
export async function writeModelFile(output: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFile(output, bytes);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot write ${output}: ${(error as Error).message}`, { cause: error });
  }
}
