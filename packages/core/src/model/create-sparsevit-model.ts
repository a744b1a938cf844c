import type { SparseViTConfig } from '../config/sparsevit-config';
import { abortError, isSparseViTError, SparseViTError, throwIfAborted, type SparseViTErrorCode } from '../errors';
import { maxScore, probabilityToMask } from '../image/postprocess';
import { preprocess } from '../image/preprocess';
import { DEFAULT_MAX_PIXELS, type RawImage } from '../image/raw-image';
import { resizeLanczosMap } from '../image/resize-lanczos';
import type { DetectBatchOptions, DetectionResult, DetectOptions } from './detection-result';
import { checkPositiveInteger, checkThreshold } from './load-options';
import type { DetectionOutcome, SparseViTModel } from './sparsevit-model';

/**
 * What an adapter supplies: a forward pass on preprocessed input. Everything around it
 * (decoding order, batching, preprocessing, resampling, masks, errors) is shared here so the
 * adapters stay thin and alike.
 */
export interface InferenceBackend {
  /** e.g. `onnxruntime-node`. */
  readonly name: string;
  /** e.g. `cpu`. */
  readonly device: string;
  /**
   * Runs the network on `batch` images laid out `[batch, 3, img, img]` and resolves with the
   * network-resolution probability maps, `[batch, img, img]`.
   */
  run(input: Float32Array, batch: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface DecodeOptions {
  /** Reject images with more pixels than this (from the header, before decoding). */
  maxPixels: number;
}

/** Turns an adapter's input (path, Buffer, Blob, element, ...) into 8-bit pixels. */
export type ImageDecoder<Input> = (input: Input, options: DecodeOptions) => Promise<RawImage>;

export interface CreateSparseViTModelOptions<Input> {
  config: SparseViTConfig;
  backend: InferenceBackend;
  decode: ImageDecoder<Input>;
  /** Pixel limit per input image; default `DEFAULT_MAX_PIXELS` (100 MP). */
  maxPixels?: number;
  /** Images per forward pass in `detectBatch` / `detectStream`; default 1. */
  batchSize?: number;
}

interface Prepared<Input> {
  index: number;
  input: Input;
  image?: RawImage;
  error?: SparseViTError;
  decodeMs: number;
  preprocessMs: number;
}

const now = () => performance.now();

function toSparseViTError(error: unknown, fallback: SparseViTErrorCode, context: string): SparseViTError {
  if (isSparseViTError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SparseViTError(fallback, `${context}: ${message}`, { cause: error });
}

/**
 * Builds the shared `SparseViTModel` around an adapter's backend and decoder.
 */
export function createSparseViTModel<Input>(options: CreateSparseViTModelOptions<Input>): SparseViTModel<Input> {
  const { config, backend, decode } = options;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const defaultBatchSize = checkPositiveInteger('batchSize', options.batchSize ?? 1);
  const size = config.img_size;
  const planeSize = 3 * size * size;
  const mapSize = size * size;
  let disposed = false;
  // One input buffer, grown to the largest batch seen, reused across calls.
  let inputBuffer = new Float32Array(0);
  // The tail of the serialised section (see `serialized`).
  let queue: Promise<unknown> = Promise.resolve();

  const disposedError = () => new SparseViTError('DISPOSED', 'this SparseViT model has been disposed');
  const ensureLive = () => {
    if (disposed) throw disposedError();
  };

  async function prepare(input: Input, index: number): Promise<Prepared<Input>> {
    const t0 = now();
    try {
      const image = await decode(input, { maxPixels });
      return { index, input, image, decodeMs: now() - t0, preprocessMs: 0 };
    } catch (error) {
      return { index, input, error: toSparseViTError(error, 'INVALID_IMAGE', 'could not decode the image'), decodeMs: now() - t0, preprocessMs: 0 };
    }
  }

  /**
   * Runs `job` after every job queued before it. Forward passes are serialised (a backend
   * session is not re-entrant on every runtime), and so is filling the one input buffer they
   * read: onnxruntime-node reads the buffer on its own thread while `run` is pending, so a
   * concurrent `detect` that preprocessed into it then would change another image's input.
   */
  function serialized<T>(job: () => Promise<T>): Promise<T> {
    const run = queue.then(job);
    queue = run.catch(() => undefined);
    return run;
  }

  async function runChunk(chunk: Prepared<Input>[], threshold: number, returnImage: boolean): Promise<DetectionOutcome<Input>[]> {
    const live = chunk.filter((p) => p.image);
    const runnable: Prepared<Input>[] = [];
    let maps: Float32Array | undefined;
    let inferenceMs = 0;
    if (live.length > 0) {
      await serialized(async () => {
        if (disposed) {
          const failure = disposedError();
          for (const p of live) p.error = failure;
          return;
        }
        if (inputBuffer.length < live.length * planeSize) inputBuffer = new Float32Array(live.length * planeSize);
        for (const p of live) {
          const t0 = now();
          try {
            preprocess(p.image as RawImage, size, inputBuffer, runnable.length * planeSize);
            runnable.push(p);
          } catch (error) {
            p.error = toSparseViTError(error, 'INVALID_IMAGE', 'could not preprocess the image');
          }
          p.preprocessMs = now() - t0;
        }
        if (runnable.length === 0) return;
        const t0 = now();
        try {
          maps = await backend.run(inputBuffer.subarray(0, runnable.length * planeSize), runnable.length);
        } catch (error) {
          const failure = toSparseViTError(error, 'BACKEND_UNAVAILABLE', `${backend.name} (${backend.device}) failed to run the model`);
          for (const p of runnable) p.error = failure;
        }
        inferenceMs = now() - t0;
      });
    }
    return chunk.map((p): DetectionOutcome<Input> => {
      if (p.error || !maps) return { ok: false, index: p.index, input: p.input, error: p.error as SparseViTError };
      const slot = runnable.indexOf(p);
      const t0 = now();
      const image = p.image as RawImage;
      const networkProbability = maps.slice(slot * mapSize, (slot + 1) * mapSize);
      let probability: Float32Array;
      let mask: Uint8Array;
      try {
        // Whatever goes wrong with one image (an allocation at its full size) is its outcome,
        // not the end of the stream: the rest of the batch still runs.
        probability = resizeLanczosMap(networkProbability, size, size, image.width, image.height);
        mask = probabilityToMask(probability, threshold);
      } catch (error) {
        return { ok: false, index: p.index, input: p.input, error: toSparseViTError(error, 'INVALID_IMAGE', 'could not map the probability to the image size') };
      }
      const result: DetectionResult = {
        width: image.width,
        height: image.height,
        probability,
        mask,
        threshold,
        score: maxScore(networkProbability),
        networkProbability,
        networkSize: size,
        timings: { decodeMs: p.decodeMs, preprocessMs: p.preprocessMs, inferenceMs, postprocessMs: 0, totalMs: 0 },
      };
      result.timings.postprocessMs = now() - t0;
      result.timings.totalMs = p.decodeMs + p.preprocessMs + inferenceMs + result.timings.postprocessMs;
      if (returnImage) result.image = image;
      return { ok: true, index: p.index, input: p.input, result };
    });
  }

  async function* detectStream(inputs: Iterable<Input> | AsyncIterable<Input>, opts: DetectBatchOptions = {}): AsyncGenerator<DetectionOutcome<Input>> {
    ensureLive();
    const threshold = checkThreshold(opts.threshold ?? 0.5);
    const batchSize = checkPositiveInteger('batchSize', opts.batchSize ?? defaultBatchSize);
    let chunk: Prepared<Input>[] = [];
    let index = 0;
    const flush = async () => {
      const outcomes = await runChunk(chunk, threshold, opts.returnImage ?? false);
      chunk = [];
      return outcomes;
    };
    for await (const input of inputs) {
      throwIfAborted(opts.signal);
      chunk.push(await prepare(input, index++));
      if (chunk.length === batchSize) yield* await flush();
    }
    if (chunk.length > 0) yield* await flush();
  }

  return sparseViTModelFromStream({
    config,
    backend: backend.name,
    device: backend.device,
    detectStream,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await queue;
      inputBuffer = new Float32Array(0);
      await backend.dispose();
    },
  });
}

/** `INVALID_ARGUMENT` unless `inputs` is a list (any iterable or async iterable but a string). */
function checkInputList(inputs: unknown): void {
  const iterable = typeof inputs === 'object' && inputs !== null && (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
  if (!iterable) {
    const got = inputs === null ? 'null' : typeof inputs === 'string' ? `the string "${inputs.slice(0, 80)}"` : typeof inputs;
    throw new SparseViTError('INVALID_ARGUMENT', `detectBatch and detectStream take a list of inputs (an array or any iterable), got ${got}; for one image, use detect`);
  }
}

/**
 * Completes a `SparseViTModel` from its streaming core: `detect` and `detectBatch` are
 * `detectStream` over one input or an array. Adapters whose pipeline lives elsewhere (a Web
 * Worker) implement `detectStream` and get the rest from here, so every model behaves alike.
 */
export function sparseViTModelFromStream<Input>(parts: {
  config: SparseViTConfig;
  backend: string;
  device: string;
  detectStream: SparseViTModel<Input>['detectStream'];
  dispose: () => Promise<void>;
}): SparseViTModel<Input> {
  // Checked here, once for every adapter: from JavaScript, `detectBatch('photo.jpg')` or
  // `detectBatch(undefined)` would otherwise iterate a string's characters or throw a TypeError.
  async function* detectStream(inputs: Iterable<Input> | AsyncIterable<Input>, opts?: DetectBatchOptions): AsyncGenerator<DetectionOutcome<Input>> {
    checkInputList(inputs);
    yield* parts.detectStream(inputs, opts ?? {});
  }
  return {
    config: parts.config,
    backend: parts.backend,
    device: parts.device,
    async detect(input: Input, opts?: DetectOptions) {
      opts ??= {};
      for await (const outcome of detectStream([input], { ...opts, batchSize: 1 })) {
        if (outcome.ok) return outcome.result;
        throw outcome.error;
      }
      throw abortError(opts.signal);
    },
    async detectBatch(inputs: readonly Input[], opts?: DetectBatchOptions) {
      opts ??= {};
      const outcomes: DetectionOutcome<Input>[] = [];
      for await (const outcome of detectStream(inputs, opts)) {
        outcomes.push(outcome);
        opts.onProgress?.(outcomes.length, inputs.length);
      }
      return outcomes;
    },
    detectStream,
    dispose: parts.dispose,
  };
}
