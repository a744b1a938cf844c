import {
  SparseViTError,
  readGraphWeights,
  resolveConfig,
  sniffWeightsFormat,
  validateConfig,
  type BaseLoadModelOptions,
  type ByteSource,
  type GraphWeightsSource,
  type SparseViTConfig,
  type WeightsFormat,
} from '@sparsevit/core';
import { lowerToOnnx, readOnnxDescription, resolveDtype, type LowerToOnnxOptions } from './lower-to-onnx';
import type { OnnxDtype } from './onnx-graph-builder';

export interface ModelSourceOptions extends Pick<BaseLoadModelOptions, 'format' | 'config'> {
  /**
   * The arithmetic asked for. Weights are lowered with it; an `.onnx` file's graph is fixed, so a
   * dtype other than the one it records (`fp32` for a file from elsewhere) is an error.
   */
  dtype?: OnnxDtype;
}

/** What a weights file holds: an ONNX model ready to run, or weights to lower. */
export type ModelSource = { format: 'onnx'; config: SparseViTConfig; dtype: OnnxDtype } | GraphWeightsSource;

/**
 * Reads any weights file the SDK accepts (`.pth`, `.safetensors`, `.onnx`) far enough to know
 * what to run: `.pth` and `.safetensors` go through core's `readGraphWeights` (validated,
 * prepared, the file's tensors freed as they are); an `.onnx` file is only scanned for its
 * config, since the runtime reads it itself.
 */
export async function readModelSource(source: ByteSource, options: ModelSourceOptions = {}): Promise<ModelSource> {
  const format = await sniffWeightsFormat(source, options.format);
  if (format === 'onnx') {
    let stored: unknown;
    let storedDtype: OnnxDtype | undefined;
    try {
      ({ config: stored, dtype: storedDtype } = await readOnnxDescription(source));
    } catch (error) {
      throw new SparseViTError('CORRUPT_WEIGHTS', 'the .onnx file is not a valid ONNX model', { cause: error });
    }
    const storedConfig = stored !== undefined ? validateConfig(stored) : undefined;
    const config = options.config !== undefined ? resolveConfig(options.config) : (storedConfig ?? resolveConfig(undefined));
    // The graph in an .onnx file is fixed; a config that disagrees with it would mislabel it.
    if (storedConfig && JSON.stringify(storedConfig) !== JSON.stringify(config)) {
      throw new SparseViTError(
        'INVALID_CONFIG',
        `the .onnx model was built for ${JSON.stringify(storedConfig)}, not the config given (${JSON.stringify(config)}); omit the config for .onnx files`,
      );
    }
    const dtype = storedDtype ?? 'fp32';
    if (options.dtype !== undefined && resolveDtype(options) !== dtype) {
      throw new SparseViTError(
        'INVALID_ARGUMENT',
        `the .onnx model runs as ${dtype}${storedDtype ? '' : ' (it records no dtype)'}, not ${options.dtype}: an exported graph cannot be re-lowered; pass the .safetensors or .pth weights, or omit dtype`,
      );
    }
    return { format, config, dtype };
  }
  return readGraphWeights(source, { format, config: options.config });
}

export interface OnnxModelSource {
  /** The serialized ONNX model, ready for an `InferenceSession`. */
  model: Uint8Array;
  config: SparseViTConfig;
  /** The format the weights came in. */
  format: WeightsFormat;
  /** The arithmetic of `model`. */
  dtype: OnnxDtype;
}

export interface BuildOnnxModelOptions extends LowerToOnnxOptions, ModelSourceOptions {}

/**
 * From any weights file to one serialized ONNX model and its config (an `.onnx` file is passed
 * through). Runtimes that take a model as one buffer (onnxruntime-web) load this.
 */
export async function buildOnnxModel(source: ByteSource, options: BuildOnnxModelOptions = {}): Promise<OnnxModelSource> {
  const read = await readModelSource(source, options);
  if (read.format === 'onnx') return { model: await source.read(0, source.size), config: read.config, format: read.format, dtype: read.dtype };
  return { model: lowerToOnnx(read.config, read.weights, options), config: read.config, format: read.format, dtype: resolveDtype(options) };
}
