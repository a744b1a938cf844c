import { SparseViTError, type Conv2dOptions, type GraphWeight, type GraphWeights, type TensorOps } from '@sparsevit/core';
import type * as tfc from '@tensorflow/tfjs-core';
import { identityLayout, isIdentity, lastAxisInnermost, reshapeLayout, sameLayout, transposeLayout, withLastAxis, type Layout } from './layout';
import { PlannedPass, type ReleasePlan } from './release-plan';

/** A TensorFlow.js namespace: `@tensorflow/tfjs-core`, `@tensorflow/tfjs` or `@tensorflow/tfjs-node(-gpu)`. */
export type Tfjs = typeof tfc;
type Tensor = tfc.Tensor;
type Tensor4D = tfc.Tensor4D;

export interface TfjsTensorOpsOptions {
  /**
   * Hold every weight as a trainable `tf.Variable` in the graph's own layout (OIHW convolutions,
   * `[in, out]` linears), so that `tf.variableGrads` over a pass of the graph reaches all of them
   * (`@sparsevit/train`). Every op then stays on differentiable tfjs ops: the wasm shortcut that
   * cuts tensors through `dataSync` (see `cut`) is not taken. Default false.
   */
  trainable?: boolean;
}

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
 * in HWIO layout. Bilinear resizing of an NCHW map needs no transpose: it is resized as `B*C`
 * one-channel NHWC images.
 *
 * Each op frees its own temporaries (a nested `tf.tidy`); `runPlanned` also frees each op's
 * output after its last reader. The weights are created once, in the constructor, outside any
 * tidy; `dispose()` frees them.
 *
 * Inside `runPlanned` two rewrites make the pass fast on the CPU backends (see `layout.ts` and
 * `ReleasePlan.fusedBias`); they are invisible outside it (every op returns plain tensors):
 * - transposes are deferred: an op may return a tensor whose buffer is not in the order of its
 *   shape (`layouts`), and the ops that read it either work on the buffer as it is or
 *   materialise it once (`real`). Convolutions thus chain NHWC through the CBlock stages, and the
 *   token <-> map round trips around the attention blocks' depthwise conv cost nothing;
 * - a linear layer's product and bias run as one fused MatMul.
 */
export class TfjsTensorOps implements TensorOps<Tensor> {
  private readonly weights = new Map<string, Tensor>();
  /** Conv weights held in HWIO layout (uploaded that way by this class). */
  private readonly hwio = new WeakSet<Tensor>();
  /** Tensors of a planned pass whose buffer is laid out otherwise than their shape says. */
  private readonly layouts = new WeakMap<Tensor, Layout>();
  /** Such a tensor -> its data in shape order, once an op needed it (freed with it). */
  private readonly materialized = new WeakMap<Tensor, Tensor>();
  /** A planned linear's output -> the bias already added to it (fused into its MatMul). */
  private readonly biased = new WeakMap<Tensor, Tensor>();
  private kept: Tensor[] = [];
  private disposed = false;
  // The planned pass in progress (see `runPlanned`): what to free after each op.
  private pass: PlannedPass<Tensor> | undefined;

  private readonly trainable: boolean;

  constructor(
    readonly tf: Tfjs,
    weights: GraphWeights,
    options: TfjsTensorOpsOptions = {},
  ) {
    this.trainable = options.trainable ?? false;
    try {
      for (const [name, w] of weights) {
        if (this.trainable) {
          // OIHW as the graph states it: `conv2d` transposes a non-HWIO weight inside the pass,
          // which the gradient tape follows back to the variable.
          this.weights.set(name, tf.variable(tf.tensor(w.data, [...w.shape], 'float32'), true));
        } else if (w.shape.length === 4) {
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

  /**
   * The trainable variables by graph weight name (only with `trainable: true`), in the graph's
   * layout: what `tf.variableGrads` differentiates and an optimizer updates.
   */
  variables(): Map<string, tfc.Variable> {
    if (!this.trainable) throw new SparseViTError('INVALID_ARGUMENT', 'TfjsTensorOps: variables() needs { trainable: true }');
    return this.weights as Map<string, tfc.Variable>;
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
   * free (should the pass not follow it) is freed by the tidy. The tensors in the returned value
   * (objects and arrays are searched) are plain tensors, laid out as their shapes say.
   */
  runPlanned<R>(plan: ReleasePlan, fn: () => R): R {
    if (this.pass) throw new SparseViTError('INVALID_ARGUMENT', 'TfjsTensorOps: a planned pass is already running');
    this.pass = new PlannedPass(plan);
    try {
      return this.realOutputs(fn());
    } finally {
      this.pass = undefined;
      for (const t of this.kept) t.dispose();
      this.kept = [];
    }
  }

  private realOutputs<R>(value: R): R {
    // A clone shares the buffer: it outlives the materialised tensor, freed as the pass ends.
    if (value instanceof this.tf.Tensor) return (this.layouts.has(value) ? this.tf.clone(this.real(value)) : value) as R;
    if (Array.isArray(value)) return value.map((v) => this.realOutputs(v)) as R;
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.realOutputs(v)])) as R;
    }
    return value;
  }

  /** Numbers an op's outputs and frees the inputs it was the last reader of. */
  private track<R extends Tensor | Tensor[]>(inputs: ReadonlyArray<Tensor | undefined>, result: R): R {
    if (!this.pass) return result;
    const dead = this.pass.record(inputs, Array.isArray(result) ? result : [result]);
    if (dead === undefined) this.pass = undefined; // the pass does not follow the plan: leave the rest to the tidy
    else for (const t of dead) this.release(t);
    return result;
  }

  private release(t: Tensor): void {
    this.materialized.get(t)?.dispose();
    t.dispose();
  }

  /** One op: its internal temporaries are freed as it returns. */
  private op<R extends Tensor | Tensor[]>(inputs: ReadonlyArray<Tensor | undefined>, fn: () => R): R {
    return this.track(inputs, this.tf.tidy(fn) as R);
  }

  // --- Deferred transposes (see layout.ts) ---------------------------------------------------

  private layoutOf(x: Tensor): Layout {
    return this.layouts.get(x) ?? identityLayout(x.shape);
  }

  /**
   * A tensor of shape `shape` over `data`'s buffer laid out as `layout`: in a planned pass the
   * buffer is kept as it is (no data moves), otherwise it is transposed now.
   */
  private withLayout(data: Tensor, layout: Layout, shape: readonly number[]): Tensor {
    const tf = this.tf;
    if (isIdentity(layout.perm)) return tf.reshape(data, [...shape]);
    if (!this.pass) return this.transposeBuffer(data, layout, shape);
    const t = tf.reshape(data, [...shape]); // the same buffer, under the logical shape
    this.layouts.set(t, layout);
    return t;
  }

  /** `x` as a plain tensor (materialised once, kept until `x` is freed). */
  private real(x: Tensor): Tensor {
    const layout = this.layouts.get(x);
    if (!layout) return x;
    let m = this.materialized.get(x);
    if (!m || m.isDisposed) {
      // Kept past the op that asked (whose tidy would free it); freed with `x`, or at the
      // latest when the pass ends.
      m = this.tf.keep(this.tf.tidy(() => this.transposeBuffer(x, layout, x.shape)));
      this.materialized.set(x, m);
      this.kept.push(m);
    }
    return m;
  }

  /** `transpose(x, perm)` as a plain tensor, moving `x`'s buffer at most once. */
  private transposed(x: Tensor, perm: readonly number[]): Tensor {
    const shape = perm.map((a) => x.shape[a]);
    return this.transposeBuffer(x, transposeLayout(this.layoutOf(x), x.shape, perm), shape);
  }

  /** The buffer of `data` read as `layout`, moved into the order of `shape`. */
  private transposeBuffer(data: Tensor, layout: Layout, shape: readonly number[]): Tensor {
    const tf = this.tf;
    const { shape: merged, perm } = simplifyTranspose(layout.base, layout.perm);
    if (perm.length <= 1) return tf.reshape(data, [...shape]);
    const x = tf.reshape(data, merged);
    const y = perm.length <= 4 || !this.lowRankTransposes() ? tf.transpose(x, perm) : this.transposeInSteps(x, merged, perm);
    return tf.reshape(y, [...shape]);
  }

  /** `x`'s buffer as `[rows, last axis]` when whole logical rows are contiguous in it. */
  private rows(x: Tensor): Tensor | undefined {
    const layout = this.layouts.get(x);
    if (!layout || !lastAxisInnermost(layout, x.shape)) return undefined;
    return this.tf.reshape(x, [-1, x.shape[x.rank - 1]]);
  }

  // --- Ops --------------------------------------------------------------------------------------

  weight(name: string): Tensor {
    const w = this.weights.get(name);
    if (!w) {
      if (this.disposed) throw new SparseViTError('DISPOSED', 'the TensorFlow.js weights have been disposed');
      throw new SparseViTError('WEIGHTS_MISMATCH', `the graph reads weight "${name}", which the prepared weights do not hold`);
    }
    return w;
  }

  conv2d(x: Tensor, weight: Tensor, bias: Tensor | undefined, options: Conv2dOptions): Tensor {
    return this.op([x, weight, bias], () => {
      const tf = this.tf;
      // A weight not uploaded by this class is OIHW, as the interface says.
      const filter = (this.hwio.has(weight) ? weight : tf.transpose(weight, [2, 3, 1, 0])) as Tensor4D;
      const [kh, kw, inPerGroup, out] = filter.shape;
      // Free when `x` came from a convolution (or from tokens) and is still in NHWC order.
      const input = this.transposed(x, [0, 2, 3, 1]) as Tensor4D;
      const inChannels = input.shape[3];
      const pad = options.padding;
      let y: Tensor4D;
      if (options.groups === 1 && kh === 1 && kw === 1 && options.stride === 1 && pad === 0) {
        // A 1x1 conv is a linear layer on NHWC pixels: XNNPACK's fully-connected GEMM is ~20%
        // faster than its 1x1 convolution here (34 vs 28 ms for 32x32x1280 -> 320 on wasm). The
        // [Cin, Cout] view shares the filter's buffer, so the packed weights stay cached.
        const [b, h, w] = input.shape;
        const pixels = tf.reshape(input, [b * h * w, inChannels]) as tfc.Tensor2D;
        const product = tf.fused.matMul({ a: pixels, b: tf.reshape(filter, [inChannels, out]) as tfc.Tensor2D, bias });
        y = tf.reshape(product, [b, h, w, out]);
      } else if (options.groups === 1) {
        y = tf.fused.conv2d({ x: input, filter, strides: options.stride, pad, bias });
      } else if (options.groups === inChannels && inPerGroup === 1 && out % inChannels === 0) {
        // Depthwise (every grouped conv in SparseViT): HWIO [kh, kw, 1, C*m] is [kh, kw, C, m] in memory.
        const depthwise = tf.reshape(filter, [kh, kw, inChannels, out / inChannels]) as Tensor4D;
        y = tf.fused.depthwiseConv2d({ x: input, filter: depthwise, strides: options.stride, pad, bias });
      } else {
        y = this.groupedConv(input, filter, bias, options);
      }
      // NCHW to the graph, NHWC in the buffer (deferred in a planned pass).
      return this.withLayout(y, transposeLayout(identityLayout(y.shape), y.shape, [0, 3, 1, 2]), [0, 3, 1, 2].map((a) => y.shape[a]));
    });
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

  matmul(a: Tensor, b: Tensor): Tensor {
    // A planned linear layer whose only reader adds a bias: fuse the bias into the product.
    const biasName = this.pass?.plan.fusedBias.get(this.pass.nextId);
    let bias = biasName === undefined ? undefined : this.weights.get(biasName);
    if (bias && (bias.rank !== 1 || b.rank !== 2 || bias.shape[0] !== b.shape[1])) bias = undefined;
    const y = this.op([a, b], () => {
      const tf = this.tf;
      // A linear layer: fold the leading dimensions into one, a plain 2-D product (XNNPACK's
      // fully-connected GEMM on wasm). Rows may come in any order, so a deferred transpose that
      // kept the channels innermost is multiplied as it is, and stays deferred.
      if (b.rank === 2 && !this.layouts.has(b)) {
        const [k, n] = b.shape as [number, number];
        const rows = n !== 1 ? this.rows(a) : undefined;
        const flat = (rows ?? tf.reshape(this.real(a), [-1, k])) as tfc.Tensor2D;
        const product = bias ? tf.fused.matMul({ a: flat, b: b as tfc.Tensor2D, bias }) : tf.matMul(flat, b as tfc.Tensor2D);
        const shape = [...a.shape.slice(0, -1), n];
        if (a.rank < 2) return tf.reshape(product, shape);
        return rows && n !== 1 ? this.withLayout(product, withLastAxis(this.layoutOf(a), n), shape) : tf.reshape(product, shape);
      }
      const [ra, rb] = [this.real(a), this.real(b)];
      if (this.unbatchedMatMul(ra, rb)) {
        const [m, k] = ra.shape.slice(-2);
        const n = rb.shape[rb.rank - 1];
        const batch = ra.size / (m * k);
        const items = (t: Tensor, rows: number, cols: number) => this.cut(t, Array<number>(batch).fill(rows * cols)).map((x) => tf.reshape(x, [rows, cols]) as tfc.Tensor2D);
        const bs = items(rb, k, n);
        const ys = items(ra, m, k).map((ai, i) => tf.matMul(ai, bs[i]));
        return tf.reshape(tf.stack(ys), [...ra.shape.slice(0, -2), m, n]);
      }
      return tf.matMul(ra, rb);
    });
    if (bias) this.biased.set(y, bias);
    return y;
  }

  /**
   * tfjs-wasm runs a batched MatMul on a generic loop, but a 2-D one through XNNPACK: for a few
   * large products (attention over 256 to 1024 tokens) one 2-D MatMul per batch item is ~5x
   * faster, and ~1.7x still for 32 products of 64x64x64 (stage 4's 8x8 groups). Many small
   * products stay batched (per-call overhead wins there: 320 products of 16x64x16 are 2-3x
   * slower item by item; 80 of 64x64x64 break even).
   */
  private unbatchedMatMul(a: Tensor, b: Tensor): boolean {
    if (a.rank < 3 || b.rank !== a.rank || this.tf.getBackend() !== 'wasm') return false;
    const batch = a.shape.slice(0, -2).reduce((n, d) => n * d, 1);
    if (b.shape.slice(0, -2).some((d, i) => d !== a.shape[i]) || batch > 64) return false;
    const [m, k] = a.shape.slice(-2);
    return m * k * b.shape[b.rank - 1] >= 1 << 18;
  }

  add(a: Tensor, b: Tensor): Tensor {
    return this.op([a, b], () => {
      // The bias of a fused linear layer (see `matmul`): already added.
      if (this.biased.get(a) === b) return this.withLayout(a, this.layoutOf(a), a.shape);
      return this.elementwise(a, b, (x, y) => this.tf.add(x, y));
    });
  }

  mul(a: Tensor, b: Tensor): Tensor {
    return this.op([a, b], () => this.elementwise(a, b, (x, y) => this.tf.mul(x, y)));
  }

  /**
   * A binary elementwise op on buffers as they are when that is the same thing: both laid out
   * alike, or one laid out and the other a scalar or a per-channel vector of a channels-innermost
   * buffer. Otherwise on plain tensors.
   */
  private elementwise(a: Tensor, b: Tensor, fn: (x: Tensor, y: Tensor) => Tensor): Tensor {
    const la = this.layouts.get(a);
    const lb = this.layouts.get(b);
    if (la || lb) {
      if (la && lb && sameLayout(la, lb) && a.shape.every((d, i) => d === b.shape[i]) && a.rank === b.rank) return this.withLayout(fn(a, b), la, a.shape);
      const [laid, other, layout] = la ? [a, b, la] : [b, a, lb as Layout];
      const result = (x: Tensor) => this.withLayout(la ? fn(x, other) : fn(other, x), layout, laid.shape);
      if (other.rank <= laid.rank && !this.layouts.has(other)) {
        if (other.size === 1) return result(laid);
        const rows = other.rank === 1 && other.shape[0] === laid.shape[laid.rank - 1] ? this.rows(laid) : undefined;
        if (rows) return result(rows);
      }
    }
    return fn(this.real(a), this.real(b));
  }

  reshape(x: Tensor, shape: readonly number[]): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const layout = this.layouts.get(x);
      if (!layout) return tf.reshape(x, [...shape]);
      const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
      const to = shape.map((d) => (d === -1 ? x.size / known : d));
      const next = reshapeLayout(layout, x.shape, to);
      return next ? this.withLayout(x, next, to) : tf.reshape(this.real(x), to);
    });
  }

  transpose(x: Tensor, perm: readonly number[]): Tensor {
    return this.op([x], () => {
      const outShape = perm.map((a) => x.shape[a]);
      return this.withLayout(x, transposeLayout(this.layoutOf(x), x.shape, perm), outShape);
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
      const input = this.real(x);
      const shape = input.shape;
      const a = axis < 0 ? axis + shape.length : axis;
      // Parts sliced from an [outer, axis, inner] view: the kernels' fast, low-rank path.
      const outer = shape.slice(0, a).reduce((n, d) => n * d, 1);
      const inner = shape.slice(a + 1).reduce((n, d) => n * d, 1);
      const partShape = (size: number) => shape.map((d, k) => (k === a ? size : d));
      // Contiguous parts (splitting the outermost non-1 axis, as the attention's q/k/v split).
      if (outer === 1) return this.cut(input, sizes.map((size) => size * inner)).map((part, i) => tf.reshape(part, partShape(sizes[i])));
      const view = tf.reshape(input, [outer, shape[a], inner]);
      let offset = 0;
      return sizes.map((size) => {
        const part = tf.slice(view, [0, offset, 0], [outer, size, inner]);
        offset += size;
        return tf.reshape(part, partShape(size));
      });
    });
  }

  /**
   * `x`'s buffer cut into consecutive 1-D parts of the given lengths.
   *
   * On wasm the parts are made from one read of the buffer: tfjs-wasm's Slice kernel (which its
   * SplitV and Unpack also use) starts by copying the *whole* input out of the wasm heap, so
   * cutting the 5 items of a 20 MB attention tensor copied 100 MB (~13 ms per item measured),
   * and its Gather kernel is slower still (~43 ms per 4 MB item). One `dataSync` (a copy of the
   * heap range) and one upload per part move the data twice in all.
   */
  private cut(x: Tensor, lengths: readonly number[]): Tensor[] {
    const tf = this.tf;
    const flat = tf.reshape(x, [-1]);
    if (this.trainable || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.split(flat, [...lengths]);
    const values = flat.dataSync() as Float32Array;
    let offset = 0;
    return lengths.map((n) => tf.tensor1d(values.subarray(offset, (offset += n)), 'float32'));
  }

  layerNorm(x: Tensor, scale: Tensor, bias: Tensor, epsilon: number): Tensor {
    return this.op([x, scale, bias], () => {
      const tf = this.tf;
      // Row-wise: a buffer with the channels innermost is normalised as it is.
      const rows = this.rows(x);
      const input = rows ?? this.real(x);
      const { mean, variance } = tf.moments(input, -1, true);
      const normalized = tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, epsilon)));
      const y = tf.add(tf.mul(normalized, scale), bias);
      return rows ? this.withLayout(y, this.layoutOf(x), x.shape) : y;
    });
  }

  gelu(x: Tensor): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const erf = tf.erf(tf.mul(x, Math.SQRT1_2));
      return this.withLayout(tf.mul(tf.mul(x, 0.5), tf.add(erf, 1)), this.layoutOf(x), x.shape);
    });
  }

  softmax(x: Tensor): Tensor {
    return this.op([x], () => {
      const rows = this.rows(x);
      return rows ? this.withLayout(this.tf.softmax(rows, -1), this.layoutOf(x), x.shape) : this.tf.softmax(this.real(x), -1);
    });
  }

  sigmoid(x: Tensor): Tensor {
    return this.op([x], () => this.withLayout(this.tf.sigmoid(x), this.layoutOf(x), x.shape));
  }

  resizeBilinear(x: Tensor, from: readonly [number, number], to: readonly [number, number]): Tensor {
    return this.op([x], () => {
      const tf = this.tf;
      const [b, c, h, w] = x.shape;
      if (h !== from[0] || w !== from[1]) {
        throw new SparseViTError('INVALID_ARGUMENT', `resizeBilinear: expected a ${from[0]}x${from[1]} map, got [${x.shape.join(', ')}]`);
      }
      const nhwc = transposeLayout(this.layoutOf(x), x.shape, [0, 2, 3, 1]);
      if (this.layouts.has(x) && isIdentity(nhwc.perm)) {
        // An NHWC buffer (a deferred transpose): resize it as it is, keep it deferred.
        const resized = tf.image.resizeBilinear(tf.reshape(x, [b, h, w, c]) as Tensor4D, [to[0], to[1]], false, true);
        return this.withLayout(resized, transposeLayout(identityLayout(resized.shape), resized.shape, [0, 3, 1, 2]), [b, c, to[0], to[1]]);
      }
      // NCHW [B, C, H, W] is [B*C, H, W, 1] NHWC in memory: resize each channel as an image.
      const images = tf.reshape(this.real(x), [b * c, h, w, 1]) as Tensor4D;
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
