import { writeFile } from 'node:fs/promises';
import {
  CONFIG_METADATA_KEY,
  readWeights,
  resolveConfig,
  SparseViTError,
  validateStateDict,
  writeSafetensors,
  type ByteSource,
  type ConfigInput,
  type SparseViTConfig,
  type TensorStore,
} from '@sparsevit/core';
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

/**
 * The weights file `input` (`.pth` or `.safetensors`), its shapes checked against the config
 * before any tensor is read: `explicit` (the `--config` value) when given, else its metadata.
 */
export function readCheckedWeights(input: string, explicit: ConfigInput | undefined): Promise<{ store: TensorStore; config: SparseViTConfig }> {
  return withWeightsFile(input, explicit === undefined, async (source) => {
    const store = await readWeights(source, undefined, {
      checkTensors: (tensors, metadata) => validateStateDict({ tensors }, resolveConfig(explicit, metadata)),
    });
    return { store, config: resolveConfig(explicit, store.metadata) };
  });
}

/** Safetensors bytes of `store`, its metadata kept and the config the weights are for recorded. */
export function safetensorsWithConfig(store: TensorStore, config: SparseViTConfig): Uint8Array {
  return writeSafetensors({ tensors: store.tensors, metadata: { ...store.metadata, format: 'pt', [CONFIG_METADATA_KEY]: JSON.stringify(config) } });
}
