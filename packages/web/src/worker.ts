// The inference worker: owns the ONNX Runtime session, decodes, preprocesses, runs and resamples,
// so the page's main thread only posts inputs and receives results (transferred, not copied).
import type { SparseViTModel } from '@sparsevit/core';
import { createLocalModel } from './local-model';
import { resultTransferables, serializeError, type FromWorker, type ToWorker, type WireOutcome } from './protocol';
import type { WebImageInput } from './types';

/** The worker global, typed as much as we use (the DOM lib has no worker scope types). */
const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
};

let model: SparseViTModel<WebImageInput> | undefined;
const controllers = new Map<number, AbortController>();

const post = (message: FromWorker, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

async function handle(message: ToWorker): Promise<void> {
  switch (message.type) {
    case 'load': {
      const { id, options } = message;
      try {
        if (model) throw new Error('this worker already holds a model');
        const local = await createLocalModel({
          ...options,
          onProgress: (progress) => post({ type: 'progress', id, progress }),
          onWarning: (text) => post({ type: 'warning', id, message: text }),
        });
        model = local.model;
        post({ type: 'loaded', id, device: local.device, dtype: local.dtype, config: model.config });
      } catch (error) {
        post({ type: 'error', id, error: serializeError(error) });
      }
      return;
    }
    case 'detect': {
      const { id } = message;
      const controller = new AbortController();
      controllers.set(id, controller);
      try {
        if (!model) throw new Error('no model loaded in this worker');
        const outcomes = await model.detectBatch(message.inputs as WebImageInput[], {
          threshold: message.threshold,
          returnImage: message.returnImage,
          batchSize: message.batchSize,
          signal: controller.signal,
        });
        const transfer = new Set<Transferable>();
        const wire = outcomes.map((o): WireOutcome => {
          if (!o.ok) return { ok: false, index: o.index, error: serializeError(o.error) };
          resultTransferables(o.result, transfer);
          return { ok: true, index: o.index, result: o.result };
        });
        for (const input of message.inputs) if (input instanceof ImageBitmap) input.close();
        post({ type: 'outcomes', id, outcomes: wire }, [...transfer]);
      } catch (error) {
        post({ type: 'error', id, error: serializeError(error) });
      } finally {
        controllers.delete(id);
      }
      return;
    }
    case 'abort':
      controllers.get(message.id)?.abort();
      return;
    case 'dispose':
      await model?.dispose();
      model = undefined;
      post({ type: 'disposed', id: message.id });
      return;
  }
}

scope.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  void handle(event.data);
});
