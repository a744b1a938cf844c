import { availableParallelism } from 'node:os';
import { checkPositiveInteger, SparseViTError, type InferenceBackend } from '@sparsevit/core';
import { ortSessionBackend } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-node';

/** The devices `@sparsevit/node` runs on. */
export const NODE_DEVICES = ['cpu', 'cuda', 'webgpu'] as const;

export type NodeDevice = (typeof NODE_DEVICES)[number];

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
 * An onnxruntime-node session (from a model path or bytes) as core's `InferenceBackend`, through
 * `@sparsevit/onnx`'s `ortSessionBackend`: only creating the session, and saying why a device
 * could not start, are Node's own.
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
    intraOpNumThreads: settings.intraOpNumThreads === undefined ? availableParallelism() : checkPositiveInteger('intraOpNumThreads', settings.intraOpNumThreads),
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
  // On the CPU a batch runs one image at a time: a physical batch of 4 was 14% slower per image
  // than batch 1 (base model, 2 cores), its activations outgrowing the caches. GPUs get the
  // whole batch in one run.
  return ortSessionBackend(session, { Tensor: ort.Tensor, imgSize, name: 'onnxruntime-node', device, imagesPerRun: device === 'cpu' ? 1 : undefined });
}
