import { readFile } from 'node:fs/promises';
import {
  bytesSource,
  checkLoadModelOptions,
  checkOneOf,
  createSparseViTModel,
  PRESETS,
  SparseViTError,
  type BaseLoadModelOptions,
  type ByteSource,
  type ConfigInput,
  type InferenceBackend,
  type SparseViTModel,
} from '@sparsevit/core';
import { externalizeOnnxWeights, lowerToOnnxWithExternalData, ONNX_DTYPES, readModelSource, type ModelSource, type OnnxDtype } from '@sparsevit/onnx';
import { decodeImage, type NodeImageInput } from './decode-image';
import { openFileSource } from './file-source';
import { withModelFiles } from './lowered-model-files';
import { createOnnxRuntimeBackend, NODE_DEVICES, type NodeDevice, type OrtSessionSettings } from './onnx-runtime-backend';

export interface LoadModelOptions extends Omit<BaseLoadModelOptions, 'config'>, OrtSessionSettings {
  /** Weights: a path to, or the bytes of, a `.pth` (authors' checkpoint), `.safetensors` or `.onnx` file. */
  weights: string | Uint8Array;
  /**
   * As everywhere, a preset name or a config object; in Node also the path of a config JSON file.
   * (`string & {}` keeps the preset names in editors' completions.)
   */
  config?: ConfigInput | (string & {});
  /** Execution device. Default `cpu`. */
  device?: NodeDevice;
  /**
   * The arithmetic of the model lowered from `.pth` / `.safetensors` weights: `fp32` (default),
   * `fp16` (float16 weights, float32 arithmetic, half the memory) or `q8` (the attention stages'
   * linears in int8 with dynamic activation quantization, the rest `fp16`: a quarter of the
   * memory, faster on the CPU). An `.onnx` file runs as it was exported; a `dtype` that differs
   * from the one it records is an `INVALID_ARGUMENT` error.
   */
  dtype?: OnnxDtype;
  /**
   * When the requested device cannot start, run on the CPU instead of failing, and report it
   * through `onWarning`. Default false: a missing GPU is an error, not a silent slowdown.
   */
  fallbackToCpu?: boolean;
  /** Receives warnings (the CPU fallback). Default: `console.warn`. */
  onWarning?: (message: string) => void;
}

export type NodeSparseViTModel = SparseViTModel<NodeImageInput>;

/**
 * A config given as a path (not a preset name) is read here, where files can be: core takes
 * preset names and objects only, since it runs in browsers too.
 */
async function readConfigInput(config: LoadModelOptions['config']): Promise<ConfigInput | undefined> {
  if (typeof config !== 'string' || config in PRESETS) return config as ConfigInput | undefined;
  let text: string;
  try {
    text = await readFile(config, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !/[./\\]/.test(config)) return config as ConfigInput; // not a path: core names the presets
    throw new SparseViTError('IO_ERROR', `cannot read the config file ${config}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return JSON.parse(text) as ConfigInput;
  } catch (error) {
    throw new SparseViTError('INVALID_CONFIG', `the config file ${config} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads SparseViT on ONNX Runtime for Node.
 *
 * @example
 * ```ts
 * import { loadModel } from '@sparsevit/node';
 *
 * const model = await loadModel({ weights: 'sparsevit.safetensors', device: 'cpu' });
 * const result = await model.detect('photo.jpg');
 * console.log(result.score, result.width, result.height);
 * await model.dispose();
 * ```
 */
export async function loadModel(options: LoadModelOptions): Promise<NodeSparseViTModel> {
  checkLoadModelOptions(options, "{ weights: 'sparsevit.safetensors' }");
  if (typeof options.weights !== 'string' && !(options.weights instanceof Uint8Array)) {
    throw new SparseViTError(
      'INVALID_ARGUMENT',
      `weights must be a file path or the file's bytes (Uint8Array, Buffer), got ${options.weights === null ? 'null' : typeof options.weights}; the SDK's trained default model is DEFAULT_MODEL.file of @sparsevit/default-model`,
    );
  }
  const device = checkOneOf('device', options.device ?? 'cpu', NODE_DEVICES);
  const dtype = options.dtype === undefined ? undefined : checkOneOf('dtype', options.dtype, ONNX_DTYPES);
  const configInput = await readConfigInput(options.config);
  const source: ByteSource & { close?: () => Promise<void> } =
    typeof options.weights === 'string' ? await openFileSource(options.weights) : bytesSource(options.weights);
  let read: ModelSource | undefined;
  try {
    read = await readModelSource(source, { format: options.format, config: configInput, dtype });
  } finally {
    await source.close?.();
  }
  const { config } = read;
  // From here only `weights` holds the prepared weights, dropped once lowered, and only
  // `onnxBytes` an .onnx file's bytes, dropped once written out: neither outlives its use.
  let weights = read.format !== 'onnx' ? read.weights : undefined;
  let onnxBytes: Uint8Array | undefined;
  if (read.format === 'onnx') onnxBytes = typeof options.weights === 'string' ? await readFile(options.weights) : options.weights;
  read = undefined;

  const start = async (model: string | Uint8Array): Promise<InferenceBackend> => {
    try {
      return await createOnnxRuntimeBackend(model, config.img_size, device, options);
    } catch (error) {
      if (!(options.fallbackToCpu && device !== 'cpu')) throw error;
      (options.onWarning ?? console.warn)(`sparsevit: ${device} is not available, running on the CPU instead (${(error as Error).message.split('\n')[0]})`);
      return createOnnxRuntimeBackend(model, config.img_size, 'cpu', options);
    }
  };
  // Weights are lowered, an .onnx file has its weights moved out, and the runtime maps them from
  // a temporary file (see withModelFiles).
  const backend = await withModelFiles((layout) => {
    if (weights) {
      const lowered = lowerToOnnxWithExternalData(config, weights, layout, { dtype });
      weights = undefined;
      return lowered;
    }
    const bytes = onnxBytes!;
    onnxBytes = undefined;
    return externalizeOnnxWeights(bytes, layout);
  }, start);

  return createSparseViTModel<NodeImageInput>({
    config,
    backend,
    decode: decodeImage,
    batchSize: options.batchSize,
    maxPixels: options.maxPixels,
  });
}
