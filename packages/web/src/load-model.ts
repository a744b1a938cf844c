import { abortError, checkLoadModelOptions, checkOneOf, SparseViTError, throwIfAborted, type SparseViTModel } from '@sparsevit/core';
import { ONNX_DTYPES, type OnnxDtype } from '@sparsevit/onnx';
import { fetchWeights } from './fetch-weights';
import type { ResolvedDevice } from './ort-web-backend';
import { WEB_DEVICES, type LoadModelOptions, type LoadProgress, type WebImageInput, type WebSparseViTModel, type WeightsInput } from './types';
import { probeWebGpu } from './webgpu';
import { createDefaultWorker, WorkerClient, workerModel } from './worker-client';

async function resolveWeights(weights: WeightsInput, options: LoadModelOptions): Promise<Blob | Uint8Array> {
  if (typeof weights === 'string' || weights instanceof URL) {
    const url = new URL(String(weights), globalThis.document?.baseURI ?? globalThis.location?.href).href;
    const { blob } = await fetchWeights(url, { cache: options.cache, fetchInit: options.fetchInit, signal: options.signal, onProgress: options.onProgress });
    return blob;
  }
  if (weights instanceof Blob) return weights;
  if (weights instanceof ArrayBuffer) return new Uint8Array(weights);
  if (weights instanceof Uint8Array) return weights;
  throw new SparseViTError('INVALID_ARGUMENT', 'weights must be a URL, a File/Blob, an ArrayBuffer or a Uint8Array');
}

function defaultWasmPaths(): string | undefined {
  return typeof document !== 'undefined' ? new URL('ort/', document.baseURI).href : undefined;
}

/**
 * Loads SparseViT in the browser on ONNX Runtime Web: WebGPU when available (`device: 'auto'`),
 * else WASM; inference in a Web Worker unless `worker: false`.
 *
 * @example
 * ```ts
 * import { loadModel, drawResult } from '@sparsevit/web';
 *
 * const model = await loadModel({ weights: '/models/sparsevit.safetensors', onProgress: (p) => console.log(p) });
 * const result = await model.detect(file, { returnImage: true });
 * drawResult(canvas, result, { mode: 'overlay' });
 * ```
 */
export async function loadModel(options: LoadModelOptions): Promise<WebSparseViTModel> {
  checkLoadModelOptions(options, "{ weights: '/models/sparsevit.safetensors' }");
  const device = checkOneOf('device', options.device ?? 'auto', WEB_DEVICES);
  const dtype = options.dtype === undefined ? undefined : checkOneOf('dtype', options.dtype, ONNX_DTYPES);
  throwIfAborted(options.signal);

  // float16 weights only where WebGPU can compute in half precision: half the download.
  let fp16 = false;
  if (options.weightsFp16 !== undefined && device !== 'wasm') fp16 = (await probeWebGpu())?.shaderF16 ?? false;
  const weights = await resolveWeights(fp16 ? options.weightsFp16! : options.weights, options);
  throwIfAborted(options.signal);

  const wasmPaths = options.wasmPaths ?? defaultWasmPaths();
  const useWorker = options.worker ?? true;
  let model: SparseViTModel<WebImageInput>;
  let resolved: ResolvedDevice;
  let ranAs: OnnxDtype;
  if (useWorker) {
    if (typeof Worker === 'undefined') throw new SparseViTError('BACKEND_UNAVAILABLE', 'Web Workers are not available here; pass `worker: false`');
    const client = new WorkerClient((options.createWorker ?? createDefaultWorker)());
    const onAbort = () => client.terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const loaded = await client.load(
        {
          weights,
          format: options.format,
          config: options.config,
          device,
          fp16,
          dtype,
          batchSize: options.batchSize,
          maxPixels: options.maxPixels,
          wasmPaths,
          numThreads: options.numThreads,
        },
        { onProgress: options.onProgress, onWarning: options.onWarning ?? ((m) => console.warn(m)) },
      );
      resolved = loaded.device;
      ranAs = loaded.dtype;
      model = workerModel(client, loaded.config, loaded.device, options.batchSize ?? 1);
    } catch (error) {
      client.terminate();
      throwIfAborted(options.signal);
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  } else {
    const { createLocalModel } = await import('./local-model');
    const local = await createLocalModel({ ...options, weights, device, fp16, dtype, wasmPaths });
    if (options.signal?.aborted) {
      await local.model.dispose();
      throw abortError(options.signal);
    }
    model = local.model;
    resolved = local.device;
    ranAs = local.dtype;
  }
  return Object.assign(model, { device: resolved, fp16, dtype: ranAs, inWorker: useWorker }) as WebSparseViTModel;
}

export type { LoadProgress };
