import {
  SparseViTError,
  detectWeightsFormat,
  prepareGraphWeights,
  readWeights,
  resolveConfig,
  validateConfig,
  validateStateDict,
  type ByteSource,
  type ConfigInput,
  type GraphWeights,
  type SparseViTConfig,
  type WeightsFormat,
} from '@sparsevit/core';
import { lowerToOnnx, readOnnxConfig, type LowerToOnnxOptions } from './lower-to-onnx';

export interface ModelSourceOptions {
  /** Weights format; detected from the first bytes when omitted. */
  format?: WeightsFormat;
  /** Config; else the one in the weights' metadata; else the `base` preset. */
  config?: ConfigInput;
}

/** What a weights file holds: an ONNX model ready to run, or weights to lower. */
export type ModelSource =
  | { format: 'onnx'; config: SparseViTConfig }
  | { format: Exclude<WeightsFormat, 'onnx'>; config: SparseViTConfig; weights: GraphWeights };

/**
 * Reads any weights file the SDK accepts (`.pth`, `.safetensors`, `.onnx`) far enough to know
 * what to run: `.pth` and `.safetensors` are read through the ByteSource (a released `.pth` for
 * its model weights only), validated and prepared; an `.onnx` file is only scanned for its
 * config, since the runtime reads it itself.
 */
export async function readModelSource(source: ByteSource, options: ModelSourceOptions = {}): Promise<ModelSource> {
  if (source.size === 0) throw new SparseViTError('CORRUPT_WEIGHTS', 'the weights file is empty (0 bytes)');
  const format = options.format ?? detectWeightsFormat(await source.read(0, Math.min(source.size, 16)));
  if (format === 'onnx') {
    let stored: unknown;
    try {
      stored = await readOnnxConfig(source);
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
    return { format, config };
  }
  // Names and shapes are checked against the graph from the file's header, before any tensor is
  // read: a file claiming huge tensors costs nothing to refuse.
  const store = await readWeights(source, format, {
    checkTensors: (tensors, metadata) => validateStateDict({ tensors }, resolveConfig(options.config, metadata)),
  });
  const config = resolveConfig(options.config, store.metadata);
  // Preparation consumes the store tensor by tensor, so its memory is released as it goes.
  const weights = prepareGraphWeights(store, config, { consume: true });
  return { format: format === 'pytorch' ? 'pytorch' : 'safetensors', config, weights };
}

export interface OnnxModelSource {
  /** The serialized ONNX model, ready for an `InferenceSession`. */
  model: Uint8Array;
  config: SparseViTConfig;
  /** The format the weights came in. */
  format: WeightsFormat;
}

export interface BuildOnnxModelOptions extends LowerToOnnxOptions, ModelSourceOptions {}

/**
 * From any weights file to one serialized ONNX model and its config (an `.onnx` file is passed
 * through). Runtimes that take a model as one buffer (onnxruntime-web) load this.
 */
export async function buildOnnxModel(source: ByteSource, options: BuildOnnxModelOptions = {}): Promise<OnnxModelSource> {
  const read = await readModelSource(source, options);
  if (read.format === 'onnx') return { model: await source.read(0, source.size), config: read.config, format: read.format };
  return { model: lowerToOnnx(read.config, read.weights, options), config: read.config, format: read.format };
}
