import {
  assertPixelLimit,
  blobSource,
  bytesSource,
  createSparseViTModel,
  detectWeightsFormat,
  prepareGraphWeights,
  readWeights,
  resolveConfig,
  SparseViTError,
  type ByteSource,
  type ConfigInput,
  type ImageDecoder,
  type RawImage,
  type SparseViTModel,
  type WeightsFormat,
} from '@sparsevit/core';
import { importByName } from './import-by-name';
import { selectBackend, type TfjsBackendName, type WasmOptions } from './select-backend';
import { createTfjsBackend, type TfjsBackend } from './tfjs-backend';
import type { Tfjs } from './tfjs-tensor-ops';

/** Weights as a path (Node only), bytes, or a `Blob` / `File` (read slice by slice). */
export type TfjsWeightsInput = string | Uint8Array | ArrayBuffer | Blob;

export interface LoadBackendOptions {
  /** A `.pth` (the authors' checkpoint) or `.safetensors` file: a path (Node), bytes or a Blob. */
  weights: TfjsWeightsInput;
  /** Weights format; detected from the first bytes when omitted. `.onnx` is not read here. */
  format?: WeightsFormat;
  /** A preset name or config object; default: the weights' metadata, else the `base` preset. */
  config?: ConfigInput;
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

export interface LoadModelOptions<Input = RawImage> extends LoadBackendOptions {
  /**
   * Turns an input into 8-bit pixels. Default: accepts a `RawImage` (`{ data, width, height,
   * channels }`, e.g. a browser `ImageData` with `channels: 4`) and nothing else.
   */
  decode?: ImageDecoder<Input>;
  /** Images per forward pass in `detectBatch` / `detectStream`. Default 1. */
  batchSize?: number;
  /** Largest accepted image, in pixels. Default 100 MP. */
  maxPixels?: number;
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
  const source = await openWeights(options.weights);
  if (source.size === 0) throw new SparseViTError('CORRUPT_WEIGHTS', 'the weights file is empty (0 bytes)');
  const format = options.format ?? detectWeightsFormat(await source.read(0, Math.min(source.size, 16)));
  if (format === 'onnx') {
    throw new SparseViTError(
      'UNSUPPORTED_FORMAT',
      '@sparsevit/tfjs runs the model from its weights (.pth or .safetensors); an .onnx file is a compiled graph for ONNX Runtime: ' +
        'load it with @sparsevit/node (Node) or @sparsevit/web (browsers), or pass the .safetensors / .pth it was made from',
    );
  }
  const store = await readWeights(source, format);
  const config = resolveConfig(options.config, store.metadata);
  const weights = prepareGraphWeights(store, config);
  store.tensors.clear();

  const tf = options.tf ?? ((await import('@tensorflow/tfjs-core')) as Tfjs);
  const backendName = options.backend ?? (options.tf ? tf.getBackend() : 'wasm');
  await selectBackend(tf, backendName, options.wasm);
  return createTfjsBackend({ tf, config, weights, backendName });
}

function isRawImage(input: unknown): input is RawImage {
  return typeof input === 'object' && input !== null && 'data' in input && 'width' in input && 'height' in input;
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
  const backend = await loadTfjsBackend(options);
  return createSparseViTModel<Input>({
    config: backend.config,
    backend,
    decode: options.decode ?? (decodeRawImage as unknown as ImageDecoder<Input>),
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
}
