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

/**
 * The derivative of the loss along `v = unit(g + r)` (`r` random, of `g`'s norm), analytic (`g . v`)
 * and by a Richardson extrapolation of two central differences of `lossAt` (which cancels their
 * O(h^2) error), with their relative error: a large, well-resolved loss change in float32 that
 * still tests the gradient's direction (a wrong `g` disagrees with the loss along `v`).
 */
export async function directionalDerivative(
  g: Float32Array,
  random: Random,
  lossAt: (v: Float32Array, h: number) => number | Promise<number>,
  h = 2e-2,
): Promise<{ analytic: number; fd: number; rel: number }> {
  const gNorm = Math.hypot(...g);
  const r = Float32Array.from(g, () => random.normal());
  const rNorm = Math.hypot(...r);
  const v = Float32Array.from(g, (x, i) => x + (r[i] * gNorm) / rNorm);
  const vNorm = Math.hypot(...v);
  for (let i = 0; i < v.length; i++) v[i] /= vNorm;
  const analytic = g.reduce((sum, x, i) => sum + x * v[i], 0);
  const central = async (step: number) => ((await lossAt(v, step)) - (await lossAt(v, -step))) / (2 * step);
  const fd = (4 * (await central(h / 2)) - (await central(h))) / 3;
  return { analytic, fd, rel: Math.abs(fd - analytic) / Math.max(Math.abs(fd), Math.abs(analytic)) };
}

/** One weight of each kind of layer of the tiny config: what the finite-difference tests probe. */
export const ONE_WEIGHT_PER_LAYER_KIND = [
  'encoder_net.patch_embed1.proj.weight', // dense strided conv
  'encoder_net.blocks1.0.attn.weight', // depthwise 5x5
  'encoder_net.blocks1.0.conv1.weight', // 1x1 conv as MatMul, BatchNorm folded
  'encoder_net.blocks3.2.attn.qkv.weight', // attention
  'encoder_net.blocks3.7.mlp.dwconv.dwconv.weight', // depthwise 3x3 on tokens
  'encoder_net.blocks4.1.norm1.weight', // LayerNorm
  'lmu.gamma5', // fusion head scale
  'lmu.conv_last.weight',
];
