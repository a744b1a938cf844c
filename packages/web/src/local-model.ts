import { blobSource, bytesSource, createSparseViTModel, SparseViTError, type BaseLoadModelOptions, type SparseViTModel } from '@sparsevit/core';
import { buildOnnxModel, type OnnxDtype } from '@sparsevit/onnx';
import { decodeImage } from './decode-image';
import { createOrtWebBackend, type ResolvedDevice } from './ort-web-backend';
import { probeWebGpu } from './webgpu';
import type { LoadProgress, WebDevice, WebImageInput, WebSessionSettings } from './types';

export interface LocalModelOptions extends BaseLoadModelOptions, WebSessionSettings {
  /** The weights, already downloaded. */
  weights: Blob | Uint8Array;
  device: WebDevice;
  /** Store the ONNX initializers as float16 (half the memory; computed in float32). */
  fp16?: boolean;
  /** The lowering's arithmetic (see `LoadModelOptions.dtype`); `q8` on WebGPU runs as `fp16`. */
  dtype?: OnnxDtype;
  onProgress?: (progress: LoadProgress) => void;
  onWarning?: (message: string) => void;
}

export interface LocalModel {
  model: SparseViTModel<WebImageInput>;
  device: ResolvedDevice;
  /** The arithmetic the model was lowered with (`q8` asked for on WebGPU gives `fp16`). */
  dtype: OnnxDtype;
}

/**
 * The model in this realm (the worker, or the page with `worker: false`): the shared ONNX lowering
 * of `@sparsevit/onnx`, an ONNX Runtime Web session, core's pipeline and the browser decoder.
 */
export async function createLocalModel(options: LocalModelOptions): Promise<LocalModel> {
  const source = options.weights instanceof Uint8Array ? bytesSource(options.weights) : blobSource(options.weights);
  let device: ResolvedDevice = options.device === 'auto' ? ((await probeWebGpu()) ? 'webgpu' : 'wasm') : options.device;
  let dtype = options.dtype;
  if (dtype === 'q8' && device === 'webgpu') {
    // ONNX Runtime Web's WebGPU provider has no DynamicQuantizeLinear / MatMulInteger kernels:
    // those nodes would run on the CPU, activations copied each way. fp16 is its small format.
    (options.onWarning ?? console.warn)('sparsevit: q8 runs on WASM only; on WebGPU the model runs as fp16 (float16 weights, float32 arithmetic)');
    dtype = 'fp16';
  }
  options.onProgress?.({ phase: 'build', loaded: 0, total: source.size });
  const built = await buildOnnxModel(source, {
    format: options.format,
    config: options.config,
    // The fp16 file chosen for WebGPU is stored float16 unless a dtype was asked for.
    dtype: dtype ?? (options.fp16 ? 'fp16' : undefined),
    // The q8 layout onnxruntime-web's wasm runs fastest (stages 1-2 convs quantized too).
    q8Target: 'wasm',
  });
  options.onProgress?.({ phase: 'session', loaded: 0, total: 0 });
  let backend;
  try {
    backend = await createOrtWebBackend(built.model, built.config.img_size, device, options);
  } catch (error) {
    if (!(options.device === 'auto' && device === 'webgpu')) throw error;
    (options.onWarning ?? console.warn)(`sparsevit: WebGPU could not start, running on WASM instead (${(error as Error).message.split('\n')[0]})`);
    device = 'wasm';
    backend = await createOrtWebBackend(built.model, built.config.img_size, device, options);
  }
  if (!backend) throw new SparseViTError('BACKEND_UNAVAILABLE', 'no ONNX Runtime Web backend could start');
  const model = createSparseViTModel<WebImageInput>({
    config: built.config,
    backend,
    decode: decodeImage,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
  return { model, device, dtype: built.dtype };
}
