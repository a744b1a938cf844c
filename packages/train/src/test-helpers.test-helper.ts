// Test-only: a tiny SparseViT (64x64 input, one sparse group per map) and seeded batches.
import { prepareGraphWeights, validateConfig, type SparseViTConfig } from '@sparsevit/core';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import './register-gradients';
import { initialStateDict } from './initial-weights';
import { Random } from './random';
import type { TrainingLoss } from './loss';
import { Trainer } from './trainer';
import type { TrainingBatch } from './trainer';

export { tf };

export const tinyConfig: SparseViTConfig = validateConfig({
  depth: [1, 1, 15, 4],
  embed_dim: [8, 16, 32, 64],
  head_dim: 16,
  img_size: 64,
  s_blocks3: [8, 8, 8],
  s_blocks4: [8],
  mlp_ratio: 4,
  qkv_bias: true,
});

/** A batch of smooth noise images with a square "manipulated" region whose texture differs. */
export function syntheticBatch(n: number, seed: number, config: SparseViTConfig = tinyConfig): TrainingBatch {
  const s = config.img_size;
  const random = new Random(seed);
  const images = new Float32Array(n * 3 * s * s);
  const masks = new Float32Array(n * s * s);
  for (let b = 0; b < n; b++) {
    const x0 = Math.floor(random.uniform(0, s / 2));
    const y0 = Math.floor(random.uniform(0, s / 2));
    const side = Math.floor(random.uniform(s / 6, s / 2));
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const inside = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
        masks[b * s * s + y * s + x] = inside ? 1 : 0;
        for (let c = 0; c < 3; c++) {
          const base = Math.sin((x + 3 * c) * 0.2) * Math.cos(y * 0.15);
          images[((b * 3 + c) * s + y) * s + x] = base + (inside ? 0.8 * random.normal() : 0.05 * random.normal());
        }
      }
    }
  }
  return { images, masks, n };
}

export function tinyTrainer(seed = 3, schedule = { lr: 1e-3, minLr: 1e-5, warmupSteps: 2, totalSteps: 20 }, loss: TrainingLoss = 'bce'): Trainer {
  return new Trainer({ tf: tf as never, config: tinyConfig, weights: prepareGraphWeights(initialStateDict(tinyConfig, seed), tinyConfig), schedule, loss });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
