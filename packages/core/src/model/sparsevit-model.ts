import type { SparseViTConfig } from '../config/sparsevit-config';
import type { SparseViTError } from '../errors';
import type { DetectBatchOptions, DetectionResult, DetectOptions } from './detection-result';

/** The outcome of one input of a batch: a batch never fails as a whole because one input did. */
export type DetectionOutcome<Input> =
  | { ok: true; index: number; input: Input; result: DetectionResult }
  | { ok: false; index: number; input: Input; error: SparseViTError };

/**
 * The model interface every adapter implements (`@sparsevit/node`, `@sparsevit/web`,
 * `@sparsevit/tfjs`). `Input` is what the adapter can decode: a path or a Buffer in Node, a
 * `Blob` or an `HTMLImageElement` in a browser, and everywhere a `RawImage`.
 */
export interface SparseViTModel<Input> {
  readonly config: SparseViTConfig;
  /** Execution backend, e.g. `onnxruntime-node`, `onnxruntime-web`, `tfjs`. */
  readonly backend: string;
  /** Device the backend runs on, e.g. `cpu`, `cuda`, `webgpu`, `wasm`. */
  readonly device: string;
  /** Runs detection on one image. Rejects with a `SparseViTError` on a bad input. */
  detect(input: Input, options?: DetectOptions): Promise<DetectionResult>;
  /**
   * Runs detection on many images, `batchSize` per forward pass. Resolves with one outcome per
   * input, in input order; an input that cannot be decoded is a failed outcome, the others
   * still run.
   */
  detectBatch(inputs: readonly Input[], options?: DetectBatchOptions): Promise<DetectionOutcome<Input>[]>;
  /**
   * Streams outcomes for an (async) iterable of inputs, in order, holding at most one batch in
   * memory: the way to run a dataset of tens of thousands of images.
   */
  detectStream(inputs: Iterable<Input> | AsyncIterable<Input>, options?: DetectBatchOptions): AsyncIterable<DetectionOutcome<Input>>;
  /** Releases the backend's sessions and buffers. Later calls reject with code `DISPOSED`. */
  dispose(): Promise<void>;
}
