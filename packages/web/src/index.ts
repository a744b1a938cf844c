// @sparsevit/web: SparseViT in the browser on ONNX Runtime Web (WebGPU, WASM), in a Web Worker.
// Everything from @sparsevit/core is re-exported, as by every adapter, so one import serves.
export * from '@sparsevit/core';
export { loadModel } from './load-model';
export { decodeImage } from './decode-image';
export { readImageSize } from './image-size';
export { fetchWeights, clearWeightsCache, isWeightsCached, DEFAULT_WEIGHTS_CACHE, type FetchWeightsOptions, type FetchedWeights } from './fetch-weights';
export { drawResult, maskToPng, resultToImageData, thresholdMask, type RenderMode, type RenderOptions } from './render';
export { createDefaultWorker } from './worker-client';
import { probeWebGpu } from './webgpu';
export { WEB_DEVICES } from './types';
export type { LoadModelOptions, LoadPhase, LoadProgress, WebDevice, WebImageInput, WebSessionSettings, WebSparseViTModel, WeightsInput } from './types';

/** Whether this browser offers WebGPU, and whether its adapter has `shader-f16`. */
export async function webGpuSupport(): Promise<{ available: boolean; shaderF16: boolean }> {
  const probe = await probeWebGpu();
  return { available: probe !== undefined, shaderF16: probe?.shaderF16 ?? false };
}
