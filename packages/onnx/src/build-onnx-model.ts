import {
  SparseViTError,
  detectWeightsFormat,
  prepareGraphWeights,
  readWeights,
  resolveConfig,
  validateConfig,
  type ByteSource,
  type ConfigInput,
  type SparseViTConfig,
  type WeightsFormat,
} from '@sparsevit/core';
import { lowerToOnnx, readOnnxConfig, type LowerToOnnxOptions } from './lower-to-onnx';

export interface OnnxModelSource {
  /** The serialized ONNX model, ready for an `InferenceSession`. */
  model: Uint8Array;
  config: SparseViTConfig;
  /** The format the weights came in. */
  format: WeightsFormat;
}

export interface BuildOnnxModelOptions extends LowerToOnnxOptions {
  /** Weights format; detected from the first bytes when omitted. */
  format?: WeightsFormat;
  /** Config; else the one in the weights' metadata; else the `base` preset. */
  config?: ConfigInput;
}

/**
 * From any weights file the SDK reads (`.pth`, `.safetensors`, `.onnx`) to an ONNX model and its
 * config: what both ONNX Runtime adapters (Node and web) load. `.pth` and `.safetensors` are read
 * through the ByteSource (a released `.pth` is read for its model weights only), prepared and
 * lowered; an `.onnx` file is passed through, its config taken from its metadata.
 */
export async function buildOnnxModel(source: ByteSource, options: BuildOnnxModelOptions = {}): Promise<OnnxModelSource> {
  if (source.size === 0) throw new SparseViTError('CORRUPT_WEIGHTS', 'the weights file is empty (0 bytes)');
  const format = options.format ?? detectWeightsFormat(await source.read(0, Math.min(source.size, 16)));
  if (format === 'onnx') {
    const model = await source.read(0, source.size);
    let stored: unknown;
    try {
      stored = readOnnxConfig(model);
    } catch (error) {
      throw new SparseViTError('CORRUPT_WEIGHTS', 'the .onnx file is not a valid ONNX model', { cause: error });
    }
    const storedConfig = stored !== undefined ? validateConfig(stored) : undefined;
    const config = options.config !== undefined ? resolveConfig(options.config) : (storedConfig ?? resolveConfig(undefined));
    // The graph in an .onnx file is fixed; a config that disagrees with it would mislabel it.
    if (storedConfig && JSON.stringify(storedConfig) !== JSON.stringify(config)) {
      throw new SparseViTError('INVALID_CONFIG', `the .onnx model was built for ${JSON.stringify(storedConfig)}, not the config given (${JSON.stringify(config)}); omit the config for .onnx files`);
    }
    return { model, config, format };
  }
  const store = await readWeights(source, format);
  const config = resolveConfig(options.config, store.metadata);
  const weights = prepareGraphWeights(store, config);
  store.tensors.clear(); // the prepared copy is all the lowering needs
  return { model: lowerToOnnx(config, weights, options), config, format };
}
