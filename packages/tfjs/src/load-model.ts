import {
  assertPixelLimit,
  blobSource,
  bytesSource,
  checkLoadModelOptions,
  createSparseViTModel,
  isRawImage,
  readGraphWeights,
  SparseViTError,
  type BaseLoadModelOptions,
  type ByteSource,
  type ImageDecoder,
  type RawImage,
  type SparseViTModel,
} from '@sparsevit/core';
import { importByName } from './import-by-name';
import { selectBackend, type TfjsBackendName, type WasmOptions } from './select-backend';
import { createTfjsBackend, type TfjsBackend } from './tfjs-backend';
import type { Tfjs } from './tfjs-tensor-ops';

/** Weights as a path (Node only), bytes, or a `Blob` / `File` (read slice by slice). */
export type TfjsWeightsInput = string | Uint8Array | ArrayBuffer | Blob;

export interface LoadBackendOptions extends Pick<BaseLoadModelOptions, 'format' | 'config'> {
  /** A `.pth` (the authors' checkpoint) or `.safetensors` file: a path (Node), bytes or a Blob. `.onnx` is not read here. */
  weights: TfjsWeightsInput;
  /**
   * The TensorFlow.js backend: `wasm`, `cpu`, `webgl`, `webgpu` (or any name registered with
   * `tf`, e.g. `tensorflow` for tfjs-node). Default: `wasm`, unless `tf` is given, in which case
   * its current backend is kept. Note that tfjs has one current backend per engine: choosing one
   * here switches it for the whole app.
   */
  backend?: TfjsBackendName | (string & {});
  /**
   * Your own TensorFlow.js namespace, e.g. `import * as tf from '@tensorflow/tfjs-node'`.
   * Default: `@tensorflow/tfjs-core` as resolved from this package.
   */
  tf?: Tfjs;
  /** Options of the wasm backend (browsers: where the `.wasm` files are served). */
  wasm?: WasmOptions;
}

export interface LoadModelOptions<Input = RawImage> extends LoadBackendOptions, BaseLoadModelOptions {
  /**
   * Turns an input into 8-bit pixels. Default: accepts a `RawImage` (`{ data, width, height,
   * channels }`, e.g. a browser `ImageData` with `channels: 4`) and nothing else.
   */
  decode?: ImageDecoder<Input>;
}

export type TfjsSparseViTModel<Input = RawImage> = SparseViTModel<Input>;

const isNode = () => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function openWeights(weights: TfjsWeightsInput): Promise<ByteSource> {
  if (typeof weights === 'string') {
    if (!isNode()) {
      throw new SparseViTError('INVALID_ARGUMENT', 'a weights path is only readable in Node; in a browser, fetch the file and pass its bytes or Blob');
    }
    // A Blob over the file: readers pull only the ranges they need (a released .pth is ~600 MB).
    const { openAsBlob } = (await importByName('node:fs')) as typeof import('node:fs');
    try {
      return blobSource(await openAsBlob(weights));
    } catch (error) {
      throw new SparseViTError('IO_ERROR', `cannot open ${weights}: ${(error as Error).message}`, { cause: error });
    }
  }
  if (weights instanceof Uint8Array) return bytesSource(weights);
  if (weights instanceof ArrayBuffer) return bytesSource(new Uint8Array(weights));
  if (typeof Blob !== 'undefined' && weights instanceof Blob) return blobSource(weights);
  throw new SparseViTError('INVALID_ARGUMENT', 'weights must be a path (Node), a Uint8Array, an ArrayBuffer or a Blob');
}

/**
 * Reads and prepares the weights, starts the TensorFlow.js backend and uploads the weights to it:
 * core's `InferenceBackend` with lower-level access (`forward`, `runWithFeatures`). `loadModel`
 * wraps it in the shared detection pipeline; use this directly for benchmarks and parity checks.
 */
export async function loadTfjsBackend(options: LoadBackendOptions): Promise<TfjsBackend> {
  // An .onnx file is refused there: it is a compiled graph for ONNX Runtime, not weights.
  const { config, weights } = await readGraphWeights(await openWeights(options.weights), options);

  const tf = options.tf ?? ((await import('@tensorflow/tfjs-core')) as Tfjs);
  const backendName = options.backend ?? (options.tf ? tf.getBackend() : 'wasm');
  await selectBackend(tf, backendName, options.wasm);
  return createTfjsBackend({ tf, config, weights, backendName });
}

/** The default decoder: `RawImage` in, checked against the pixel limit (preprocessing validates the rest). */
export const decodeRawImage: ImageDecoder<RawImage> = async (input, { maxPixels }) => {
  if (!isRawImage(input)) {
    throw new SparseViTError(
      'INVALID_IMAGE',
      '@sparsevit/tfjs takes decoded pixels ({ data, width, height, channels }, e.g. ImageData with channels: 4); pass a `decode` function to loadModel for encoded images',
    );
  }
  assertPixelLimit(input.width, input.height, maxPixels);
  return input;
};

/**
 * Loads SparseViT on TensorFlow.js.
 *
 * @example
 * ```ts
 * import { loadModel } from '@sparsevit/tfjs';
 *
 * const model = await loadModel({ weights: 'sparsevit.safetensors', backend: 'wasm' });
 * const result = await model.detect({ data: pixels, width, height, channels: 3 });
 * console.log(result.score);
 * await model.dispose(); // frees the weight tensors
 * ```
 */
export async function loadModel<Input = RawImage>(options: LoadModelOptions<Input>): Promise<TfjsSparseViTModel<Input>> {
  checkLoadModelOptions(options, '{ weights: modelBytes }');
  const backend = await loadTfjsBackend(options);
  return createSparseViTModel<Input>({
    config: backend.config,
    backend,
    decode: options.decode ?? (decodeRawImage as unknown as ImageDecoder<Input>),
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
}
