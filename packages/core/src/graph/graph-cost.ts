import { SparseViTError } from '../errors';
import type { SparseViTConfig } from '../config/sparsevit-config';
import { numel } from '../weights/tensor';
import { sparseViTGraph } from './sparsevit';
import type { Conv2dOptions, TensorOps } from './tensor-ops';

/** The arithmetic of one forward pass, counted op by op on the graph itself. */
export interface GraphCost {
  /** Images in the counted batch. */
  batch: number;
  /**
   * Multiply-accumulates of the convolutions and matrix products, the work that decides the
   * speed (one multiply-add = 2 FLOP in the `flops` figure).
   */
  macs: number;
  /** `2 * macs`: the usual "GFLOP per image" figure, for `batch` images. */
  flops: number;
  /** Elements produced by the other ops (adds, norms, GELU, softmax, ...): memory-bound work. */
  elementwise: number;
  /** Multiply-accumulates by op kind (`conv2d`, `matmul`), for profiles and roofline estimates. */
  macsByOp: Record<'conv2d' | 'matmul', number>;
}

type Shape = readonly number[];

/** NumPy broadcasting of two shapes. */
function broadcast(a: Shape, b: Shape, op: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new SparseViTError('INVALID_ARGUMENT', `${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * A `TensorOps` over shapes: it runs no arithmetic, it tracks every value's shape and adds up
 * what each op would cost. Because it is driven by `sparseViTGraph`, the count follows the graph
 * the backends actually run (after the preparation folds), not a separate formula. Recording
 * backends that need static shapes (the ONNX training lowering) run it beside themselves.
 *
 * ```ts
 * const shapes = new CostOps(weights);
 * shapes.conv2d([1, 3, 256, 256], shapes.weight('encoder_net.patch_embed1.proj.weight'), undefined, { stride: 4, padding: 0, groups: 1 }); // [1, embed_dim[0], img_size / 4, img_size / 4]
 * ```
 */
export class CostOps implements TensorOps<Shape> {
  macs = { conv2d: 0, matmul: 0 };
  elementwise = 0;

  constructor(private readonly weightShapes: ReadonlyMap<string, { readonly shape: Shape }>) {}

  weight(name: string): Shape {
    const w = this.weightShapes.get(name);
    if (!w) throw new SparseViTError('WEIGHTS_MISMATCH', `graph weight ${name} is missing`);
    return w.shape;
  }

  conv2d(x: Shape, weight: Shape, _bias: Shape | undefined, { stride, padding, groups }: Conv2dOptions): Shape {
    const [n, c, h, w] = x;
    const [out, inPerGroup, kh, kw] = weight;
    if (x.length !== 4 || weight.length !== 4 || inPerGroup * groups !== c) {
      throw new SparseViTError('INVALID_ARGUMENT', `conv2d: input [${x.join(', ')}] does not fit filter [${weight.join(', ')}] in ${groups} groups`);
    }
    const oh = Math.floor((h + 2 * padding - kh) / stride) + 1;
    const ow = Math.floor((w + 2 * padding - kw) / stride) + 1;
    this.macs.conv2d += n * out * oh * ow * inPerGroup * kh * kw;
    return [n, out, oh, ow];
  }

  matmul(a: Shape, b: Shape): Shape {
    const [m, k] = a.slice(-2);
    const [k2, n] = b.slice(-2);
    if (a.length < 2 || b.length < 2 || k !== k2) throw new SparseViTError('INVALID_ARGUMENT', `matmul: [${a.join(', ')}] x [${b.join(', ')}]`);
    const batch = broadcast(a.slice(0, -2), b.slice(0, -2), 'matmul');
    this.macs.matmul += numel(batch) * m * k * n;
    return [...batch, m, n];
  }

  private pointwise(shape: Shape): Shape {
    this.elementwise += numel(shape);
    return shape;
  }

  add(a: Shape, b: Shape): Shape {
    return this.pointwise(broadcast(a, b, 'add'));
  }

  mul(a: Shape, b: Shape): Shape {
    return this.pointwise(broadcast(a, b, 'mul'));
  }

  reshape(x: Shape, shape: readonly number[]): Shape {
    const known = shape.reduce((n, d) => (d === -1 ? n : n * d), 1);
    const out = shape.map((d) => (d === -1 ? numel(x) / known : d));
    if (numel(out) !== numel(x) || !out.every(Number.isInteger)) throw new SparseViTError('INVALID_ARGUMENT', `reshape: [${x.join(', ')}] to [${shape.join(', ')}]`);
    return out;
  }

  transpose(x: Shape, perm: readonly number[]): Shape {
    return perm.map((p) => x[p]);
  }

  split(x: Shape, axis: number, sizes: readonly number[]): Shape[] {
    return sizes.map((s) => x.map((d, i) => (i === axis ? s : d)));
  }

  layerNorm(x: Shape): Shape {
    return this.pointwise(x);
  }

  gelu(x: Shape): Shape {
    return this.pointwise(x);
  }

  softmax(x: Shape): Shape {
    return this.pointwise(x);
  }

  sigmoid(x: Shape): Shape {
    return this.pointwise(x);
  }

  resizeBilinear(x: Shape, _from: readonly [number, number], to: readonly [number, number]): Shape {
    return this.pointwise([...x.slice(0, -2), ...to]);
  }
}

/**
 * Counts the arithmetic of one forward pass of `batch` images, by running `sparseViTGraph` over
 * shapes. `weights` are the prepared graph weights (`prepareGraphWeights`); only their shapes are
 * read. The published base model at 512x512 is ~46 G multiply-adds (~92 GFLOP) per image.
 *
 * ```ts
 * const cost = graphCost(config, prepareGraphWeights(store, config));
 * console.log(`${(cost.flops / 1e9).toFixed(1)} GFLOP per image`);
 * ```
 */
export function graphCost(config: SparseViTConfig, weights: ReadonlyMap<string, { readonly shape: readonly number[] }>, batch = 1): GraphCost {
  if (!Number.isInteger(batch) || batch < 1) throw new SparseViTError('INVALID_ARGUMENT', `batch must be a positive integer, got ${batch}`);
  const ops = new CostOps(weights);
  sparseViTGraph(ops, config, [batch, 3, config.img_size, config.img_size]);
  const macs = ops.macs.conv2d + ops.macs.matmul;
  return { batch, macs, flops: 2 * macs, elementwise: ops.elementwise, macsByOp: { ...ops.macs } };
}
