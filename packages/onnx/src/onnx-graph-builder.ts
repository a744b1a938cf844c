import { float32ToF16Bytes, SparseViTError, type Conv2dOptions, type GraphWeights, type TensorOps } from '@sparsevit/core';
import { onnx, type OnnxProto } from './onnx-proto';

type Attribute = OnnxProto.IAttributeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
const INT64 = onnx.TensorProto.DataType.INT64;

/** How weights are stored in the model file; compute is float32 either way. */
export type OnnxWeightStorage = 'float32' | 'float16';

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

  constructor(
    private readonly weights: GraphWeights,
    private readonly weightStorage: OnnxWeightStorage = 'float32',
    private readonly external?: ExternalDataLayout,
  ) {}

  /**
   * With `float16` storage, each weight is stored as FLOAT16 and read through a `Cast` to
   * float32: the file is half the size and the arithmetic stays float32. ONNX Runtime folds these
   * casts when it loads the model, so they cost nothing per image.
   */
  weight(name: string): string {
    let value = this.weightValues.get(name);
    if (value === undefined) {
      const w = this.weights.get(name);
      if (!w) throw new SparseViTError('WEIGHTS_MISMATCH', `the graph reads weight "${name}", which the prepared weights do not hold`);
      const half = this.weightStorage === 'float16';
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
    return this.node('Conv', bias ? [x, weight, bias] : [x, weight], [
      ints('kernel_shape', [shape[2], shape[3]]),
      ints('strides', [o.stride, o.stride]),
      ints('pads', [o.padding, o.padding, o.padding, o.padding]),
      int('group', o.groups),
    ]);
  }

  matmul(a: string, b: string): string {
    return this.node('MatMul', [a, b]);
  }

  add(a: string, b: string): string {
    return this.node('Add', [a, b]);
  }

  mul(a: string, b: string): string {
    return this.node('Mul', [a, b]);
  }

  reshape(x: string, shape: readonly number[]): string {
    return this.node('Reshape', [x, this.int64Constant(shape)]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.node('Transpose', [x], [ints('perm', perm)]);
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

  private node(opType: string, inputs: string[], attribute: Attribute[] = []): string {
    return this.nodeN(opType, inputs, 1, attribute)[0];
  }

  private nodeN(opType: string, inputs: string[], outputCount: number, attribute: Attribute[] = []): string[] {
    const id = this.counter++;
    const output = Array.from({ length: outputCount }, (_, i) => `${opType.toLowerCase()}_${id}${outputCount > 1 ? `_${i}` : ''}`);
    this.nodes.push({ opType, name: `${opType}_${id}`, input: inputs, output, attribute });
    return output;
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

  private int64Constant(values: readonly number[]): string {
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

  private floatTensorConstant(values: readonly number[], dims: number[] = [values.length]): string {
    const key = `f32:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = `const_f32_${this.constants.size}`;
      this.initializers.push({ name, dims, dataType: FLOAT, rawData: littleEndianBytes(Float32Array.from(values)) });
      this.constants.set(key, name);
    }
    return name;
  }

  private floatConstant(value: number): string {
    return this.floatTensorConstant([value], []);
  }
}

function int(name: string, i: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}
function ints(name: string, values: readonly number[]): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: [...values] };
}
function float(name: string, f: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f };
}
function str(name: string, s: string): Attribute {
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
