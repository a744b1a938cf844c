import { float32ToF16Bytes, SparseViTError, type Conv2dOptions, type GraphWeights, type TensorOps } from '@sparsevit/core';
import { onnx, type OnnxProto } from './onnx-proto';

type Attribute = OnnxProto.IAttributeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT8 = onnx.TensorProto.DataType.INT8;
const UINT8 = onnx.TensorProto.DataType.UINT8;
const INT64 = onnx.TensorProto.DataType.INT64;

/** How weights are stored in the model file; compute is float32 either way. */
export type OnnxWeightStorage = 'float32' | 'float16';

/**
 * The arithmetic of a lowered model:
 *
 * - `fp32`: float32 weights and arithmetic (the reference).
 * - `fp16`: weights stored as FLOAT16 (half the file), arithmetic float32.
 * - `q8`: the attention stages' four linears per block (`attn.qkv`, `attn.proj`, `mlp.fc1`,
 *   `mlp.fc2`, 93% of the weights and 67% of the multiply-adds of `base`) and the convolutional
 *   stages' 1x1 convs (`conv1`, `conv2`, `mlp.fc1`, `mlp.fc2`, 19% of the multiply-adds) run in
 *   int8: weights int8, per output channel, symmetric; activations quantized per tensor at run
 *   time (`DynamicQuantizeLinear` + `MatMulInteger`, which ONNX Runtime fuses into its integer
 *   GEMM). Everything else stays float: stored FLOAT16, computed float32 (see `isQ8Weight`,
 *   `isQ8MapWeight`).
 */
export type OnnxDtype = 'fp32' | 'fp16' | 'q8';

/**
 * The weights `q8` stores as int8 in the attention stages: the linears of the sparse attention
 * blocks (stages 3 and 4). With `isQ8MapWeight`, those of the convolutional stages. Kept float,
 * because quantizing them measurably did not pay (packages/onnx README, "q8"): every patch
 * embedding (the first sees the raw image; together 1% of the work), depthwise convs, the
 * attention products between activations (faster on some runs, slower on others, and twice the
 * logit error), LayerNorm, softmax and the LFF head.
 */
export function isQ8Weight(name: string): boolean {
  return /^encoder_net\.blocks[34]\.\d+\.(attn\.(qkv|proj)|mlp\.fc[12])\.weight$/.test(name);
}

/**
 * The weights `q8` stores as int8 in the convolutional stages 1 and 2: their 1x1 convs. How they
 * run depends on the `Q8Target`.
 */
export function isQ8MapWeight(name: string): boolean {
  return /^encoder_net\.blocks[12]\.\d+\.(conv1|conv2|mlp\.fc[12])\.weight$/.test(name);
}

/**
 * Where a `q8` model runs, which decides how the 1x1 convs of stages 1-2 (`isQ8MapWeight`) are laid
 * out; both quantize the same weights, the same way.
 *
 * - `cpu` (ONNX Runtime CPU): as products over channels on the NHWC map, and the maps of those
 *   stages are kept NHWC between them (residual sums and GELU included); each depthwise conv reads
 *   its map through one NHWC -> NCHW transpose that ONNX Runtime folds into its NCHWc reorder.
 *   The same products on the NCHW map (weight on the left, uint8 x uint8) ran at 1.14-1.47x of
 *   the float conv there, and with a transpose in and out of each conv at 0.58-1.91x.
 * - `wasm` (onnxruntime-web): as products on the NCHW map itself, `[batch, C, H*W]` with the weight
 *   on the left (uint8 x uint8 `MatMulInteger`), no transposes: wasm runs that at 0.35-0.63x of
 *   its float conv, and has no NCHWc layout to fold transposes into.
 */
export type Q8Target = 'cpu' | 'wasm';

/** Per-output-channel symmetric int8: `w ~ q * scale[column]`, `q` in [-127, 127]. */
export interface Int8Weight {
  /** `[inputs, outputs]`, row-major. */
  data: Int8Array;
  /** One scale per output (column). */
  scale: Float32Array;
}

/**
 * Quantizes a row-major `[rows, columns]` matrix per column (the outputs of a `MatMul`), or, with
 * `transposeFrom`, the `[columns, rows]` matrix of a 1x1 conv's OIHW weight, into `[rows, columns]`.
 */
export function quantizeInt8PerColumn(w: Float32Array, rows: number, columns: number, transposeFrom = false): Int8Weight {
  const at = transposeFrom ? (r: number, c: number) => w[c * rows + r] : (r: number, c: number) => w[r * columns + c];
  const data = new Int8Array(rows * columns);
  const scale = new Float32Array(columns);
  for (let c = 0; c < columns; c++) {
    let max = 0;
    for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(at(r, c)));
    // An all-zero column keeps scale 1 (its int8 values are 0 either way).
    const s = max > 0 ? max / 127 : 1;
    scale[c] = s;
    for (let r = 0; r < rows; r++) data[r * columns + c] = Math.max(-127, Math.min(127, Math.round(at(r, c) / s)));
  }
  return { data, scale };
}

/** What the builder knows about how a value was made, for the layout rewrites of `q8`. */
type Provenance =
  | { op: 'reshape'; input: string; shape: readonly number[] }
  | { op: 'transpose'; input: string; perm: readonly number[] };

/**
 * Where weights go: inside the model (default), or in a separate file the model names (ONNX
 * external data). External data lets a runtime map weights straight from disk instead of
 * parsing them out of a 200 MB protobuf, which halves the peak memory of loading.
 */
export interface ExternalDataLayout {
  /** File name of the weights, relative to the model file. */
  location: string;
  /** Each tensor starts at a multiple of this (64 KiB: mappable on every OS). */
  alignment?: number;
}

/**
 * The ONNX implementation of core's `TensorOps`: each call appends a node and returns the name of
 * its output value, so running the SparseViT definition against it records the whole graph.
 * Weights become initializers the first time the graph reads them; small int64 / float
 * constants (reshape targets, GELU's scalars) are deduplicated by value.
 */
export class OnnxGraphBuilder implements TensorOps<string> {
  readonly nodes: OnnxProto.INodeProto[] = [];
  readonly initializers: OnnxProto.ITensorProto[] = [];
  private readonly weightValues = new Map<string, string>();
  /** Shapes of the values `weight()` returned (conv attributes need the kernel size). */
  private readonly weightShapes = new Map<string, readonly number[]>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  /** With external data: the bytes of the weights file, in order (views, plus zero padding). */
  readonly externalChunks: Uint8Array[] = [];
  externalSize = 0;
  readonly dtype: OnnxDtype;
  /** `q8` weights handed out by `weight()` and not yet stored: their use decides int8 or float. */
  private readonly deferred = new Set<string>();
  private readonly int8Names = new Set<string>();
  private readonly provenance = new Map<string, Provenance>();
  /** Maps known to be `tokensToMap(tokens)`: a 1x1 conv on them is a product on the tokens. */
  private readonly mapTokens = new Map<string, string>();
  /** Maps known to be `NHWC -> NCHW` transposes of a value: `mapToTokens` of them is a reshape. */
  private readonly mapNhwc = new Map<string, string>();

  /**
   * `q8` for ONNX Runtime CPU keeps the maps of the convolutional stages NHWC between their int8
   * products (see `Q8Target`): `tokensToMap` and the residual sums and GELUs of maps held NHWC are
   * built NHWC, and each depthwise conv reads its map through one NHWC -> NCHW transpose, which
   * ONNX Runtime folds into the NCHWc reorder it puts before the conv anyway.
   */
  private readonly channelsLast: boolean;

  /** Spatial `[height, width]` of NCHW maps, where known (the map-layout int8 convs reshape). */
  private readonly sides = new Map<string, readonly [number, number]>();

  /**
   * With `weightsAsInputs`, the weights the graph reads become graph inputs (in reading order,
   * with their shapes) instead of initializers: a training step feeds the current weights on
   * every run. Only `fp32` stores no weight data at all.
   */
  readonly weightInputs: { name: string; shape: readonly number[] }[] = [];
  private readonly weightsAsInputs: boolean;

  constructor(
    private readonly weights: GraphWeights,
    dtype: OnnxDtype | OnnxWeightStorage = 'fp32',
    private readonly external?: ExternalDataLayout,
    private readonly q8Target: Q8Target = 'cpu',
    options: { weightsAsInputs?: boolean } = {},
  ) {
    this.dtype = dtype === 'float32' ? 'fp32' : dtype === 'float16' ? 'fp16' : dtype;
    this.weightsAsInputs = options.weightsAsInputs ?? false;
    this.channelsLast = this.dtype === 'q8' && q8Target === 'cpu';
    if (this.weightsAsInputs && this.dtype !== 'fp32') throw new SparseViTError('INVALID_ARGUMENT', `weights can be graph inputs in fp32 only, not ${this.dtype}`);
  }

  /**
   * With `fp16` (and the float weights of `q8`), each weight is stored as FLOAT16 and read through
   * a `Cast` to float32: the file is half the size and the arithmetic stays float32. ONNX Runtime
   * folds these casts when it loads the model, so they cost nothing per image. A `q8` weight is
   * stored when its use is known (`matmul`, `conv2d`).
   */
  weight(name: string): string {
    const q8 = isQ8Weight(name) || isQ8MapWeight(name);
    if (this.dtype === 'q8' && q8 && !this.weightValues.has(name)) {
      if (this.int8Names.has(name)) throw new SparseViTError('INVALID_ARGUMENT', `the graph reads the int8 weight "${name}" twice`);
      const w = this.graphWeight(name);
      this.deferred.add(name);
      this.weightShapes.set(name, w.shape);
      return name;
    }
    return this.floatWeight(name);
  }

  private graphWeight(name: string) {
    const w = this.weights.get(name);
    if (!w) throw new SparseViTError('WEIGHTS_MISMATCH', `the graph reads weight "${name}", which the prepared weights do not hold`);
    return w;
  }

  private floatWeight(name: string): string {
    let value = this.weightValues.get(name);
    if (value === undefined && this.weightsAsInputs) {
      const { shape } = this.graphWeight(name);
      this.weightInputs.push({ name, shape });
      this.weightValues.set(name, name);
      this.weightShapes.set(name, shape);
      return name;
    }
    if (value === undefined) {
      const w = this.graphWeight(name);
      const half = this.dtype !== 'fp32';
      this.addInitializer(name, w.shape, half ? FLOAT16 : FLOAT, half ? float32ToF16Bytes(w.data) : littleEndianBytes(w.data));
      value = half ? this.node('Cast', [name], [int('to', FLOAT)]) : name;
      this.weightValues.set(name, value);
      this.weightShapes.set(value, w.shape);
    }
    return value;
  }

  conv2d(x: string, weight: string, bias: string | undefined, o: Conv2dOptions): string {
    const shape = this.weightShapes.get(weight);
    if (!shape) throw new SparseViTError('WEIGHTS_MISMATCH', `conv weight "${weight}" has no shape`);
    const side = this.sides.get(x);
    if (this.deferred.has(weight) && shape[2] === 1 && shape[3] === 1 && o.groups === 1 && o.stride === 1 && o.padding === 0) {
      if (this.q8Target === 'wasm' && isQ8MapWeight(weight) && side) return this.withSide(this.int8Conv1x1OnMap(x, weight, bias, shape, side), side);
      return this.withSide(this.int8Conv1x1(x, weight, bias, shape), side);
    }
    const out = side && [(side[0] + 2 * o.padding - shape[2]) / o.stride + 1, (side[1] + 2 * o.padding - shape[3]) / o.stride + 1];
    return this.withSide(this.node('Conv', bias ? [x, weight, bias] : [x, weight], [
      ints('kernel_shape', [shape[2], shape[3]]),
      ints('strides', [o.stride, o.stride]),
      ints('pads', [o.padding, o.padding, o.padding, o.padding]),
      int('group', o.groups),
    ]), out && [Math.floor(out[0]), Math.floor(out[1])]);
  }

  private withSide(value: string, side: readonly [number, number] | undefined): string {
    if (side) this.sides.set(value, side);
    return value;
  }

  /**
   * A 1x1 conv on the NCHW map as `W x X`: `X` the map as `[batch, C, H*W]` quantized as
   * `int8MatMul` does, `W` `[out, C]` uint8 (int8 + 128, zero point 128) so that both operands are
   * uint8, the combination onnxruntime-web runs fastest with the weight on the left.
   */
  private int8Conv1x1OnMap(x: string, weight: string, bias: string | undefined, shape: readonly number[], side: readonly [number, number]): string {
    const [out, channels] = shape;
    const q = quantizeInt8PerColumn(this.graphWeight(weight).data, channels, out, true);
    const rows = new Uint8Array(out * channels);
    for (let c = 0; c < channels; c++) for (let o = 0; o < out; o++) rows[o * channels + c] = q.data[c * out + o] + 128;
    const { data, scale } = this.storeQuantized(weight, 'uint8', UINT8, [out, channels], rows, q.scale, [out, 1]);
    const [h, w] = side;
    const [xq, xScale, xZero] = this.nodeN('DynamicQuantizeLinear', [this.reshape(x, [-1, channels, h * w])], 3);
    const product = this.node('MatMulInteger', [data, xq, this.uint8Constant(128), xZero]);
    let y = this.node('Mul', [this.node('Cast', [product], [int('to', FLOAT)]), this.node('Mul', [xScale, scale])]);
    if (bias) y = this.node('Add', [y, this.reshape(bias, [out, 1])]);
    return this.reshape(y, [-1, out, h, w]);
  }

  matmul(a: string, b: string): string {
    if (this.deferred.has(b)) {
      const [k, n] = this.weightShapes.get(b)!;
      return this.int8MatMul(a, this.int8Weight(b, quantizeInt8PerColumn(this.graphWeight(b).data, k, n), [k, n]));
    }
    return this.node('MatMul', [a, b]);
  }

  /** Stores a quantized weight as `<name>.int8` and `<name>.scale`; returns their names. */
  private int8Weight(name: string, q: Int8Weight, dims: readonly number[]): { data: string; scale: string } {
    return this.storeQuantized(name, 'int8', INT8, dims, new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength), q.scale, [q.scale.length]);
  }

  /**
   * Stores weight `name` quantized, as `<name>.<suffix>` (`bytes`, of `dataType`) and
   * `<name>.scale`, and marks it stored as integers (no longer deferred); returns their names.
   */
  private storeQuantized(
    name: string,
    suffix: string,
    dataType: number,
    dims: readonly number[],
    bytes: Uint8Array,
    scales: Float32Array,
    scaleDims: readonly number[],
  ): { data: string; scale: string } {
    this.deferred.delete(name);
    this.int8Names.add(name);
    const data = `${name}.${suffix}`;
    const scale = `${name}.scale`;
    this.addInitializer(data, dims, dataType, bytes);
    this.addInitializer(scale, scaleDims, FLOAT, littleEndianBytes(scales));
    return { data, scale };
  }

  /**
   * `x W` with `W` int8 per column: `DynamicQuantizeLinear(x)` (uint8, one scale and zero point per
   * tensor, from the tensor's range), `MatMulInteger` into int32, then `float(.) * (x_scale *
   * w_scale)`. This is the pattern ONNX Runtime fuses (CPU: `DynamicQuantizeMatMul`), and plain
   * standard ops elsewhere (onnxruntime-web's wasm runs them faster than the contrib op).
   */
  private int8MatMul(x: string, w: { data: string; scale: string }): string {
    const [xq, xScale, xZero] = this.nodeN('DynamicQuantizeLinear', [x], 3);
    const product = this.node('MatMulInteger', [xq, w.data, xZero]);
    const scale = this.node('Mul', [xScale, w.scale]);
    return this.node('Mul', [this.node('Cast', [product], [int('to', FLOAT)]), scale]);
  }

  /**
   * A 1x1 conv as an int8 product over channels: on the tokens when the map was made from tokens
   * (`tokensToMap`, then no layout change at all), otherwise on the NHWC transpose of the map.
   * `ConvInteger` would keep NCHW, but it ran 2.3-3.2x slower than float `Conv` (ORT CPU).
   */
  private int8Conv1x1(x: string, weight: string, bias: string | undefined, shape: readonly number[]): string {
    const [out, channels] = shape;
    const w = this.int8Weight(weight, quantizeInt8PerColumn(this.graphWeight(weight).data, channels, out, true), [channels, out]);
    const withBias = (y: string) => (bias ? this.node('Add', [y, bias]) : y);
    const tokens = this.mapTokens.get(x);
    if (tokens !== undefined && !this.channelsLast) {
      // x = tokensToMap(tokens): reshape [-1, C, side, side] of a transpose of [-1, side^2, C].
      const [h, wide] = this.sides.get(x)!;
      const y = withBias(this.int8MatMul(tokens, w));
      return this.reshape(this.transpose(this.reshape(y, [-1, h * wide, out]), [0, 2, 1]), [-1, out, h, wide]);
    }
    return this.nchwOf(withBias(this.int8MatMul(this.nhwcOf(x), w)));
  }

  add(a: string, b: string): string {
    const side = this.sides.get(a) ?? this.sides.get(b);
    // A residual sum of two maps, one of them held NHWC: summed NHWC, so that the map stays NHWC
    // between the int8 products and the transpose the other operand needs folds into its conv's
    // NCHWc reorder (a transpose of the sum would be read by two nodes, and could not).
    if (this.channelsLast && this.sides.has(a) && this.sides.has(b) && (this.mapNhwc.has(a) || this.mapNhwc.has(b))) {
      return this.withSide(this.nchwOf(this.node('Add', [this.nhwcOf(a), this.nhwcOf(b)])), side);
    }
    return this.withSide(this.node('Add', [a, b]), side);
  }

  /** The NCHW map of NHWC `nhwc`, recorded so that NHWC consumers read `nhwc` itself. */
  private nchwOf(nhwc: string): string {
    const map = this.transpose(nhwc, [0, 3, 1, 2]);
    this.mapNhwc.set(map, nhwc);
    return map;
  }

  /** The NHWC layout of map `x`: the value it was transposed from, or a transpose of it. */
  private nhwcOf(x: string): string {
    return this.mapNhwc.get(x) ?? this.transpose(x, [0, 2, 3, 1]);
  }

  mul(a: string, b: string): string {
    return this.withSide(this.node('Mul', [a, b]), this.sides.get(a) ?? this.sides.get(b));
  }

  /**
   * Records `tokensToMap` (`[-1, C, H, W]` of a `[0, 2, 1]` transpose of `[-1, H*W, C]`) and
   * cancels `mapToTokens` (`[-1, C]` of a `[0, 2, 1]` transpose of `[-1, C, H*W]`) of a map whose
   * tokens are known, so that `q8`'s products on tokens cost no layout change. The nodes this
   * leaves unused are dropped by `liveGraph`.
   */
  reshape(x: string, shape: readonly number[]): string {
    const inner = this.reshapeOfTranspose021(x);
    if (inner && shape.length === 2) {
      const map = inner.input;
      const known = this.mapTokens.get(map);
      if (known !== undefined) return known;
      const nhwc = this.mapNhwc.get(map);
      if (nhwc !== undefined) return this.reshape(nhwc, shape);
      // mapToTokens of a conv's output: its NHWC transpose, which ONNX Runtime folds into the
      // conv's NCHWc reorder (a transpose of the [-1, C, H*W] view it cannot fold).
      if (this.channelsLast && this.sides.has(map)) return this.reshape(this.nhwcOf(map), shape);
    }
    if (inner && shape.length === 4 && inner.shape.length === 3 && this.channelsLast) {
      // tokensToMap: written as the NHWC view of the tokens and one NHWC -> NCHW transpose, which
      // ONNX Runtime CPU folds into the NCHWc reorder of a conv that reads the map.
      const [, channels, h, w] = shape;
      const map = this.nchwOf(this.reshape(inner.input, [-1, h, w, channels]));
      this.mapTokens.set(map, inner.input);
      this.sides.set(map, [h, w]);
      return map;
    }
    const out = this.node('Reshape', [x, this.int64Constant(shape)]);
    this.provenance.set(out, { op: 'reshape', input: x, shape });
    if (shape.length === 4) this.sides.set(out, [shape[2], shape[3]]);
    if (inner && shape.length === 4 && inner.shape.length === 3) this.mapTokens.set(out, inner.input);
    return out;
  }

  /** `x = transpose(reshape(v, s), [0, 2, 1])`: that reshape, or undefined. */
  private reshapeOfTranspose021(x: string): { input: string; shape: readonly number[] } | undefined {
    const t = this.provenance.get(x);
    if (t?.op !== 'transpose' || t.perm.join() !== '0,2,1') return undefined;
    const r = this.provenance.get(t.input);
    return r?.op === 'reshape' ? r : undefined;
  }

  transpose(x: string, perm: readonly number[]): string {
    const out = this.node('Transpose', [x], [ints('perm', perm)]);
    this.provenance.set(out, { op: 'transpose', input: x, perm });
    return out;
  }

  split(x: string, axis: number, sizes: readonly number[]): string[] {
    return this.nodeN('Split', [x, this.int64Constant(sizes)], sizes.length, [int('axis', axis)]);
  }

  layerNorm(x: string, scale: string, bias: string, epsilon: number): string {
    return this.node('LayerNormalization', [x, scale, bias], [int('axis', -1), float('epsilon', epsilon)]);
  }

  /**
   * Exact GELU as `0.5 x (1 + erf(x / sqrt 2))`. `Gelu` only became a standard op in opset 20;
   * this pattern is what ONNX Runtime's optimizer recognises and fuses into its Gelu kernel.
   */
  gelu(x: string): string {
    const xh = this.channelsLast ? this.mapNhwc.get(x) : undefined;
    if (xh !== undefined) return this.withSide(this.nchwOf(this.geluNode(xh)), this.sides.get(x));
    return this.withSide(this.geluNode(x), this.sides.get(x));
  }

  private geluNode(x: string): string {
    const erf = this.node('Erf', [this.node('Div', [x, this.floatConstant(Math.SQRT2)])]);
    const onePlus = this.node('Add', [erf, this.floatConstant(1)]);
    return this.node('Mul', [this.node('Mul', [x, onePlus]), this.floatConstant(0.5)]);
  }

  softmax(x: string): string {
    return this.node('Softmax', [x], [int('axis', -1)]);
  }

  sigmoid(x: string): string {
    return this.node('Sigmoid', [x]);
  }

  /**
   * `Resize` with `half_pixel` coordinates is `F.interpolate(bilinear, align_corners=False)`.
   * Scales rather than sizes keep the batch axis dynamic; every resize in SparseViT has an
   * integral ratio, so the output size is exact.
   */
  resizeBilinear(x: string, from: readonly [number, number], to: readonly [number, number]): string {
    const scales = this.floatTensorConstant([1, 1, to[0] / from[0], to[1] / from[1]]);
    return this.node('Resize', [x, '', scales], [
      str('mode', 'linear'),
      str('coordinate_transformation_mode', 'half_pixel'),
    ]);
  }

  /**
   * Appends a node `opType(inputs)` and returns its output's name. Public for graphs built on top
   * of the lowering (the training step adds its gradient nodes with it).
   */
  node(opType: string, inputs: string[], attribute: Attribute[] = []): string {
    return this.nodeN(opType, inputs, 1, attribute)[0];
  }

  /** `node` with `outputCount` outputs. */
  nodeN(opType: string, inputs: string[], outputCount: number, attribute: Attribute[] = []): string[] {
    // A q8 weight used other than by a product it can quantize is stored float.
    inputs = inputs.map((v) => (this.deferred.delete(v) ? this.floatWeight(v) : v));
    const id = this.counter++;
    const output = Array.from({ length: outputCount }, (_, i) => `${opType.toLowerCase()}_${id}${outputCount > 1 ? `_${i}` : ''}`);
    this.nodes.push({ opType, name: `${opType}_${id}`, input: inputs, output, attribute });
    return output;
  }

  /**
   * The nodes and initializers that reach `outputs` (in their order), so the values the layout
   * rewrites left unused are not in the model.
   */
  liveGraph(outputs: readonly string[]): { nodes: OnnxProto.INodeProto[]; initializers: OnnxProto.ITensorProto[] } {
    const live = new Set(outputs);
    const keep = new Array<boolean>(this.nodes.length).fill(false);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (!node.output!.some((o) => live.has(o))) continue;
      keep[i] = true;
      for (const input of node.input!) live.add(input);
    }
    return { nodes: this.nodes.filter((_, i) => keep[i]), initializers: this.initializers.filter((t) => live.has(t.name!)) };
  }

  private addInitializer(name: string, dims: readonly number[], dataType: number, bytes: Uint8Array): void {
    if (!this.external) {
      this.initializers.push({ name, dims: [...dims], dataType, rawData: bytes });
      return;
    }
    const alignment = this.external.alignment ?? 65536;
    const offset = Math.ceil(this.externalSize / alignment) * alignment;
    if (offset > this.externalSize) this.externalChunks.push(new Uint8Array(offset - this.externalSize));
    this.externalChunks.push(bytes);
    this.externalSize = offset + bytes.byteLength;
    this.initializers.push({
      name,
      dims: [...dims],
      dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: this.external.location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(bytes.byteLength) },
      ],
    });
  }

  /** An int64 tensor constant (deduplicated by value). */
  int64Constant(values: readonly number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_i64_${this.constants.size}`;
      const bytes = new Uint8Array(values.length * 8);
      const view = new DataView(bytes.buffer);
      values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
      this.initializers.push({ name, dims: [values.length], dataType: INT64, rawData: bytes });
      this.constants.set(key, name);
    }
    return name;
  }

  private uint8Constant(value: number): string {
    const key = `u8:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_u8_${this.constants.size}`;
      this.initializers.push({ name, dims: [], dataType: UINT8, rawData: Uint8Array.of(value) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 tensor constant of `dims` (deduplicated by value). */
  floatTensorConstant(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_f32_${this.constants.size}`;
      this.initializers.push({ name, dims, dataType: FLOAT, rawData: littleEndianBytes(Float32Array.from(values)) });
      this.constants.set(key, name);
    }
    return name;
  }

  /** A float32 scalar constant. */
  floatConstant(value: number): string {
    return this.floatTensorConstant([value], []);
  }
}

/** ONNX node attributes, for `node` and `nodeN`. */
export function int(name: string, i: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
export function ints(name: string, values: readonly number[]): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}
export function float(name: string, f: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
export function str(name: string, s: string): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}
