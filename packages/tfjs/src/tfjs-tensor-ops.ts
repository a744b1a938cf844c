import { SparseViTError, type Conv2dOptions, type GraphWeight, type GraphWeights, type TensorOps } from '@sparsevit/core';
import type * as tfc from '@tensorflow/tfjs-core';
import type { ReleasePlan } from './release-plan';

/** A TensorFlow.js namespace: `@tensorflow/tfjs-core`, `@tensorflow/tfjs` or `@tensorflow/tfjs-node(-gpu)`. */
export type Tfjs = typeof tfc;
type Tensor = tfc.Tensor;
type Tensor4D = tfc.Tensor4D;

/**
 * `[O, I/groups, kH, kW]` (PyTorch OIHW) -> `[kH, kW, I/groups, O]` (TensorFlow HWIO), in JS once
 * at load. A depthwise weight `[C, 1, kH, kW]` becomes `[kH, kW, 1, C]`, which has the memory
 * layout of TensorFlow's depthwise filter `[kH, kW, C, 1]`: a reshape away.
 */
function oihwToHwio(w: GraphWeight): { shape: [number, number, number, number]; data: Float32Array } {
  const [o, i, kh, kw] = w.shape;
  const out = new Float32Array(w.data.length);
  for (let oo = 0; oo < o; oo++) {
    for (let ii = 0; ii < i; ii++) {
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) out[((y * kw + x) * i + ii) * o + oo] = w.data[((oo * i + ii) * kh + y) * kw + x];
      }
    }
  }
  return { shape: [kh, kw, i, o], data: out };
}

/**
 * Core's `TensorOps` executed eagerly on TensorFlow.js: running `sparseViTGraph` against it computes
 * the model. Call it inside `tf.tidy` so the intermediate tensors are freed (`TfjsBackend` does).
 *
 * The graph is NCHW; TensorFlow.js convolves NHWC. Convolution weights are therefore uploaded once
 * in HWIO layout, activations are transposed around each convolution, and the NHWC result of a
 * convolution is remembered next to its NCHW view so that a convolution reading another's output
 * (as in `CBlock`) skips the round trip. Bilinear resizing needs no transpose at all: an NCHW map
 * is resized as `B*C` one-channel NHWC images.
 *
 * Each op frees its own temporaries (a nested `tf.tidy`); `runPlanned` also frees each op's
 * output after its last reader. The weights are created once, in the constructor, outside any
 * tidy; `dispose()` frees them.
 */
export class TfjsTensorOps implements TensorOps<Tensor> {
  private readonly weights = new Map<string, Tensor>();
  /** Conv weights held in HWIO layout (uploaded that way by this class). */
  private readonly hwio = new WeakSet<Tensor>();
  /** NCHW conv output -> the NHWC tensor it was transposed from, freed with it. */
  private readonly nhwcTwin = new WeakMap<Tensor, Tensor4D>();
  private disposed = false;
  // The release plan of the pass in progress (see `runPlanned`).
  private plan: ReleasePlan | undefined;
  private remaining = new Int32Array(0);
  private nextId = 0;
  private ids = new WeakMap<Tensor, number>();

  constructor(
    readonly tf: Tfjs,
    weights: GraphWeights,
  ) {
    try {
      for (const [name, w] of weights) {
        if (w.shape.length === 4) {
          const t = oihwToHwio(w);
          const tensor = tf.tensor4d(t.data, t.shape, 'float32');
          this.hwio.add(tensor);
          this.weights.set(name, tensor);
        } else {
          this.weights.set(name, tf.tensor(w.data, [...w.shape], 'float32'));
        }
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Number of weight tensors held. */
  get size(): number {
    return this.weights.size;
  }

  /** Frees the weight tensors. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.weights.values()) t.dispose();
    this.weights.clear();
  }

  /**
   * Runs `fn` (a pass of the graph on these ops) freeing each intermediate tensor right after its
   * last use according to `plan` (see `planReleases`), so that the live set stays that of one
   * layer rather than of the whole network. Call it inside `tf.tidy`: whatever the plan does not
   * free (should the pass not follow it) is freed by the tidy.
   */
  runPlanned<R>(plan: ReleasePlan, fn: () => R): R {
    if (this.plan) throw new SparseViTError('INVALID_ARGUMENT', 'TfjsTensorOps: a planned pass is already running');
    this.plan = plan;
    this.remaining = Int32Array.from(plan.uses);
    this.nextId = 0;
    this.ids = new WeakMap();
    try {
      return fn();
    } finally {
      this.plan = undefined;
    }
  }

  /** Numbers an op's outputs and frees the inputs it was the last reader of. */
  private track<R extends Tensor | Tensor[]>(inputs: ReadonlyArray<Tensor | undefined>, result: R): R {
    const plan = this.plan;
    if (!plan) return result;
    for (const t of Array.isArray(result) ? result : [result]) this.ids.set(t, this.nextId++);
    if (this.nextId > plan.values) {
      this.plan = undefined; // the pass does not follow the plan: leave the rest to the tidy
      return result;
    }
    for (const t of inputs) {
      const id = t === undefined ? undefined : this.ids.get(t);
      if (id !== undefined && --this.remaining[id] === 0 && !plan.pinned[id]) this.release(t as Tensor);
    }
    return result;
  }

  private release(t: Tensor): void {
    this.nhwcTwin.get(t)?.dispose();
    t.dispose();
  }

  /** One op: its internal temporaries are freed as it returns. */
  private op<R extends Tensor | Tensor[]>(inputs: ReadonlyArray<Tensor | undefined>, fn: () => R): R {
    return this.track(inputs, this.tf.tidy(fn) as R);
  }

  weight(name: string): Tensor {
    const w = this.weights.get(name);
    if (!w) {
      if (this.disposed) throw new SparseViTError('DISPOSED', 'the TensorFlow.js weights have been disposed');
      throw new SparseViTError('WEIGHTS_MISMATCH', `the graph reads weight "${name}", which the prepared weights do not hold`);
    }
    return w;
  }

  conv2d(x: Tensor, weight: Tensor, bias: Tensor | undefined, options: Conv2dOptions): Tensor {
    const tf = this.tf;
    const [nchw, nhwc] = tf.tidy(() => {
      // A weight not uploaded by this class is OIHW, as the interface says.
      const filter = (this.hwio.has(weight) ? weight : tf.transpose(weight, [2, 3, 1, 0])) as Tensor4D;
      const [kh, kw, inPerGroup, out] = filter.shape;
      const input = this.toNhwc(x as Tensor4D);
      const inChannels = input.shape[3];
      const pad = options.padding;
      let y: Tensor4D;
      if (options.groups === 1) {
        y = tf.fused.conv2d({ x: input, filter, strides: options.stride, pad, bias });
      } else if (options.groups === inChannels && inPerGroup === 1 && out % inChannels === 0) {
        // Depthwise (every grouped conv in SparseViT): HWIO [kh, kw, 1, C*m] is [kh, kw, C, m] in memory.
        const depthwise = tf.reshape(filter, [kh, kw, inChannels, out / inChannels]) as Tensor4D;
        y = tf.fused.depthwiseConv2d({ x: input, filter: depthwise, strides: options.stride, pad, bias });
      } else {
        y = this.groupedConv(input, filter, bias, options);
      }
      return [tf.transpose(y, [0, 3, 1, 2]), y];
    });
    this.nhwcTwin.set(nchw, nhwc as Tensor4D);
    return this.track([x, weight, bias], nchw);
  }

  /** General grouped convolution as one convolution per group (SparseViT never needs it). */
  private groupedConv(x: Tensor4D, filter: Tensor4D, bias: Tensor | undefined, options: Conv2dOptions): Tensor4D {
    const tf = this.tf;
    const { groups } = options;
    const out = filter.shape[3];
    const inChannels = x.shape[3];
    if (inChannels % groups !== 0 || out % groups !== 0 || filter.shape[2] * groups !== inChannels) {
      throw new SparseViTError('INVALID_ARGUMENT', `conv2d: ${inChannels} input and ${out} output channels do not split into ${groups} groups of a [${filter.shape.join(', ')}] filter`);
    }
    const xs = tf.split(x, groups, 3) as Tensor4D[];
    const fs = tf.split(filter, groups, 3) as Tensor4D[];
    const bs = bias ? tf.split(bias, groups, 0) : undefined;
    return tf.concat(xs.map((xi, g) => tf.fused.conv2d({ x: xi, filter: fs[g], strides: options.stride, pad: options.padding, bias: bs?.[g] })), 3);
  }

  private toNhwc(x: Tensor4D): Tensor4D {
    const twin = this.nhwcTwin.get(x);
    if (twin && !twin.isDisposed) return twin;
    return this.tf.transpose(x, [0, 2, 3, 1]);
  }

  matmul(a: Tensor, b: Tensor): Tensor {
    return this.op([a, b], () => {
      const tf = this.tf;
      // A linear layer: fold the leading dimensions into one, a plain 2-D product.
      if (b.rank === 2 && a.rank > 2) {
        const k = a.shape[a.rank - 1];
        const y = tf.matMul(tf.reshape(a, [-1, k]), b);
        return tf.reshape(y, [...a.shape.slice(0, -1), b.shape[1] as number]);
      }
      if (this.unbatchedMatMul(a, b)) {
        const [m, k] = a.shape.slice(-2);
        const n = b.shape[b.rank - 1];
        const batch = a.size / (m * k);
        // Items cut from [batch, rows * cols] views: contiguous slices, the kernels' fast path.
        const items = (t: Tensor, rows: number, cols: number) => tf.split(tf.reshape(t, [batch, rows * cols]), batch, 0).map((x) => tf.reshape(x, [rows, cols]) as tfc.Tensor2D);
        const bs = items(b, k, n);
        const ys = items(a, m, k).map((ai, i) => tf.matMul(ai, bs[i]));
        return tf.reshape(tf.stack(ys), [...a.shape.slice(0, -2), m, n]);
      }
      return tf.matMul(a, b);
    });
  }

  /**
   * tfjs-wasm runs a batched MatMul on a generic loop, but a 2-D one through XNNPACK: for a few
   * large products (attention over 256 to 1024 tokens) one 2-D MatMul per batch item is ~5x
   * faster. Many small products stay batched (per-call overhead wins there).
   */
  private unbatchedMatMul(a: Tensor, b: Tensor): boolean {
    if (a.rank < 3 || b.rank !== a.rank || this.tf.getBackend() !== 'wasm') return false;
    const batch = a.shape.slice(0, -2).reduce((n, d) => n * d, 1);
    if (b.shape.slice(0, -2).some((d, i) => d !== a.shape[i]) || batch > 64) return false;
    const [m, k] = a.shape.slice(-2);
    return m * k * b.shape[b.rank - 1] >= 1 << 20;
  }

  add(a: Tensor, b: Tensor): Tensor {
    return this.op([a, b], () => this.tf.add(a, b));
  }

  mul(a: Tensor, b: Tensor): Tensor {
    return this.op([a, b], () => this.tf.mul(a, b));
  }

  reshape(x: Tensor, shape: readonly number[]): Tensor {
    return this.op([x], () => this.tf.reshape(x, [...shape]));
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const { shape, perm: p } = simplifyTranspose(x.shape, perm);
      const outShape = perm.map((a) => x.shape[a]);
      if (p.length <= 1) return tf.reshape(x, outShape);
      const merged = tf.reshape(x, shape);
      const y = p.length <= 4 || !this.lowRankTransposes() ? tf.transpose(merged, p) : this.transposeInSteps(merged, shape, p);
      return tf.reshape(y, outShape);
    });
  }

  /**
   * The CPU backends (wasm, cpu) run transposes above rank 4 on a slow generic path (several ms
   * for the 100k values of an attention tensor); GPU backends and tfjs-node do not need this.
   */
  private lowRankTransposes(): boolean {
    const backend = this.tf.getBackend();
    return backend === 'wasm' || backend === 'cpu';
  }

  /**
   * A transpose of rank > 4 as a few transposes of rank <= 4: output axis by output axis, the
   * next axis is moved into place past the axes between, the rest kept merged.
   */
  private transposeInSteps(x: Tensor, shape: readonly number[], perm: readonly number[]): Tensor {
    const tf = this.tf;
    let order = shape.map((_, i) => i); // original axis at each current position
    for (let i = 0; i < perm.length; i++) {
      const j = order.indexOf(perm[i]);
      if (j === i) continue;
      const size = (from: number, to: number) => order.slice(from, to).reduce((n, a) => n * shape[a], 1);
      // [done][between][the axis][rest] -> [done][the axis][between][rest]
      x = tf.transpose(tf.reshape(x, [size(0, i), size(i, j), shape[order[j]], size(j + 1, order.length)]), [0, 2, 1, 3]);
      order = [...order.slice(0, i), order[j], ...order.slice(i, j), ...order.slice(j + 1)];
    }
    return x;
  }

  split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
    return this.op([x], () => {
      const tf = this.tf;
      const shape = x.shape;
      const a = axis < 0 ? axis + shape.length : axis;
      // Split a [outer, axis, inner] view: the kernels' fast, low-rank path.
      const outer = shape.slice(0, a).reduce((n, d) => n * d, 1);
      const inner = shape.slice(a + 1).reduce((n, d) => n * d, 1);
      const view = outer === 1 ? tf.reshape(x, [shape[a], inner]) : tf.reshape(x, [outer, shape[a], inner]);
      return tf.split(view, [...sizes], outer === 1 ? 0 : 1).map((part, i) => tf.reshape(part, shape.map((d, k) => (k === a ? sizes[i] : d))));
    });
  }

  layerNorm(x: Tensor, scale: Tensor, bias: Tensor, epsilon: number): Tensor {
    return this.op([x, scale, bias], () => {
      const tf = this.tf;
      const { mean, variance } = tf.moments(x, -1, true);
      const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
      return tf.add(tf.mul(normalized, scale), bias);
    });
  }

  gelu(x: Tensor): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const erf = tf.erf(tf.mul(x, Math.SQRT1_2));
      return tf.mul(tf.mul(x, 0.5), tf.add(erf, 1));
    });
  }

  softmax(x: Tensor): Tensor {
    return this.op([x], () => this.tf.softmax(x, -1));
  }

  sigmoid(x: Tensor): Tensor {
    return this.op([x], () => this.tf.sigmoid(x));
  }

  resizeBilinear(x: Tensor, from: readonly [number, number], to: readonly [number, number]): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const [b, c, h, w] = x.shape;
      if (h !== from[0] || w !== from[1]) {
        throw new SparseViTError('INVALID_ARGUMENT', `resizeBilinear: expected a ${from[0]}x${from[1]} map, got [${x.shape.join(', ')}]`);
      }
      // NCHW [B, C, H, W] is [B*C, H, W, 1] NHWC in memory: resize each channel as an image.
      const images = tf.reshape(x, [b * c, h, w, 1]) as Tensor4D;
      const resized = tf.image.resizeBilinear(images, [to[0], to[1]], false, true);
      return tf.reshape(resized, [b, c, to[0], to[1]]);
    });
  }
}

/**
 * Drops size-1 axes and merges axes that stay adjacent and in order, so `transpose(x, perm)`
 * equals `reshape(transpose(reshape(x, shape), perm), outShape)` with the lowest rank possible.
 */
export function simplifyTranspose(inShape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => inShape[a] !== 1);
  // Runs of consecutive input axes in output order become one axis.
  const runs: number[][] = [];
  for (const a of kept) {
    const last = runs[runs.length - 1];
    if (last && last[last.length - 1] === a - 1 && kept.indexOf(a - 1) >= 0) last.push(a);
    else runs.push([a]);
  }
  const byInput = [...runs].sort((r, q) => r[0] - q[0]);
  return {
    shape: byInput.map((r) => r.reduce((n, a) => n * inShape[a], 1)),
    perm: runs.map((r) => byInput.indexOf(r)),
  };
}
