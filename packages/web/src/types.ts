import type { BaseLoadModelOptions, RawImage, SparseViTModel } from '@sparsevit/core';
import type { OnnxDtype } from '@sparsevit/onnx';

/**
 * What `@sparsevit/web` accepts as an image. Encoded files (`File`, `Blob`) give the most
 * faithful pixels (decoded without colour management, like PIL); elements and bitmaps are read
 * back as the browser holds them.
 */
export type WebImageInput =
  | Blob
  | ImageBitmap
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | RawImage;

/** The devices `@sparsevit/web` runs on. `auto`: WebGPU when the browser gives an adapter, else WASM. */
export const WEB_DEVICES = ['webgpu', 'wasm', 'auto'] as const;

export type WebDevice = (typeof WEB_DEVICES)[number];

/** Where the weights come from: a URL (fetched with progress, cached), a `File`/`Blob`, or bytes. */
export type WeightsInput = string | URL | Blob | ArrayBuffer | Uint8Array;

export type LoadPhase = 'download' | 'cache' | 'build' | 'session';

export interface LoadProgress {
  phase: LoadPhase;
  /** Bytes read so far (`download` and `cache`), else 0. */
  loaded: number;
  /** Total bytes when known (from `Content-Length` or the Blob's size), else 0. */
  total: number;
  /** The weights URL, when loading from one. */
  url?: string;
}

export interface WebSessionSettings {
  /**
   * Where ONNX Runtime Web finds `ort-wasm-simd-threaded.jsep.mjs` and `.wasm`: a URL prefix
   * ending in `/`, or ORT's `{ mjs, wasm }` object. Default: `ort/` beside the page
   * (`new URL('ort/', document.baseURI)`), where the `sparsevitWeb()` Vite plugin puts them.
   */
  wasmPaths?: string | { mjs?: string; wasm?: string };
  /** WASM threads. Default: `min(4, hardwareConcurrency)` when `crossOriginIsolated`, else 1. */
  numThreads?: number;
}

export interface LoadModelOptions extends BaseLoadModelOptions, WebSessionSettings {
  /** `.safetensors`, `.pth` (the authors' checkpoint) or `.onnx`: URL, File/Blob or bytes. */
  weights: WeightsInput;
  /**
   * Float16 weights (e.g. from `sparsevit convert --fp16`), half the download. Used instead of
   * `weights` when the model runs on WebGPU and the adapter has `shader-f16`; ignored otherwise.
   */
  weightsFp16?: WeightsInput;
  /** Default `auto`. */
  device?: WebDevice;
  /**
   * The arithmetic of the model built from `.pth` / `.safetensors` weights: `fp32` (default),
   * `fp16` (float16 weights, float32 arithmetic) or `q8` (int8 attention linears, a quarter of
   * the memory; WASM only: on WebGPU it runs as `fp16`, with a warning). An `.onnx` file runs as
   * it was exported; a `dtype` that differs from the one it records is an `INVALID_ARGUMENT` error.
   */
  dtype?: OnnxDtype;
  /** Run inference in a Web Worker so the page never freezes. Default true. */
  worker?: boolean;
  /**
   * Makes the worker, when your bundler does not follow the default
   * `new Worker(new URL('./worker.js', import.meta.url))`; with Vite e.g.
   * `import W from '@sparsevit/web/worker?worker'` and `createWorker: () => new W()`.
   */
  createWorker?: () => Worker;
  /**
   * Cache downloaded weights (Cache API) under this cache name, so a second visit loads offline.
   * `false` disables. Default `'sparsevit-weights-v1'`.
   */
  cache?: string | false;
  /** Extra `fetch` options for the weights URL (headers, credentials). */
  fetchInit?: RequestInit;
  onProgress?: (progress: LoadProgress) => void;
  /** Receives warnings (e.g. WebGPU unavailable with `device: 'auto'`). Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Aborts the download and the session creation. */
  signal?: AbortSignal;
}

export interface WebSparseViTModel extends SparseViTModel<WebImageInput> {
  /** `webgpu` or `wasm`: where it really runs (after `auto`). */
  readonly device: 'webgpu' | 'wasm';
  /** Whether the float16 weights were chosen. */
  readonly fp16: boolean;
  /** The arithmetic it runs with (`q8` asked for on WebGPU runs as `fp16`). */
  readonly dtype: OnnxDtype;
  /** Whether inference runs in a Web Worker. */
  readonly inWorker: boolean;
}
