import { SparseViTError, type InferenceBackend } from '@sparsevit/core';
import { availableParallelism } from 'node:os';
import { INPUT_NAME, PROBABILITY_NAME } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-node';

export type NodeDevice = 'cpu' | 'cuda' | 'webgpu';

export interface OrtSessionSettings {
  /** Threads for one operator; default: every core the process may use (`os.availableParallelism()`). */
  intraOpNumThreads?: number;
  /** Extra ONNX Runtime session options, merged over ours. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

const CUDA_HELP =
  'The CUDA execution provider of onnxruntime-node is not installed. Its libraries are not on the npm registry: ' +
  "onnxruntime-node's install script downloads them. On a machine with internet access, NVIDIA driver, CUDA 12 and " +
  'cuDNN 9, reinstall it with the download enabled: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` ' +
  '(with pnpm, allow its build script in pnpm-workspace.yaml `allowBuilds`). Or pass `fallbackToCpu: true` to run on the CPU.';

function deviceHelp(device: NodeDevice): string {
  if (device === 'cuda') return CUDA_HELP;
  if (device === 'webgpu') return 'The WebGPU execution provider needs a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) adapter; none was usable.';
  return '';
}

/**
 * Checks the graph's input against the config the model is run with (for an `.onnx` file, the
 * one in its `sparsevit.config` metadata): a file whose metadata disagrees with its graph is
 * corrupt, and would otherwise fail every image at run time, as if the backend were at fault.
 */
function checkInputSize(session: ort.InferenceSession, imgSize: number): void {
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
 * An ONNX Runtime session (from a model path or bytes) as core's `InferenceBackend`: one session
 * per model, created once;
 * each run feeds the preprocessed batch and returns the `probability` output.
 */
export async function createOnnxRuntimeBackend(
  model: string | Uint8Array,
  imgSize: number,
  device: NodeDevice,
  settings: OrtSessionSettings = {},
): Promise<InferenceBackend> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [device],
    graphOptimizationLevel: 'all',
    // ONNX Runtime sizes its pool from the physical cores it detects, and on virtual machines it
    // can detect one: measured on a 2-vCPU machine, its default ran the base model in 618 ms,
    // two threads in 425 ms. Every core the process may use is the better default.
    intraOpNumThreads: settings.intraOpNumThreads ?? availableParallelism(),
    ...settings.sessionOptions,
  };
  let session: ort.InferenceSession;
  try {
    // Two branches only for the type checker: `create` has one overload per argument type.
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (device !== 'cpu') {
      throw new SparseViTError('BACKEND_UNAVAILABLE', `onnxruntime-node could not start the ${device} execution provider: ${message}\n${deviceHelp(device)}`, { cause: error });
    }
    throw new SparseViTError('CORRUPT_WEIGHTS', `ONNX Runtime rejected the model: ${message}`, { cause: error });
  }
  try {
    checkInputSize(session, imgSize);
  } catch (error) {
    await session.release();
    throw error;
  }
  return {
    name: 'onnxruntime-node',
    device,
    async run(input, batch) {
      // On the CPU a batch runs one image at a time: a physical batch of 4 was 14% slower per
      // image than batch 1 (base model, 2 cores), its activations outgrowing the caches. GPUs
      // get the whole batch in one run.
      const step = device === 'cpu' ? 1 : batch;
      const plane = 3 * imgSize * imgSize;
      const maps = new Float32Array(batch * imgSize * imgSize);
      for (let first = 0; first < batch; first += step) {
        const count = Math.min(step, batch - first);
        const slice = input.subarray(first * plane, (first + count) * plane);
        const outputs = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', slice, [count, 3, imgSize, imgSize]) }, [PROBABILITY_NAME]);
        maps.set(outputs[PROBABILITY_NAME].data as Float32Array, first * imgSize * imgSize);
      }
      return maps;
    },
    async dispose() {
      await session.release();
    },
  };
}
