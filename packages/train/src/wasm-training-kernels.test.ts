import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Random } from './random';
import { maxAbsDiff, tf } from './test-helpers.test-helper';
import { registerWasmTrainingKernels } from './wasm-training-kernels';

/** Gradients of `f` on wasm (our kernels) and on tfjs-cpu (tfjs's own), compared value by value. */
async function compareGradients(f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor, xShape: number[], wShape: number[], seed: number) {
  const random = new Random(seed);
  const xs = Float32Array.from({ length: xShape.reduce((a, b) => a * b, 1) }, () => random.normal());
  const ws = Float32Array.from({ length: wShape.reduce((a, b) => a * b, 1) }, () => random.normal());
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor(xs, xShape);
      const w = tf.tensor(ws, wShape);
      // A loss with a non-uniform upstream gradient, so every dy value matters.
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = f(a, b);
        return tf.sum(tf.mul(y, tf.sin(tf.reshape(tf.range(0, y.size), y.shape))));
      });
      const [dx, dw] = g([x, w]);
      return [dx.dataSync().slice(), dw.dataSync().slice()];
    });
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  return { dx: maxAbsDiff(cpu[0], wasm[0]), dw: maxAbsDiff(cpu[1], wasm[1]), scale: Math.max(...Array.from(cpu[1], Math.abs)) };
}

describe('wasm training kernels match tfjs-cpu gradients (<= 1e-4)', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmTrainingKernels(tf as never);
  });
  afterAll(async () => {
    await tf.setBackend('wasm');
  });

  const cases: [string, (x: tf.Tensor, w: tf.Tensor) => tf.Tensor, number[], number[]][] = [
    ['conv2d 4x4 stride 4 (patch embedding)', (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 4, 'valid'), [2, 16, 16, 3], [4, 4, 3, 8]],
    ['conv2d 3x3 stride 2 pad 1', (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 1), [2, 9, 11, 5], [3, 3, 5, 6]],
    ['depthwise 5x5 pad 2 (CBlock attn)', (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 2), [2, 12, 10, 7], [5, 5, 7, 1]],
    ['depthwise 3x3 pad 1 (SABlock dwconv)', (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 1), [3, 8, 8, 16], [3, 3, 16, 1]],
    ['depthwise 3x3 stride 2, multiplier 2 (the loop path)', (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'), [1, 9, 9, 4], [3, 3, 4, 2]],
    ['matMul with transposed operands', (x, w) => tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, true, true), [37, 19], [23, 37]],
    ['batched matMul, transposeB', (x, w) => tf.matMul(x as tf.Tensor3D, w as tf.Tensor3D, false, true), [3, 7, 5], [3, 6, 5]],
  ];
  for (const [name, f, xShape, wShape] of cases) {
    it(name, async () => {
      const { dx, dw, scale } = await compareGradients(f, xShape, wShape, xShape.length * 31 + wShape[0]);
      expect(scale).toBeGreaterThan(0.1); // the comparison is not of zeros
      expect(dx).toBeLessThanOrEqual(1e-4);
      expect(dw).toBeLessThanOrEqual(1e-4);
    });
  }

  it('split and unstack on wasm return the parts tfjs-cpu returns, with gradients', async () => {
    const { dx, dw } = await compareGradients(
      (x, w) => {
        const [a, b, c] = tf.split(tf.add(x, w), [2, 3, 1], 1);
        const rows = tf.unstack(b, 0);
        return tf.concat([tf.mul(a, 2), tf.stack(rows.map((r, i) => tf.mul(r, i + 1))), tf.neg(c)], 1);
      },
      [4, 6, 5],
      [4, 6, 5],
      11,
    );
    expect(dx).toBeLessThanOrEqual(1e-6);
    expect(dw).toBeLessThanOrEqual(1e-6);
  });
});
