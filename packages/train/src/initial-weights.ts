import { expectedStateDict, float32Tensor, numel, type SparseViTConfig, type TensorStore, type WeightTensor } from '@sparsevit/core';
import { Random } from './random';

/**
 * A freshly initialised SparseViT state dict in the authors' key layout, as the reference
 * modules initialise themselves: linear layers `trunc_normal_(std=0.02)` with zero bias (the
 * Uniformer `_init_weights` SparseViT inherits), convolutions PyTorch's default
 * `kaiming_uniform_(a=sqrt(5))` (uniform in +-1/sqrt(fan_in), bias likewise), norms weight 1 and
 * bias 0, BatchNorm running statistics 0 / 1, and layer scales 1. Deterministic from `seed`.
 *
 * Training starts from `prepareGraphWeights` of this dict, so a trained model's weights and an
 * untrained one's come from the same code path.
 */
export function initialStateDict(config: SparseViTConfig, seed: number): TensorStore {
  const random = new Random(seed);
  const tensors = new Map<string, WeightTensor>();
  const expected = expectedStateDict(config);
  const fanIn = (key: string) => {
    const shape = expected.get(`${key.slice(0, key.lastIndexOf('.'))}.weight`)?.shape ?? [1];
    return shape.slice(1).reduce((n, d) => n * d, 1);
  };
  for (const [key, spec] of expected) {
    if (spec.kind === 'int') {
      tensors.set(key, { dtype: 'I64', shape: [], data: new Uint8Array(8) });
      continue;
    }
    const n = numel(spec.shape);
    const values = new Float32Array(n);
    const leaf = key.slice(key.lastIndexOf('.') + 1);
    const isNorm = /(^|\.)norm\d*\.(weight|bias|running_mean|running_var)$/.test(key) || key.startsWith('lmu.norm.');
    if (leaf.startsWith('gamma') || (isNorm && (leaf === 'weight' || leaf === 'running_var'))) {
      values.fill(1);
    } else if (isNorm) {
      // bias and running_mean: 0
    } else if (spec.shape.length === 2 && leaf === 'weight') {
      for (let i = 0; i < n; i++) values[i] = random.truncatedNormal(0.02);
    } else if (spec.shape.length === 4 || (leaf === 'bias' && expected.get(key.replace(/bias$/, 'weight'))?.shape.length === 4)) {
      const bound = 1 / Math.sqrt(fanIn(key));
      for (let i = 0; i < n; i++) values[i] = random.uniform(-bound, bound);
    }
    // Linear biases stay 0.
    tensors.set(key, float32Tensor(spec.shape, values));
  }
  return { tensors, metadata: {} };
}
