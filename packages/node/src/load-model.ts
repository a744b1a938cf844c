import { bytesSource, createSparseViTModel, SparseViTError, type ByteSource, type ConfigInput, type InferenceBackend, type SparseViTModel, type WeightsFormat } from '@sparsevit/core';
import { readModelSource, type ModelSource } from '@sparsevit/onnx';
import { decodeImage, type NodeImageInput } from './decode-image';
import { openFileSource } from './file-source';
import { withLoweredModelFiles } from './lowered-model-files';
import { createOnnxRuntimeBackend, type NodeDevice, type OrtSessionSettings } from './onnx-runtime-backend';

export interface LoadModelOptions extends OrtSessionSettings {
  /** Weights: a path to, or the bytes of, a `.pth` (authors' checkpoint), `.safetensors` or `.onnx` file. */
  weights: string | Uint8Array;
  /** Weights format; detected from the file's first bytes when omitted. */
  format?: WeightsFormat;
  /** A preset name or config object; default: the weights' metadata, else the `base` preset. */
  config?: ConfigInput;
  /** Execution device. Default `cpu`. */
  device?: NodeDevice;
  /**
   * When the requested device cannot start, run on the CPU instead of failing, and report it
   * through `onWarning`. Default false: a missing GPU is an error, not a silent slowdown.
   */
  fallbackToCpu?: boolean;
  /** Receives warnings (the CPU fallback). Default: `console.warn`. */
  onWarning?: (message: string) => void;
  /** Images per forward pass in `detectBatch` / `detectStream`. Default 1. */
  batchSize?: number;
  /** Largest accepted image, in pixels. Default 100 MP. */
  maxPixels?: number;
}

export type NodeSparseViTModel = SparseViTModel<NodeImageInput>;

const DEVICES: readonly NodeDevice[] = ['cpu', 'cuda', 'webgpu'];

/**
 * Loads SparseViT on ONNX Runtime for Node.
 *
 * @example
 * ```ts
 * import { loadModel } from '@sparsevit/node';
 *
 * const model = await loadModel({ weights: 'sparsevit.safetensors', device: 'cpu' });
 * const result = await model.detect('photo.jpg');
 * console.log(result.score, result.width, result.height);
 * await model.dispose();
 * ```
 */
export async function loadModel(options: LoadModelOptions): Promise<NodeSparseViTModel> {
  const device = options.device ?? 'cpu';
  if (!DEVICES.includes(device)) {
    throw new SparseViTError('INVALID_ARGUMENT', `device must be one of ${DEVICES.join(', ')}, got ${String(device)}`);
  }
  const source: ByteSource & { close?: () => Promise<void> } =
    typeof options.weights === 'string' ? await openFileSource(options.weights) : bytesSource(options.weights);
  let read: ModelSource;
  try {
    read = await readModelSource(source, { format: options.format, config: options.config });
  } finally {
    await source.close?.();
  }
  const { config } = read;

  const start = async (model: string | Uint8Array): Promise<InferenceBackend> => {
    try {
      return await createOnnxRuntimeBackend(model, config.img_size, device, options);
    } catch (error) {
      if (!(options.fallbackToCpu && device !== 'cpu')) throw error;
      (options.onWarning ?? console.warn)(`sparsevit: ${device} is not available, running on the CPU instead (${(error as Error).message.split('\n')[0]})`);
      return createOnnxRuntimeBackend(model, config.img_size, 'cpu', options);
    }
  };
  // An .onnx file goes to the runtime as it is (by path when it has one); weights are lowered.
  const backend = read.format === 'onnx' ? await start(options.weights) : await withLoweredModelFiles(config, read.weights, start);

  return createSparseViTModel<NodeImageInput>({
    config,
    backend,
    decode: decodeImage,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
}
