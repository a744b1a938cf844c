import { readFile } from 'node:fs/promises';
import { bytesSource, createSparseViTModel, SparseViTError, type ByteSource, type ConfigInput, type InferenceBackend, type SparseViTModel, type WeightsFormat } from '@sparsevit/core';
import { externalizeOnnxWeights, lowerToOnnxWithExternalData, readModelSource, type ModelSource } from '@sparsevit/onnx';
import { decodeImage, type NodeImageInput } from './decode-image';
import { openFileSource } from './file-source';
import { withModelFiles } from './lowered-model-files';
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
  let onnxBytes: Uint8Array | undefined;
  if (read.format === 'onnx') onnxBytes = typeof options.weights === 'string' ? await readFile(options.weights) : options.weights;

  const start = async (model: string | Uint8Array): Promise<InferenceBackend> => {
    try {
      return await createOnnxRuntimeBackend(model, config.img_size, device, options);
    } catch (error) {
      if (!(options.fallbackToCpu && device !== 'cpu')) throw error;
      (options.onWarning ?? console.warn)(`sparsevit: ${device} is not available, running on the CPU instead (${(error as Error).message.split('\n')[0]})`);
      return createOnnxRuntimeBackend(model, config.img_size, 'cpu', options);
    }
  };
  // Weights are lowered, an .onnx file has its weights moved out, and the runtime maps them from
  // a temporary file (see withModelFiles).
  const backend = await withModelFiles((layout) => {
    if (read.format !== 'onnx') {
      const lowered = lowerToOnnxWithExternalData(config, read.weights, layout);
      (read.weights as Map<string, unknown>).clear();
      return lowered;
    }
    const bytes = onnxBytes!;
    onnxBytes = undefined; // so the file's bytes can be collected once written out
    return externalizeOnnxWeights(bytes, layout);
  }, start);

  return createSparseViTModel<NodeImageInput>({
    config,
    backend,
    decode: decodeImage,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
}
