/**
 * The loading spine every adapter shares: from a weights file to the config and the prepared
 * graph weights the model runs with. Checks, config resolution and freeing what was read happen
 * here once, so the adapters differ only in where bytes come from and what runs them.
 */
import { resolveConfig, type ConfigInput } from '../config/resolve-config';
import type { SparseViTConfig } from '../config/sparsevit-config';
import { prepareGraphWeights, validateStateDict } from '../graph/prepare-graph-weights';
import type { GraphWeights } from '../graph/tensor-ops';
import type { ByteSource } from './byte-source';
import { readWeights, sniffWeightsFormat, type WeightsFormat } from './load-weights';
import type { PyTorchCheckpointOptions } from './pytorch-checkpoint';

export interface ReadGraphWeightsOptions {
  /** Weights format; detected from the first bytes when omitted. */
  format?: WeightsFormat;
  /** Config; else the one in the weights' metadata; else the `base` preset. */
  config?: ConfigInput;
  pytorch?: PyTorchCheckpointOptions;
}

export interface GraphWeightsSource {
  format: 'safetensors' | 'pytorch';
  config: SparseViTConfig;
  weights: GraphWeights;
}

/**
 * Reads a `.safetensors` file or a `torch.save` checkpoint (a released one for its model weights
 * only) into the config and prepared graph weights. Names and shapes are checked against the
 * graph from the file's header, before any tensor is read, so a file claiming huge tensors costs
 * nothing to refuse; preparation consumes the file's tensors one by one, so its memory is
 * released as it goes and the result is the only copy. An `.onnx` file is refused with
 * `UNSUPPORTED_FORMAT` (runtimes that run one read it themselves).
 *
 * @example
 * ```ts
 * const { config, weights } = await readGraphWeights(bytesSource(bytes), { config: 'small' });
 * ```
 */
export async function readGraphWeights(source: ByteSource, options: ReadGraphWeightsOptions = {}): Promise<GraphWeightsSource> {
  const format = await sniffWeightsFormat(source, options.format);
  const store = await readWeights(source, format, {
    pytorch: options.pytorch,
    checkTensors: (tensors, metadata) => validateStateDict({ tensors }, resolveConfig(options.config, metadata)),
  });
  const config = resolveConfig(options.config, store.metadata);
  const weights = prepareGraphWeights(store, config, { consume: true });
  return { format: format === 'pytorch' ? 'pytorch' : 'safetensors', config, weights };
}
