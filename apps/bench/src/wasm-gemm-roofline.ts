// The speed limit of TensorFlow.js wasm on this machine: the rate of its matrix product (XNNPACK
// through the wasm SIMD build) on the model's own largest linear layers, timed alone. Dividing
// the model's multiply-adds by it gives the floor no graph rewrite can go below on that backend.
// Prints one JSON line; driven by bench.ts in its own process.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { BASE_CONFIG, stageSides } from '@sparsevit/core';
import { median } from './median';

await tf.setBackend('wasm');
await tf.ready();

// Stage 3 of the base model (at 512x512: 1024 tokens, 320 channels, 4x MLP): qkv, fc1, fc2.
const side = stageSides(BASE_CONFIG)[2];
const tokens = side * side;
const channels = BASE_CONFIG.embed_dim[2];
const hidden = channels * BASE_CONFIG.mlp_ratio;
const shapes: Array<[number, number, number]> = [
  [tokens, channels, 3 * channels],
  [tokens, channels, hidden],
  [tokens, hidden, channels],
];
const rates: Record<string, number> = {};
for (const [m, k, n] of shapes) {
  const a = tf.randomUniform([m, k]) as tf.Tensor2D;
  const b = tf.randomUniform([k, n]) as tf.Tensor2D;
  const bias = tf.randomUniform([n]) as tf.Tensor1D;
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    const start = performance.now();
    // wasm kernels run synchronously: the call returns when the product is computed.
    const y = tf.fused.matMul({ a, b, bias });
    const ms = performance.now() - start;
    y.dispose();
    if (i >= 2) times.push(ms);
  }
  rates[`${m}x${k}x${n}`] = (2 * m * k * n) / (median(times) * 1e6);
  tf.dispose([a, b, bias]);
}
process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), gflopsPerSecond: Math.max(...Object.values(rates)), byShape: rates })}\n`);
