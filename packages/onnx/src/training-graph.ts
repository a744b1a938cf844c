import {
  bilinearResizeMatrix,
  checkOneOf,
  CONFIG_METADATA_KEY,
  CostOps,
  SparseViTError,
  sparseViTGraph,
  stageSides,
  type Conv2dOptions,
  type GraphWeights,
  type SparseViTConfig,
  type TensorOps,
} from '@sparsevit/core';
import { onnx, type OnnxProto } from './onnx-proto';
import { int, ints, OnnxGraphBuilder } from './onnx-graph-builder';
import { INPUT_NAME, ONNX_OPSET, PROBABILITY_NAME, valueInfo } from './lower-to-onnx';

type Shape = readonly number[];

/** The training graph's mask input, `[batch, 1, img, img]` of 0/1. */
export const MASK_NAME = 'mask';
/** The scalar loss output. */
export const LOSS_NAME = 'loss';
/** The raw logit map output, `[batch, 1, img/16, img/16]`. */
export const LOGITS_NAME = 'logits';
/** The output holding the gradient of weight `name`. */
export const gradientName = (name: string): string => `grad:${name}`;

/** The losses the training graph computes (`@sparsevit/train`'s `trainingLoss` computes the same on tfjs). */
export const TRAINING_GRAPH_LOSSES = ['bce', 'bce+dice', 'bce+dice+image'] as const;
export type TrainingGraphLoss = (typeof TRAINING_GRAPH_LOSSES)[number];

/** One recorded `TensorOps` call: what reverse-mode differentiation needs to know about it. */
type TapeEntry =
  | { op: 'conv2d'; x: string; weight: string; bias: string | undefined; options: Conv2dOptions; out: string }
  | { op: 'matmul' | 'add' | 'mul'; a: string; b: string; out: string }
  | { op: 'reshape'; x: string; out: string }
  | { op: 'transpose'; x: string; perm: readonly number[]; out: string }
  | { op: 'split'; x: string; axis: number; outs: string[] }
  | { op: 'layerNorm'; x: string; scale: string; bias: string; epsilon: number; out: string }
  | { op: 'gelu' | 'softmax' | 'sigmoid'; x: string; out: string }
  | { op: 'resizeBilinear'; x: string; from: readonly [number, number]; to: readonly [number, number]; out: string };

/**
 * The ONNX lowering of `TensorOps` (each op is the node `OnnxGraphBuilder` records for
 * inference) that also keeps a tape of the calls with every value's static shape (from core's
 * `CostOps`), so that `gradients` can append the reverse-mode derivative of the recorded graph as
 * more ONNX nodes. The model stays the one definition, `sparseViTGraph`; each op's derivative is
 * written once here, next to nothing else.
 */
export class DifferentiableOnnxOps implements TensorOps<string> {
  readonly builder: OnnxGraphBuilder;
  private readonly shapeOps: CostOps;
  private readonly shapes = new Map<string, Shape>();
  private readonly tape: TapeEntry[] = [];
  /** Values that depend on a weight (only they get gradients). */
  private readonly dependsOnWeight = new Set<string>();

  constructor(weights: GraphWeights) {
    this.builder = new OnnxGraphBuilder(weights, 'fp32', undefined, 'cpu', { weightsAsInputs: true });
    this.shapeOps = new CostOps(weights);
  }

  /** Declares a graph input of `shape` (no gradient flows into it). */
  input(name: string, shape: Shape): string {
    this.shapes.set(name, shape);
    return name;
  }

  shapeOf(value: string): Shape {
    const shape = this.shapes.get(value);
    if (!shape) throw new SparseViTError('INVALID_ARGUMENT', `the training graph has no shape for value "${value}"`);
    return shape;
  }

  private record(entry: TapeEntry, inputs: (string | undefined)[], outputs: string[], shapes: Shape[]): void {
    outputs.forEach((o, i) => this.shapes.set(o, shapes[i]));
    if (inputs.some((v) => v !== undefined && this.dependsOnWeight.has(v))) for (const o of outputs) this.dependsOnWeight.add(o);
    this.tape.push(entry);
  }

  weight(name: string): string {
    const value = this.builder.weight(name);
    this.shapes.set(value, this.shapeOps.weight(name));
    this.dependsOnWeight.add(value);
    return value;
  }

  conv2d(x: string, weight: string, bias: string | undefined, options: Conv2dOptions): string {
    const out = this.builder.conv2d(x, weight, bias, options);
    this.record({ op: 'conv2d', x, weight, bias, options, out }, [x, weight, bias], [out], [this.shapeOps.conv2d(this.shapeOf(x), this.shapeOf(weight), undefined, options)]);
    return out;
  }

  private binary(op: 'matmul' | 'add' | 'mul', a: string, b: string): string {
    const out = this.builder[op](a, b);
    this.record({ op, a, b, out }, [a, b], [out], [this.shapeOps[op](this.shapeOf(a), this.shapeOf(b))]);
    return out;
  }

  matmul(a: string, b: string): string {
    return this.binary('matmul', a, b);
  }

  add(a: string, b: string): string {
    return this.binary('add', a, b);
  }

  mul(a: string, b: string): string {
    return this.binary('mul', a, b);
  }

  /**
   * A plain `Reshape`: the inference builder's layout shortcuts (which return an earlier value
   * for `mapToTokens(tokensToMap(t))`) would alias two values of different shapes on the tape.
   */
  reshape(x: string, shape: readonly number[]): string {
    const out = this.builder.node('Reshape', [x, this.builder.int64Constant(shape)]);
    this.record({ op: 'reshape', x, out }, [x], [out], [this.shapeOps.reshape(this.shapeOf(x), shape)]);
    return out;
  }

  transpose(x: string, perm: readonly number[]): string {
    const out = this.builder.node('Transpose', [x], [ints('perm', perm)]);
    this.record({ op: 'transpose', x, perm, out }, [x], [out], [this.shapeOps.transpose(this.shapeOf(x), perm)]);
    return out;
  }

  split(x: string, axis: number, sizes: readonly number[]): string[] {
    const outs = this.builder.split(x, axis, sizes);
    this.record({ op: 'split', x, axis, outs }, [x], outs, this.shapeOps.split(this.shapeOf(x), axis, sizes));
    return outs;
  }

  layerNorm(x: string, scale: string, bias: string, epsilon: number): string {
    const out = this.builder.layerNorm(x, scale, bias, epsilon);
    this.record({ op: 'layerNorm', x, scale, bias, epsilon, out }, [x, scale, bias], [out], [this.shapeOf(x)]);
    return out;
  }

  private unary(op: 'gelu' | 'softmax' | 'sigmoid', x: string): string {
    const out = this.builder[op](x);
    this.record({ op, x, out }, [x], [out], [this.shapeOf(x)]);
    return out;
  }

  gelu(x: string): string {
    return this.unary('gelu', x);
  }

  softmax(x: string): string {
    return this.unary('softmax', x);
  }

  sigmoid(x: string): string {
    return this.unary('sigmoid', x);
  }

  resizeBilinear(x: string, from: readonly [number, number], to: readonly [number, number]): string {
    const out = this.builder.resizeBilinear(x, from, to);
    this.record({ op: 'resizeBilinear', x, from, to, out }, [x], [out], [this.shapeOps.resizeBilinear(this.shapeOf(x), from, to)]);
    return out;
  }

  // --- the derivative -------------------------------------------------------------------------

  private node(opType: string, inputs: string[], attribute: OnnxProto.IAttributeProto[] = []): string {
    return this.builder.node(opType, inputs, attribute);
  }

  private reshapeTo(x: string, shape: Shape): string {
    return this.node('Reshape', [x, this.builder.int64Constant(shape)]);
  }

  private transposeBy(x: string, perm: readonly number[]): string {
    return this.node('Transpose', [x], [ints('perm', perm)]);
  }

  private reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.node('ReduceSum', [x, this.builder.int64Constant(axes)], [int('keepdims', keepdims ? 1 : 0)]);
  }

  /** `ReduceMean` over `axes`, kept (opset 17 takes the axes as an attribute). */
  private reduceMean(x: string, axes: readonly number[]): string {
    return this.node('ReduceMean', [x], [ints('axes', axes), int('keepdims', 1)]);
  }

  private scalar(value: number): string {
    return this.builder.floatConstant(value);
  }

  /** The gradient of a broadcast operand: `g` (of shape `from`) summed down to `to`. */
  private unbroadcast(g: string, from: Shape, to: Shape): string {
    if (from.join() === to.join()) return g;
    const lead = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) axes.push(i);
    return this.reshapeTo(axes.length > 0 ? this.reduceSum(g, axes, true) : g, to);
  }

  /**
   * Appends the gradients of a scalar with respect to the values `wrt`, given the gradients
   * `seeds` of some recorded values (for a loss `L`: `dL/dv` for the values `L` was computed
   * from). Walks the tape backwards; contributions to a value read by several ops are summed.
   * A value of `wrt` that the seeds do not reach gets a zero gradient.
   */
  gradients(seeds: ReadonlyMap<string, string>, wrt: readonly string[]): Map<string, string> {
    const parts = new Map<string, string[]>();
    const contribute = (value: string | undefined, g: string) => {
      if (value === undefined || !this.dependsOnWeight.has(value)) return;
      const list = parts.get(value);
      if (list) list.push(g);
      else parts.set(value, [g]);
    };
    const total = (value: string): string | undefined => {
      const list = parts.get(value);
      if (!list) return undefined;
      if (list.length > 1) parts.set(value, [this.node('Sum', list)]);
      return (parts.get(value) as string[])[0];
    };
    for (const [value, g] of seeds) contribute(value, g);
    for (let i = this.tape.length - 1; i >= 0; i--) this.backward(this.tape[i], total, contribute);
    const out = new Map<string, string>();
    for (const name of wrt) out.set(name, total(name) ?? this.node('Expand', [this.scalar(0), this.builder.int64Constant(this.shapeOf(name))]));
    return out;
  }

  private backward(entry: TapeEntry, total: (v: string) => string | undefined, contribute: (v: string | undefined, g: string) => void): void {
    if (entry.op === 'split') {
      if (!this.dependsOnWeight.has(entry.x)) return;
      const gs = entry.outs.map((o) => total(o));
      if (gs.every((g) => g === undefined)) return;
      const filled = gs.map((g, i) => g ?? this.node('Expand', [this.scalar(0), this.builder.int64Constant(this.shapeOf(entry.outs[i]))]));
      contribute(entry.x, this.node('Concat', filled, [int('axis', entry.axis)]));
      return;
    }
    const g = total(entry.out);
    if (g === undefined) return;
    const needs = (v: string | undefined) => v !== undefined && this.dependsOnWeight.has(v);
    const outShape = this.shapeOf(entry.out);
    switch (entry.op) {
      case 'add':
        if (needs(entry.a)) contribute(entry.a, this.unbroadcast(g, outShape, this.shapeOf(entry.a)));
        if (needs(entry.b)) contribute(entry.b, this.unbroadcast(g, outShape, this.shapeOf(entry.b)));
        return;
      case 'mul':
        if (needs(entry.a)) contribute(entry.a, this.unbroadcast(this.node('Mul', [g, entry.b]), outShape, this.shapeOf(entry.a)));
        if (needs(entry.b)) contribute(entry.b, this.unbroadcast(this.node('Mul', [g, entry.a]), outShape, this.shapeOf(entry.b)));
        return;
      case 'matmul':
        return this.matmulBackward(entry.a, entry.b, g, outShape, needs, contribute);
      case 'reshape':
        contribute(entry.x, this.reshapeTo(g, this.shapeOf(entry.x)));
        return;
      case 'transpose': {
        const inverse = new Array<number>(entry.perm.length);
        entry.perm.forEach((p, i) => (inverse[p] = i));
        contribute(entry.x, this.transposeBy(g, inverse));
        return;
      }
      case 'layerNorm':
        return this.layerNormBackward(entry, g, needs, contribute);
      case 'gelu': {
        // d/dx [x Phi(x)] = Phi(x) + x phi(x).
        const x = entry.x;
        const cdf = this.node('Mul', [this.node('Add', [this.node('Erf', [this.node('Mul', [x, this.scalar(Math.SQRT1_2)])]), this.scalar(1)]), this.scalar(0.5)]);
        const pdf = this.node('Mul', [this.node('Exp', [this.node('Mul', [this.node('Mul', [x, x]), this.scalar(-0.5)])]), this.scalar(1 / Math.sqrt(2 * Math.PI))]);
        contribute(x, this.node('Mul', [g, this.node('Add', [cdf, this.node('Mul', [x, pdf])])]));
        return;
      }
      case 'softmax': {
        const y = entry.out;
        const inner = this.reduceSum(this.node('Mul', [g, y]), [outShape.length - 1], true);
        contribute(entry.x, this.node('Mul', [y, this.node('Sub', [g, inner])]));
        return;
      }
      case 'sigmoid': {
        const y = entry.out;
        contribute(entry.x, this.node('Mul', [g, this.node('Mul', [y, this.node('Sub', [this.scalar(1), y])])]));
        return;
      }
      case 'resizeBilinear': {
        // The resize is out = Ry x Rx^T per map; its adjoint is Ry^T g Rx.
        const [h, w] = entry.from;
        const [oh, ow] = entry.to;
        const rx = this.builder.floatTensorConstant(Array.from(bilinearResizeMatrix(w, ow)), [ow, w]);
        const ryT = this.builder.floatTensorConstant(transposeMatrix(bilinearResizeMatrix(h, oh), oh, h), [h, oh]);
        contribute(entry.x, this.node('MatMul', [ryT, this.node('MatMul', [g, rx])]));
        return;
      }
      case 'conv2d':
        return this.convBackward(entry, g, needs, contribute);
    }
  }

  private matmulBackward(a: string, b: string, g: string, outShape: Shape, needs: (v: string) => boolean, contribute: (v: string, g: string) => void): void {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    const swapLast = (rank: number) => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
    if (needs(a)) contribute(a, this.unbroadcast(this.node('MatMul', [g, this.transposeBy(b, swapLast(sb.length))]), [...outShape.slice(0, -1), sa[sa.length - 1]], sa));
    if (!needs(b)) return;
    if (sb.length === 2 && sa.length > 2) {
      // A weight [K, N] applied to every row: one Gemm over all rows, a^T g, no batched reduce.
      const [k, n] = sb;
      contribute(b, this.node('Gemm', [this.reshapeTo(a, [-1, k]), this.reshapeTo(g, [-1, n])], [int('transA', 1)]));
      return;
    }
    contribute(b, this.unbroadcast(this.node('MatMul', [this.transposeBy(a, swapLast(sa.length)), g]), [...outShape.slice(0, -2), sa[sa.length - 1], outShape[outShape.length - 1]], sb));
  }

  private layerNormBackward(entry: Extract<TapeEntry, { op: 'layerNorm' }>, g: string, needs: (v: string) => boolean, contribute: (v: string, g: string) => void): void {
    const { x, scale, bias, epsilon } = entry;
    const shape = this.shapeOf(x);
    const last = shape.length - 1;
    const leading = Array.from({ length: last }, (_, i) => i);
    // Recomputed from x (two reductions) rather than kept from the forward pass.
    const centred = this.node('Sub', [x, this.reduceMean(x, [last])]);
    const variance = this.reduceMean(this.node('Mul', [centred, centred]), [last]);
    const rstd = this.node('Reciprocal', [this.node('Sqrt', [this.node('Add', [variance, this.scalar(epsilon)])])]);
    const normalized = this.node('Mul', [centred, rstd]);
    if (needs(scale)) contribute(scale, this.reduceSum(this.node('Mul', [g, normalized]), leading, false));
    if (needs(bias)) contribute(bias, this.reduceSum(g, leading, false));
    if (!needs(x)) return;
    const gn = this.node('Mul', [g, scale]);
    const meanG = this.reduceMean(gn, [last]);
    const meanGN = this.reduceMean(this.node('Mul', [gn, normalized]), [last]);
    contribute(x, this.node('Mul', [rstd, this.node('Sub', [this.node('Sub', [gn, meanG]), this.node('Mul', [normalized, meanGN])])]));
  }

  /**
   * The convolutions SparseViT has: 1x1 (the MLPs), patch embeddings (kernel = stride, no
   * padding) and depthwise (stride 1). Each has the derivative that is cheapest for it; any
   * other convolution is refused by name rather than differentiated wrongly.
   */
  private convBackward(entry: Extract<TapeEntry, { op: 'conv2d' }>, g: string, needs: (v: string) => boolean, contribute: (v: string, g: string) => void): void {
    const { x, weight, bias } = entry;
    const { stride, padding, groups } = entry.options;
    const [n, c, h, w] = this.shapeOf(x);
    const [o, i, kh, kw] = this.shapeOf(weight);
    const [, , oh, ow] = this.shapeOf(entry.out);
    if (bias !== undefined && needs(bias)) contribute(bias, this.reduceSum(g, [0, 2, 3], false));
    if (groups === 1 && kh === stride && kw === stride && padding === 0 && h % stride === 0 && w % stride === 0) {
      const k = stride;
      // Patches as columns: [I*k*k, N*OH*OW]; the conv is the product W [O, I*k*k] x patches.
      const g2 = this.reshapeTo(this.transposeBy(g, [1, 0, 2, 3]), [o, n * oh * ow]);
      if (needs(weight)) {
        const patches = k === 1 ? this.reshapeTo(this.transposeBy(x, [1, 0, 2, 3]), [c, n * h * w]) : this.reshapeTo(this.transposeBy(this.reshapeTo(x, [n, c, oh, k, ow, k]), [1, 3, 5, 0, 2, 4]), [c * k * k, n * oh * ow]);
        contribute(weight, this.reshapeTo(this.node('Gemm', [g2, patches], [int('transB', 1)]), [o, i, kh, kw]));
      }
      if (needs(x)) {
        const columns = this.node('Gemm', [this.reshapeTo(weight, [o, i * k * k]), g2], [int('transA', 1)]);
        const gx = k === 1 ? this.transposeBy(this.reshapeTo(columns, [c, n, h, w]), [1, 0, 2, 3]) : this.reshapeTo(this.transposeBy(this.reshapeTo(columns, [c, k, k, n, oh, ow]), [3, 0, 4, 1, 5, 2]), [n, c, h, w]);
        contribute(x, gx);
      }
      return;
    }
    if (groups === c && o === c && i === 1 && stride === 1) {
      if (needs(x)) {
        // The adjoint of a stride-1 correlation: the same correlation with the kernel flipped.
        const big = -(2 ** 62);
        const flipped = this.node('Slice', [weight, this.builder.int64Constant([-1, -1]), this.builder.int64Constant([big, big]), this.builder.int64Constant([2, 3]), this.builder.int64Constant([-1, -1])]);
        const pad = kh - 1 - padding;
        contribute(x, this.node('Conv', [g, flipped], [ints('kernel_shape', [kh, kw]), ints('pads', [pad, pad, pad, pad]), int('group', c)]));
      }
      if (needs(weight)) {
        // dW[c] = x[:, c] correlated with g[:, c] over the batch: one grouped conv whose input is
        // the batch as channels and whose kernel is the output gradient.
        const input = this.reshapeTo(this.transposeBy(x, [1, 0, 2, 3]), [1, c * n, h, w]);
        const kernel = this.transposeBy(g, [1, 0, 2, 3]);
        const dw = this.node('Conv', [input, kernel], [ints('kernel_shape', [oh, ow]), ints('pads', [padding, padding, padding, padding]), int('group', c)]);
        contribute(weight, this.reshapeTo(dw, [c, 1, kh, kw]));
      }
      return;
    }
    throw new SparseViTError('INVALID_ARGUMENT', `the training graph has no derivative for a ${kh}x${kw} conv with stride ${stride}, padding ${padding} and ${groups} groups`);
  }
}

function transposeMatrix(m: Float32Array, rows: number, columns: number): number[] {
  const t = new Array<number>(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) t[c * rows + r] = m[r * columns + c];
  return t;
}

export interface TrainingGraphOptions {
  /** Images per run (the graph's shapes are static). */
  batch: number;
  /** Default `bce`. */
  loss?: TrainingGraphLoss;
  /** Include the weights' gradients (default true); without them the graph is an evaluation pass. */
  gradients?: boolean;
}

/** A lowered training step: the model and the order of its weight inputs. */
export interface TrainingGraph {
  model: Uint8Array;
  /** Graph weight names, each a graph input of that name and (with gradients) an output `gradientName(name)`. */
  weights: { name: string; shape: readonly number[] }[];
}

/** The smoothing term of the soft Dice loss: an empty mask predicted empty scores 0. */
export const DICE_SMOOTH = 1;

/**
 * Lowers one training step of SparseViT to ONNX: the forward pass of `sparseViTGraph` with the
 * weights as inputs, the loss of `@sparsevit/train` (BCE with logits on the logit map upsampled
 * to the input, plus the per-image soft Dice term for `bce+dice`, plus BCE of the image score for
 * `bce+dice+image`), and the gradient of the loss
 * with respect to every weight. Inputs: `input` `[batch, 3, img, img]`, `mask` `[batch, 1, img,
 * img]` and the weights; outputs: `loss`, `logits`, `probability`, and `grad:<weight>` for each.
 * Any ONNX runtime then trains the model: ONNX Runtime CPU runs it about ten times faster than
 * TensorFlow.js's wasm backend on this model (`pnpm bench:train`).
 *
 * ```ts
 * const { model, weights } = lowerTrainingGraph(config, prepared, { batch: 4, loss: 'bce+dice' });
 * const session = await ort.InferenceSession.create(model);
 * ```
 */
export function lowerTrainingGraph(config: SparseViTConfig, weights: GraphWeights, options: TrainingGraphOptions): TrainingGraph {
  const { batch } = options;
  const lossKind = checkOneOf('loss', options.loss ?? 'bce', TRAINING_GRAPH_LOSSES);
  if (!Number.isInteger(batch) || batch < 1) throw new SparseViTError('INVALID_ARGUMENT', `batch must be a positive integer, got ${batch}`);
  const size = config.img_size;
  const [, , s3] = stageSides(config);
  const ops = new DifferentiableOnnxOps(weights);
  const b = ops.builder;
  const input = ops.input(INPUT_NAME, [batch, 3, size, size]);
  const y = ops.input(MASK_NAME, [batch, 1, size, size]);
  const { logits, probability } = sparseViTGraph(ops, config, input);

  // The loss on the upsampled logits z, and its derivative dL/dz written out (both are a few
  // elementwise passes over [batch, 1, img, img]).
  const z = ops.resizeBilinear(logits, [s3, s3], [size, size]);
  const pixels = batch * size * size;
  const softplusTerm = b.node('Log', [b.node('Add', [b.node('Exp', [b.node('Neg', [b.node('Abs', [z])])]), b.floatConstant(1)])]);
  const perPixel = b.node('Add', [b.node('Sub', [b.node('Relu', [z]), b.node('Mul', [z, y])]), softplusTerm]);
  let loss = b.node('ReduceMean', [perPixel], [ints('axes', [0, 1, 2, 3]), int('keepdims', 0)]);
  const p = b.node('Sigmoid', [z]);
  let dz = b.node('Mul', [b.node('Sub', [p, y]), b.floatConstant(1 / pixels)]);
  if (lossKind === 'bce+dice' || lossKind === 'bce+dice+image') {
    const flat = (v: string) => b.node('Reshape', [v, b.int64Constant([batch, size * size])]);
    const pf = flat(p);
    const yf = flat(y);
    const sum = (v: string) => b.node('ReduceSum', [v, b.int64Constant([1])], [int('keepdims', 1)]);
    const overlap2s = b.node('Add', [b.node('Mul', [sum(b.node('Mul', [pf, yf])), b.floatConstant(2)]), b.floatConstant(DICE_SMOOTH)]);
    const denom = b.node('Add', [b.node('Add', [sum(pf), sum(yf)]), b.floatConstant(DICE_SMOOTH)]);
    const score = b.node('Div', [overlap2s, denom]);
    const dice = b.node('ReduceMean', [b.node('Sub', [b.floatConstant(1), score])], [ints('axes', [0, 1]), int('keepdims', 0)]);
    loss = b.node('Add', [loss, dice]);
    // d(1 - score)/dp = -(2 y D - (2 I + s)) / D^2 per image, over the batch mean; then dp/dz.
    const dScore = b.node('Div', [b.node('Sub', [b.node('Mul', [b.node('Mul', [yf, b.floatConstant(2)]), denom]), overlap2s]), b.node('Mul', [denom, denom])]);
    const dp = b.node('Mul', [dScore, b.floatConstant(-1 / batch)]);
    const dzDice = b.node('Mul', [dp, b.node('Mul', [pf, b.node('Sub', [b.floatConstant(1), pf])])]);
    dz = b.node('Add', [dz, b.node('Reshape', [dzDice, b.int64Constant([batch, 1, size, size])])]);
  }
  if (lossKind === 'bce+dice+image') {
    // The image-level term: BCE with logits of the image score (the largest upsampled logit, so
    // sigmoid of it is `detect`'s `score`) against "has a marked pixel". A few wrong pixels
    // barely move the per-pixel mean, but they decide an authentic image's score; this weighs
    // each image's strongest pixel as much as a whole image. Ties (the clamped borders of the
    // bilinear upsampling repeat values) share its gradient equally, as PyTorch's `amax` does.
    const flat = (v: string) => b.node('Reshape', [v, b.int64Constant([batch, size * size])]);
    const zf = flat(z);
    const zMax = b.node('ReduceMax', [zf], [ints('axes', [1]), int('keepdims', 1)]);
    const label = b.node('ReduceMax', [flat(y)], [ints('axes', [1]), int('keepdims', 1)]);
    const imageSoftplus = b.node('Log', [b.node('Add', [b.node('Exp', [b.node('Neg', [b.node('Abs', [zMax])])]), b.floatConstant(1)])]);
    const imageBce = b.node('Add', [b.node('Sub', [b.node('Relu', [zMax]), b.node('Mul', [zMax, label])]), imageSoftplus]);
    loss = b.node('Add', [loss, b.node('ReduceMean', [imageBce], [ints('axes', [0, 1]), int('keepdims', 0)])]);
    const atMax = b.node('Cast', [b.node('Equal', [zf, zMax])], [int('to', onnx.TensorProto.DataType.FLOAT)]);
    const ties = b.node('ReduceSum', [atMax, b.int64Constant([1])], [int('keepdims', 1)]);
    const dzMax = b.node('Mul', [b.node('Sub', [b.node('Sigmoid', [zMax]), label]), b.floatConstant(1 / batch)]);
    const dzImage = b.node('Mul', [atMax, b.node('Div', [dzMax, ties])]);
    dz = b.node('Add', [dz, b.node('Reshape', [dzImage, b.int64Constant([batch, 1, size, size])])]);
  }

  const outputs: Array<[string, string, Shape]> = [
    [loss, LOSS_NAME, []],
    [logits, LOGITS_NAME, [batch, 1, s3, s3]],
    [probability, PROBABILITY_NAME, [batch, 1, size, size]],
  ];
  const weightInputs = b.weightInputs;
  if (options.gradients ?? true) {
    const grads = ops.gradients(new Map([[z, dz]]), weightInputs.map((w) => w.name));
    for (const w of weightInputs) outputs.push([grads.get(w.name) as string, gradientName(w.name), w.shape]);
  }
  for (const [value, name] of outputs) b.nodes.push({ opType: 'Identity', name: `output_${name}`, input: [value], output: [name] });
  const graph = b.liveGraph(outputs.map(([, name]) => name));
  const model: OnnxProto.IModelProto = {
    irVersion: 8,
    producerName: '@sparsevit/onnx',
    domain: 'ai.sparsevit',
    docString: `One SparseViT training step (${lossKind} loss and its gradients), lowered from @sparsevit/core.`,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [{ key: CONFIG_METADATA_KEY, value: JSON.stringify(config) }],
    graph: {
      name: 'sparsevit_training_step',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(INPUT_NAME, [batch, 3, size, size]), valueInfo(MASK_NAME, [batch, 1, size, size]), ...weightInputs.map((w) => valueInfo(w.name, [...w.shape]))],
      output: outputs.map(([, name, shape]) => valueInfo(name, [...shape])),
    },
  };
  return { model: onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish(), weights: weightInputs.map((w) => ({ name: w.name, shape: w.shape })) };
}
