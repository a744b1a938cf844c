import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './select-backend';
import { simplifyTranspose, TfjsTensorOps } from './tfjs-tensor-ops';
import { maxAbsDiff } from './parity.test-helper';
import { tf } from './tfjs-runtime.test-helper';

// The ops' own rewrites (low-rank transposes, split views, HWIO weights, grouped convolution)
// against tfjs's plain kernels (wasm backend).
const noise = (shape: number[], seed = 1) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 12.9898 + seed) * 2), shape);

describe('TfjsTensorOps', () => {
  beforeAll(() => selectBackend(tf, 'wasm'));

  it('simplifies transposes to the lowest rank', () => {
    expect(simplifyTranspose([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] });
    expect(simplifyTranspose([1, 4, 1, 4, 1, 8], [0, 2, 4, 1, 3, 5])).toEqual({ shape: [4, 4, 8], perm: [0, 1, 2] });
    expect(simplifyTranspose([2, 4, 3, 4, 3, 8], [0, 2, 4, 1, 3, 5])).toEqual({ shape: [2, 4, 3, 4, 3, 8], perm: [0, 2, 4, 1, 3, 5] });
  });

  it('computes rank-5 and rank-6 transposes, splits and matmuls as tfjs does', async () => {
    const ops = new TfjsTensorOps(tf, new Map());
    const cases: Array<[number[], number[]]> = [
      [[2, 16, 3, 2, 8], [2, 0, 3, 1, 4]],
      [[2, 4, 3, 4, 3, 8], [0, 2, 4, 1, 3, 5]],
      [[2, 3, 3, 4, 4, 8], [0, 3, 1, 4, 2, 5]],
      [[3, 2, 5, 4, 2], [4, 3, 2, 1, 0]],
    ];
    for (const [shape, perm] of cases) {
      const x = noise(shape);
      const y = ops.transpose(x, perm);
      expect(y.shape).toEqual(perm.map((a) => shape[a]));
      expect(maxAbsDiff((await y.data()) as Float32Array, (await tf.transpose(x, perm).data()) as Float32Array)).toBe(0);
    }
    const x = noise([3, 2, 5, 4]);
    for (const axis of [0, 1, 3]) {
      const sizes = axis === 3 ? [1, 3] : axis === 0 ? [1, 1, 1] : [1, 1];
      const ours = ops.split(x, axis, sizes);
      const theirs = tf.split(x, sizes, axis);
      for (let i = 0; i < sizes.length; i++) {
        expect(ours[i].shape).toEqual(theirs[i].shape);
        expect(maxAbsDiff((await ours[i].data()) as Float32Array, (await theirs[i].data()) as Float32Array)).toBe(0);
      }
    }
    // Large attention-like products take the per-item 2-D path on wasm.
    const a = noise([1, 2, 512, 32]);
    const b = noise([1, 2, 32, 512], 2);
    expect(maxAbsDiff((await ops.matmul(a, b).data()) as Float32Array, (await tf.matMul(a, b).data()) as Float32Array)).toBeLessThanOrEqual(1e-4);
  });

  it('convolves NCHW with OIHW weights: dense, depthwise and grouped', async () => {
    const x = noise([2, 4, 9, 7]);
    const reference = (w: number[], groups: number, stride: number, padding: number) => {
      // Per-group NHWC convolution with tfjs's own transposes.
      const [o, ipg] = w;
      const weight = noise(w, 3);
      const bias = noise([o], 4);
      const xs = tf.split(tf.transpose(x, [0, 2, 3, 1]), groups, 3);
      const ws = tf.split(tf.transpose(weight, [2, 3, 1, 0]), groups, 3);
      const y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ws[g] as tf.Tensor4D, stride, padding)), 3);
      return { weight, bias, expected: tf.transpose(tf.add(y, bias), [0, 3, 1, 2]), ipg };
    };
    for (const [w, groups, stride, padding] of [[[6, 4, 3, 3], 1, 1, 1], [[4, 1, 5, 5], 4, 1, 2], [[6, 2, 3, 3], 2, 2, 1], [[8, 4, 2, 2], 1, 2, 0]] as const) {
      const { weight, bias, expected } = reference([...w], groups, stride, padding);
      const ops = new TfjsTensorOps(tf, new Map([['w', { shape: w, data: (await weight.data()) as Float32Array }], ['b', { shape: [w[0]], data: (await bias.data()) as Float32Array }]]));
      const y = ops.conv2d(x, ops.weight('w'), ops.weight('b'), { stride, padding, groups });
      // Also with a weight not uploaded by the ops (plain OIHW tensor).
      const y2 = ops.conv2d(x, weight, bias, { stride, padding, groups });
      expect(y.shape).toEqual(expected.shape);
      expect(maxAbsDiff((await y.data()) as Float32Array, (await expected.data()) as Float32Array)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff((await y2.data()) as Float32Array, (await expected.data()) as Float32Array)).toBeLessThanOrEqual(1e-4);
      ops.dispose();
    }
  });
});
