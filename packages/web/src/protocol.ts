// Messages between the page (`worker-client.ts`) and the inference worker (`worker.ts`).
import { SparseViTError, type BaseLoadModelOptions, type DetectionResult, type RawImage, type SparseViTConfig, type SparseViTErrorCode } from '@sparsevit/core';
import type { OnnxDtype } from '@sparsevit/onnx';
import type { ResolvedDevice } from './ort-web-backend';
import type { LoadProgress, WebDevice, WebSessionSettings } from './types';

/** An input as it crosses to the worker: a Blob (shared, not copied), a transferred bitmap, or pixels. */
export type WireInput = Blob | ImageBitmap | RawImage;

export interface SerializedError {
  code: SparseViTErrorCode;
  message: string;
  details?: unknown;
}

export type WireOutcome = { ok: true; index: number; result: DetectionResult } | { ok: false; index: number; error: SerializedError };

/** The load options the worker gets: the shared ones, the session settings, and the downloaded weights. */
export interface WireLoadOptions extends BaseLoadModelOptions, WebSessionSettings {
  weights: Blob | Uint8Array;
  device: WebDevice;
  fp16: boolean;
  dtype?: OnnxDtype;
}

export type ToWorker =
  | { type: 'load'; id: number; options: WireLoadOptions }
  | { type: 'detect'; id: number; inputs: WireInput[]; threshold?: number; returnImage?: boolean; batchSize?: number }
  | { type: 'abort'; id: number }
  | { type: 'dispose'; id: number };

/** A message to the worker before the client numbers it. */
export type ToWorkerBody = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

export type FromWorker =
  | { type: 'progress'; id: number; progress: LoadProgress }
  | { type: 'warning'; id: number; message: string }
  | { type: 'loaded'; id: number; device: ResolvedDevice; dtype: OnnxDtype; config: SparseViTConfig }
  | { type: 'outcomes'; id: number; outcomes: WireOutcome[] }
  | { type: 'disposed'; id: number }
  | { type: 'error'; id: number; error: SerializedError };

/** A structured clone drops an Error's own fields; send what a `SparseViTError` is made of. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof SparseViTError) {
    let details = error.details;
    try {
      structuredClone(details);
    } catch {
      details = undefined;
    }
    return { code: error.code, message: error.message, details };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'BACKEND_UNAVAILABLE', message };
}

export function deserializeError(error: SerializedError): SparseViTError {
  return new SparseViTError(error.code, error.message, error.details === undefined ? undefined : { details: error.details });
}

/** The buffers of a result, to transfer instead of copy (each once). */
export function resultTransferables(result: DetectionResult, into: Set<Transferable>): void {
  into.add(result.probability.buffer as ArrayBuffer);
  into.add(result.mask.buffer as ArrayBuffer);
  into.add(result.networkProbability.buffer as ArrayBuffer);
  if (result.image) into.add(result.image.data.buffer as ArrayBuffer);
}
