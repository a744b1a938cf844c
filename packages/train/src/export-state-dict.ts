import {
  CONFIG_METADATA_KEY,
  numel,
  expectedStateDict,
  float32Tensor,
  float32ToF16Bytes,
  writeSafetensors,
  type GraphWeight,
  type GraphWeights,
  type SparseViTConfig,
  type TensorStore,
  type WeightTensor,
} from '@sparsevit/core';

/** `nn.BatchNorm2d`'s epsilon, as `prepareGraphWeights` folds it. */
const BATCH_NORM_EPS = 1e-5;

/**
 * The inverse of `prepareGraphWeights`: trained graph weights (BatchNorm and layer-scale already
 * folded in) written back as a plain state dict in the authors' key layout, with every BatchNorm
 * set to the identity (weight 1, bias 0, mean 0, var `1 - eps`, so `1 / sqrt(var + eps) = 1`) and
 * every layer scale to 1. Every adapter, and the authors' PyTorch code, loads the result as it
 * loads any checkpoint; `prepareGraphWeights` of it gives back the graph weights (within float32
 * rounding of the un-done attention scale).
 *
 * Tensors the reference builds but never reads (the stage-3/4 `pos_embed`, `encoder_net.norm1/2`)
 * are written as zeros / identity so the dict has every key `validateStateDict` expects.
 */
export function graphWeightsToStateDict(weights: GraphWeights, config: SparseViTConfig): TensorStore {
  const tensors = new Map<string, WeightTensor>();
  const expected = expectedStateDict(config);
  const get = (name: string): GraphWeight => {
    const w = weights.get(name);
    if (!w) throw new Error(`graph weight ${name} is missing`);
    return w;
  };
  /** Graph `[in, out]` -> PyTorch `[out, in]` (then reshaped to `shape`), row r divided by `scale[r]`. */
  const untransposed = (name: string, shape: number[], scale?: (row: number) => number) => {
    const w = get(name);
    const [i, o] = w.shape;
    const out = new Float32Array(o * i);
    for (let r = 0; r < o; r++) {
      const s = scale ? scale(r) : 1;
      for (let c = 0; c < i; c++) out[r * i + c] = w.data[c * o + r] / s;
    }
    return float32Tensor(shape, out);
  };
  const qkvScale = (c: number) => (c / (c / config.head_dim)) ** -0.5;
  for (const [key, spec] of expected) {
    if (spec.kind === 'int') {
      tensors.set(key, { dtype: 'I64', shape: [], data: new Uint8Array(8) });
      continue;
    }
    const size = numel(spec.shape);
    const leaf = key.slice(key.lastIndexOf('.') + 1);
    const block = /^encoder_net\.blocks([34])\.\d+\./.exec(key);
    const c = block ? config.embed_dim[Number(block[1]) - 1] : 0;
    let t: WeightTensor;
    if (leaf === 'running_mean') t = float32Tensor(spec.shape, new Float32Array(size));
    else if (leaf === 'running_var') t = float32Tensor(spec.shape, new Float32Array(size).fill(1 - BATCH_NORM_EPS));
    else if (/\.norm[12]\.(weight|bias)$/.test(key) && /blocks[12]\./.test(key)) t = float32Tensor(spec.shape, new Float32Array(size).fill(leaf === 'weight' ? 1 : 0));
    else if (leaf === 'gamma_1' || leaf === 'gamma_2' || /^lmu\.gamma[1-4]$/.test(key)) t = float32Tensor(spec.shape, new Float32Array(size).fill(1));
    else if (!spec.used) t = float32Tensor(spec.shape, new Float32Array(size).fill(key.endsWith('norm1.weight') || key.endsWith('norm2.weight') ? 1 : 0));
    else if (block && key.endsWith('.attn.qkv.weight')) t = untransposed(key, spec.shape, (r) => (r < c ? qkvScale(c) : 1));
    else if (block && key.endsWith('.attn.qkv.bias')) t = float32Tensor(spec.shape, get(key).data.map((v, j) => (j < c ? v / qkvScale(c) : v)));
    else if (block && key.endsWith('.attn.proj.weight')) t = untransposed(key, spec.shape);
    else if (/^lmu\.conv_(layer\d|last)\.weight$/.test(key)) t = untransposed(key, spec.shape);
    else t = float32Tensor(spec.shape, Float32Array.from(get(key).data)); // same layout (convs, norms, biases, fc1/fc2 as [out, in, 1, 1])
    tensors.set(key, t);
  }
  return { tensors, metadata: {} };
}

export interface InferenceWeightsOptions {
  /** Store float tensors as float16 (half the size; logits within ~1e-2). Default false. */
  fp16?: boolean;
  /** Extra string metadata (e.g. what the model was trained on). */
  metadata?: Record<string, string>;
}

/**
 * Trained graph weights as an inference `.safetensors` file: the authors' key layout, the config
 * in the metadata (`sparsevit.config`), optionally float16. Loads in every adapter unchanged.
 */
export function exportInferenceWeights(weights: GraphWeights, config: SparseViTConfig, options: InferenceWeightsOptions = {}): Uint8Array {
  const dict = graphWeightsToStateDict(weights, config);
  const tensors = new Map<string, WeightTensor>();
  for (const [key, t] of dict.tensors) {
    if (options.fp16 && t.dtype === 'F32') {
      const values = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
      tensors.set(key, { dtype: 'F16', shape: t.shape, data: float32ToF16Bytes(values) });
    } else tensors.set(key, t);
  }
  return writeSafetensors({ tensors, metadata: { ...options.metadata, [CONFIG_METADATA_KEY]: JSON.stringify(config) } });
}
