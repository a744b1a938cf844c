import { SparseViTError, type InferenceBackend } from '@sparsevit/core';
import { ortSessionBackend } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-web';
import type { WebSessionSettings } from './types';

export type ResolvedDevice = 'webgpu' | 'wasm';

function defaultWasmPaths(): string {
  // In a worker `location` is the worker script's URL; the main thread passes its own default.
  const base = typeof document !== 'undefined' ? document.baseURI : globalThis.location.href;
  return new URL('ort/', base).href;
}

let configured: string | undefined;

/** Points ONNX Runtime Web at its `.mjs`/`.wasm` files and sets the thread count (once per realm). */
export function configureOrt(settings: WebSessionSettings): void {
  const wasmPaths = settings.wasmPaths ?? defaultWasmPaths();
  const threads =
    settings.numThreads ?? (globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 1)) : 1);
  const key = JSON.stringify([wasmPaths, threads]);
  if (configured === key) return;
  if (configured !== undefined) {
    // ORT reads these when its runtime first starts; later changes have no effect in this realm.
    return;
  }
  configured = key;
  ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
}

/**
 * An ONNX Runtime Web session as core's `InferenceBackend`, through `@sparsevit/onnx`'s
 * `ortSessionBackend` as in Node: only configuring the WASM runtime, creating the session, and
 * saying why it could not start, are the browser's own.
 */
export async function createOrtWebBackend(
  model: Uint8Array,
  imgSize: number,
  device: ResolvedDevice,
  settings: WebSessionSettings = {},
): Promise<InferenceBackend> {
  configureOrt(settings);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: [device],
      graphOptimizationLevel: 'all',
      // On WebGPU keep the output where ORT reads it back once per run.
      preferredOutputLocation: 'cpu',
    });
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (/failed to fetch|\.wasm|\.mjs|import|MIME/i.test(message)) {
      throw new SparseViTError(
        'BACKEND_UNAVAILABLE',
        `onnxruntime-web could not load its WASM runtime from ${JSON.stringify(ort.env.wasm.wasmPaths)}: ${message}. ` +
          'Serve onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.{mjs,wasm} from your app (the sparsevitWeb() Vite plugin does) and pass `wasmPaths`.',
        { cause: error },
      );
    }
    if (device === 'webgpu') {
      throw new SparseViTError('BACKEND_UNAVAILABLE', `onnxruntime-web could not start the WebGPU execution provider: ${message}`, { cause: error });
    }
    throw new SparseViTError('CORRUPT_WEIGHTS', `ONNX Runtime rejected the model: ${message}`, { cause: error });
  }
  return ortSessionBackend(session, { Tensor: ort.Tensor, imgSize, name: 'onnxruntime-web', device });
}
