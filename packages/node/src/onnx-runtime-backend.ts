import { SparseViTError, type InferenceBackend } from '@sparsevit/core';
import * as ort from 'onnxruntime-node';

export type NodeDevice = 'cpu' | 'cuda' | 'webgpu';

export interface OrtSessionSettings {
  /** Threads for one operator; default: ONNX Runtime's choice (the physical cores). */
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
    ...(settings.intraOpNumThreads ? { intraOpNumThreads: settings.intraOpNumThreads } : {}),
    ...settings.sessionOptions,
  };
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (device !== 'cpu') {
      throw new SparseViTError('BACKEND_UNAVAILABLE', `onnxruntime-node could not start the ${device} execution provider: ${message}\n${deviceHelp(device)}`, { cause: error });
    }
    throw new SparseViTError('CORRUPT_WEIGHTS', `ONNX Runtime rejected the model: ${message}`, { cause: error });
  }
  return {
    name: 'onnxruntime-node',
    device,
    async run(input, batch) {
      const feeds = { input: new ort.Tensor('float32', input, [batch, 3, imgSize, imgSize]) };
      const outputs = await session.run(feeds, ['probability']);
      return outputs.probability.data as Float32Array;
    },
    async dispose() {
      await session.release();
    },
  };
}
