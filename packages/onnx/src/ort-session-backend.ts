import { SparseViTError, type InferenceBackend } from '@sparsevit/core';
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { INPUT_NAME, PROBABILITY_NAME } from './lower-to-onnx';

export interface OrtSessionBackendOptions {
  /** The runtime's `Tensor` class (`ort.Tensor` of onnxruntime-node or onnxruntime-web): a session only takes its own. */
  Tensor: typeof Tensor;
  /** The config's `img_size`: the input's side. */
  imgSize: number;
  /** e.g. `onnxruntime-node`. */
  name: string;
  /** e.g. `cpu`, `webgpu`. */
  device: string;
  /**
   * Images per `session.run`: a batch is split into runs of at most this many. Default: the whole
   * batch in one run.
   */
  imagesPerRun?: number;
}

/**
 * Checks the graph's input against the config the model is run with (for an `.onnx` file, the
 * one in its `sparsevit.config` metadata): a file whose metadata disagrees with its graph is
 * corrupt, and would otherwise fail every image at run time, as if the backend were at fault.
 */
function checkInputSize(session: InferenceSession, imgSize: number): void {
  const input = session.inputMetadata.find((m) => m.name === INPUT_NAME);
  if (!input) {
    throw new SparseViTError('CORRUPT_WEIGHTS', `the ONNX model has no input named "${INPUT_NAME}"; it is not a SparseViT model exported by this SDK`);
  }
  if (!input.isTensor) return;
  const [, , height, width] = input.shape;
  const fixed = (d: unknown): d is number => typeof d === 'number' && d > 0;
  if ((fixed(height) && height !== imgSize) || (fixed(width) && width !== imgSize)) {
    throw new SparseViTError(
      'CORRUPT_WEIGHTS',
      `the ONNX model's input is ${String(height)} x ${String(width)} but its config (sparsevit.config metadata) says img_size ${imgSize}; the file's metadata does not describe its graph`,
      { details: { inputShape: input.shape, imgSize } },
    );
  }
}

/**
 * An ONNX Runtime session of a lowered SparseViT model (onnxruntime-node's or onnxruntime-web's:
 * both implement onnxruntime-common's `InferenceSession`) as core's `InferenceBackend`. Each run
 * feeds the preprocessed batch to `input` and reads `probability` back; disposing releases the
 * session. The adapters keep only what differs: creating the session, and their error wording.
 * On failure of the input check the session is released before the error is thrown.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-node';
 * const session = await ort.InferenceSession.create(modelBytes);
 * const backend = await ortSessionBackend(session, { Tensor: ort.Tensor, imgSize: 512, name: 'onnxruntime-node', device: 'cpu' });
 * ```
 */
export async function ortSessionBackend(session: InferenceSession, options: OrtSessionBackendOptions): Promise<InferenceBackend> {
  const { Tensor: OrtTensor, imgSize } = options;
  try {
    checkInputSize(session, imgSize);
  } catch (error) {
    await session.release();
    throw error;
  }
  const plane = 3 * imgSize * imgSize;
  const mapSize = imgSize * imgSize;
  return {
    name: options.name,
    device: options.device,
    async run(input, batch) {
      const step = Math.max(1, Math.min(batch, options.imagesPerRun ?? batch));
      const maps = step === batch ? undefined : new Float32Array(batch * mapSize);
      for (let first = 0; first < batch; first += step) {
        const count = Math.min(step, batch - first);
        const feed = new OrtTensor('float32', input.subarray(first * plane, (first + count) * plane), [count, 3, imgSize, imgSize]);
        const outputs = await session.run({ [INPUT_NAME]: feed }, [PROBABILITY_NAME]);
        const probability = outputs[PROBABILITY_NAME];
        // getData() downloads a GPU-resident output; on the CPU it is the data itself.
        const data = (await probability.getData()) as Float32Array;
        probability.dispose();
        if (!maps) return data;
        maps.set(data, first * mapSize);
      }
      return maps!;
    },
    async dispose() {
      await session.release();
    },
  };
}
