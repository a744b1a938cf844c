import { DEFAULT_MODEL } from '@sparsevit/default-model';
import type { SparseViTModel } from '@sparsevit/core';
import type { NodeDevice, NodeImageInput } from '@sparsevit/node';
import type { OnnxDtype } from '@sparsevit/onnx';
import type { TfjsBackendName } from '@sparsevit/tfjs';
import { loadConfigOption } from './config-option';
import { explainLoadError } from './errors';
import { UsageError } from './usage-error';

/**
 * The execution backends the CLI can run the model on, and each one's devices: all of
 * `@sparsevit/node`'s `NODE_DEVICES` (checked below and by a test), and the tfjs backends that run
 * in Node. Spelled out rather than imported so that `--help` and usage errors load no runtime.
 */
export const BACKEND_DEVICES = {
  onnx: ['cpu', 'cuda', 'webgpu'] as const satisfies readonly NodeDevice[],
  tfjs: ['wasm', 'cpu'] as const satisfies readonly TfjsBackendName[],
};
// Fails to compile when @sparsevit/node gains a device this list lacks.
const everyNodeDevice: Exclude<NodeDevice, (typeof BACKEND_DEVICES.onnx)[number]> extends never ? true : never = true;
void everyNodeDevice;
export type CliBackend = keyof typeof BACKEND_DEVICES;

/** `--dtype`: the ONNX lowering's precision (see @sparsevit/onnx); spelled out for the same reason. */
export const CLI_DTYPES = ['fp32', 'fp16', 'q8'] as const satisfies readonly OnnxDtype[];
export type CliDtype = (typeof CLI_DTYPES)[number];

/**
 * Checks `--dtype`; `undefined` when not given: weights are lowered at fp32 and an `.onnx` file
 * runs as it was exported. TensorFlow.js computes in float32 only.
 */
export function parseDtype(command: string, dtype: string | undefined, backend: CliBackend): CliDtype | undefined {
  if (dtype === undefined) return undefined;
  const chosen = dtype as CliDtype;
  if (!CLI_DTYPES.includes(chosen)) throw new UsageError(`--dtype must be one of ${CLI_DTYPES.join(', ')}, got "${dtype}"`, command);
  if (backend === 'tfjs' && chosen !== 'fp32') throw new UsageError(`--dtype ${chosen} is an ONNX lowering: use it with --backend onnx (tfjs computes in fp32)`, command);
  return chosen;
}

export interface ModelSettings {
  backend: CliBackend;
  device: string;
  weights: string;
  /** The `--config` value (a JSON file or a preset name); without it, the weights' metadata. */
  config?: string;
  fallbackCpu: boolean;
  batchSize: number;
  maxPixels?: number;
  /** Not given: fp32 for weights, an `.onnx` file as exported. */
  dtype?: CliDtype;
}

/** Checks `--backend` and `--device` together; the device defaults to the backend's first. */
export function parseBackendDevice(command: string, backend: string | undefined, device: string | undefined): { backend: CliBackend; device: string } {
  const name = (backend ?? 'onnx') as CliBackend;
  if (!(name in BACKEND_DEVICES)) throw new UsageError(`--backend must be one of ${Object.keys(BACKEND_DEVICES).join(', ')}, got "${backend}"`, command);
  const devices: readonly string[] = BACKEND_DEVICES[name];
  const chosen = device ?? devices[0];
  if (!devices.includes(chosen)) throw new UsageError(`--device for --backend ${name} must be one of ${devices.join(', ')}, got "${chosen}"`, command);
  return { backend: name, device: chosen };
}

/**
 * Loads the model on the chosen backend through the packages' public entry points:
 * `@sparsevit/node` (ONNX Runtime) or `@sparsevit/tfjs` (TensorFlow.js, with the same sharp
 * decoder as the ONNX path, so both see the same pixels). Imported on demand, so a run on one
 * backend never loads the other runtime. `--config` is read first; a weights error comes back
 * with the file named (`explainLoadError`).
 */
export async function loadCliModel(settings: ModelSettings, onWarning: (message: string) => void): Promise<SparseViTModel<NodeImageInput>> {
  const config = await loadConfigOption(settings.config);
  if (settings.weights === DEFAULT_MODEL.file) process.stderr.write(`sparsevit: no --weights given: using ${DEFAULT_MODEL.notice}\n`);
  const common = { weights: settings.weights, config, batchSize: settings.batchSize, maxPixels: settings.maxPixels };
  try {
    if (settings.backend === 'tfjs') {
      const [{ loadModel }, { decodeImage }] = await Promise.all([import('@sparsevit/tfjs'), import('@sparsevit/node')]);
      return await loadModel<NodeImageInput>({ ...common, backend: settings.device as TfjsBackendName, decode: decodeImage });
    }
    const { loadModel } = await import('@sparsevit/node');
    return await loadModel({ ...common, device: settings.device as NodeDevice, fallbackToCpu: settings.fallbackCpu, onWarning, dtype: settings.dtype });
  } catch (error) {
    throw explainLoadError(error, settings.weights, config === undefined);
  }
}
