import {
  abortError,
  checkPositiveInteger,
  checkThreshold,
  isRawImage,
  sparseViTModelFromStream,
  SparseViTError,
  throwIfAborted,
  type DetectBatchOptions,
  type DetectionOutcome,
  type SparseViTConfig,
  type SparseViTModel,
} from '@sparsevit/core';
import { deserializeError, type FromWorker, type ToWorker, type ToWorkerBody, type WireInput, type WireLoadOptions, type WireOutcome } from './protocol';
import type { ResolvedDevice } from './ort-web-backend';
import type { LoadProgress, WebImageInput } from './types';

interface Pending {
  resolve: (message: FromWorker) => void;
  reject: (error: SparseViTError) => void;
  onProgress?: (progress: LoadProgress) => void;
  onWarning?: (message: string) => void;
}

/** The default worker: `dist/worker.js` beside this module, resolved by the bundler (Vite, webpack 5, ...). */
export function createDefaultWorker(): Worker {
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'sparsevit' });
}

/**
 * Turns a page-side input into what crosses to the worker without freezing the page: Blobs go as
 * they are (the worker decodes them), elements and canvases become ImageBitmaps (transferred),
 * pixel buffers are copied once and transferred (the caller's own buffers stay usable).
 */
async function toWire(input: WebImageInput, transfer: Transferable[]): Promise<WireInput> {
  if (input instanceof Blob) return input;
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) {
    const data = new Uint8ClampedArray(input.data);
    transfer.push(data.buffer);
    return { data, width: input.width, height: input.height, channels: 4 };
  }
  if (isRawImage(input)) {
    const data = input.data instanceof Uint8ClampedArray ? new Uint8ClampedArray(input.data) : new Uint8Array(input.data);
    transfer.push(data.buffer);
    return { ...input, data };
  }
  let bitmap: ImageBitmap;
  try {
    if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement && (!input.complete || input.naturalWidth === 0)) await input.decode();
    bitmap = await createImageBitmap(input as ImageBitmapSource, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (error) {
    throw new SparseViTError('INVALID_IMAGE', `could not read the image: ${(error as Error).message}`, { cause: error });
  }
  transfer.push(bitmap);
  return bitmap;
}

/** Talks to one inference worker. */
export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: SparseViTError | undefined;

  constructor(private readonly worker: Worker) {
    worker.addEventListener('message', (event: MessageEvent<FromWorker>) => this.receive(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.fail(new SparseViTError('BACKEND_UNAVAILABLE', `the sparsevit worker failed: ${event.message || 'could not load the worker script'}`));
    });
    worker.addEventListener('messageerror', () => this.fail(new SparseViTError('BACKEND_UNAVAILABLE', 'a message from the sparsevit worker could not be read')));
  }

  private receive(message: FromWorker): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') return pending.onProgress?.(message.progress);
    if (message.type === 'warning') return pending.onWarning?.(message.message);
    this.pending.delete(message.id);
    if (message.type === 'error') pending.reject(deserializeError(message.error));
    else pending.resolve(message);
  }

  private fail(error: SparseViTError): void {
    this.failure = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  private request(message: ToWorkerBody, transfer: Transferable[] = [], hooks: Partial<Pending> = {}, signal?: AbortSignal): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<FromWorker>((resolve, reject) => {
      const onAbort = () => {
        this.pending.delete(id);
        this.worker.postMessage({ type: 'abort', id } satisfies ToWorker);
        reject(abortError(signal));
      };
      if (signal?.aborted) return reject(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        ...hooks,
        resolve: (m) => (done(), resolve(m)),
        reject: (e) => (done(), reject(e)),
      });
      this.worker.postMessage({ ...message, id } as ToWorker, transfer);
    });
  }

  async load(options: WireLoadOptions, hooks: { onProgress?: (p: LoadProgress) => void; onWarning?: (m: string) => void; signal?: AbortSignal }) {
    const reply = await this.request({ type: 'load', options }, [], { onProgress: hooks.onProgress, onWarning: hooks.onWarning }, hooks.signal);
    if (reply.type !== 'loaded') throw new SparseViTError('BACKEND_UNAVAILABLE', `unexpected reply from the worker: ${reply.type}`);
    return { device: reply.device, dtype: reply.dtype, config: reply.config };
  }

  /** Runs one chunk of inputs in the worker: one forward pass per `batchSize` of them. */
  async detectChunk(inputs: readonly WebImageInput[], options: DetectBatchOptions & { batchSize: number }): Promise<Array<WireOutcome & { input?: never }>> {
    const transfer: Transferable[] = [];
    const wire: WireInput[] = [];
    const slots: number[] = [];
    const local: WireOutcome[] = [];
    for (let i = 0; i < inputs.length; i++) {
      try {
        wire.push(await toWire(inputs[i], transfer));
        slots.push(i);
      } catch (error) {
        const e = error instanceof SparseViTError ? error : new SparseViTError('INVALID_IMAGE', String(error));
        local.push({ ok: false, index: i, error: { code: e.code, message: e.message } });
      }
    }
    let remote: WireOutcome[] = [];
    if (wire.length > 0) {
      const reply = await this.request(
        { type: 'detect', inputs: wire, threshold: options.threshold, returnImage: options.returnImage, batchSize: options.batchSize },
        transfer,
        {},
        options.signal,
      );
      if (reply.type !== 'outcomes') throw new SparseViTError('BACKEND_UNAVAILABLE', `unexpected reply from the worker: ${reply.type}`);
      remote = reply.outcomes.map((o) => ({ ...o, index: slots[o.index] }));
    }
    return [...local, ...remote].sort((a, b) => a.index - b.index);
  }

  async dispose(): Promise<void> {
    try {
      if (!this.failure) await this.request({ type: 'dispose' });
    } finally {
      this.worker.terminate();
      this.fail(new SparseViTError('DISPOSED', 'this SparseViT model has been disposed'));
    }
  }

  terminate(): void {
    this.worker.terminate();
    this.fail(new SparseViTError('DISPOSED', 'the sparsevit worker was stopped'));
  }
}

/**
 * The `SparseViTModel` interface over a worker: each call sends its inputs, at most one
 * `batchSize` chunk at a time, and yields the outcomes in input order.
 */
export function workerModel(client: WorkerClient, config: SparseViTConfig, device: ResolvedDevice, defaultBatchSize: number): SparseViTModel<WebImageInput> {
  let disposed = false;
  const ensureLive = () => {
    if (disposed) throw new SparseViTError('DISPOSED', 'this SparseViT model has been disposed');
  };

  async function* detectStream(inputs: Iterable<WebImageInput> | AsyncIterable<WebImageInput>, opts: DetectBatchOptions = {}): AsyncGenerator<DetectionOutcome<WebImageInput>> {
    ensureLive();
    // The worker checks these too; checked here, a bad option fails before anything is sent.
    if (opts.threshold !== undefined) checkThreshold(opts.threshold);
    const batchSize = checkPositiveInteger('batchSize', opts.batchSize ?? defaultBatchSize);
    let chunk: WebImageInput[] = [];
    let base = 0;
    const flush = async (): Promise<DetectionOutcome<WebImageInput>[]> => {
      const sent = chunk;
      chunk = [];
      const outcomes = await client.detectChunk(sent, { ...opts, batchSize });
      const start = base;
      base += sent.length;
      return outcomes.map((o) =>
        o.ok
          ? { ok: true, index: start + o.index, input: sent[o.index], result: o.result }
          : { ok: false, index: start + o.index, input: sent[o.index], error: deserializeError(o.error) },
      );
    };
    for await (const input of inputs) {
      throwIfAborted(opts.signal);
      chunk.push(input);
      if (chunk.length === batchSize) yield* await flush();
    }
    if (chunk.length > 0) yield* await flush();
  }

  return sparseViTModelFromStream<WebImageInput>({
    config,
    backend: 'onnxruntime-web',
    device,
    detectStream,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await client.dispose();
    },
  });
}
