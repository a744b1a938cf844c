/**
 * Dtype conversions between stored tensors and the float32 arrays backends compute with.
 */
import { SparseViTError } from '../errors';
import {
  bf16BytesToFloat32,
  f16BytesToFloat32,
  float32ToF16Bytes,
  hostIsLittleEndian,
} from './half';
import { DTYPE_BYTES, numel, type DType, type TensorStore, type WeightTensor } from './tensor';

const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F32', 'F16', 'BF16', 'F64']);

export function isFloatDType(dtype: DType): boolean {
  return FLOAT_DTYPES.has(dtype);
}

/**
 * The tensor's values as a new float32 array. Integers wider than 24 bits lose precision, as
 * they do in `tensor.float()`.
 */
export function toFloat32(t: WeightTensor): Float32Array {
  const n = numel(t.shape);
  const size = DTYPE_BYTES[t.dtype];
  if (size === undefined) throw new SparseViTError('UNSUPPORTED_FORMAT', `unknown dtype ${String(t.dtype)}`);
  if (t.data.byteLength !== n * size) {
    throw new SparseViTError(
      'CORRUPT_WEIGHTS',
      `tensor of shape [${t.shape.join(', ')}] and dtype ${t.dtype} needs ${n * size} bytes, has ${t.data.byteLength}`,
    );
  }
  const d = t.data;
  switch (t.dtype) {
    case 'F32': {
      if (hostIsLittleEndian) {
        // Copy into a fresh, 4-aligned buffer; the source bytes may sit at any offset. Not
        // `d.slice()`: on a Node Buffer that is a view of the whole underlying allocation.
        return new Float32Array(Uint8Array.prototype.slice.call(d).buffer);
      }
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F16':
      return f16BytesToFloat32(d);
    case 'BF16':
      return bf16BytesToFloat32(d);
    case 'BOOL':
    case 'U8':
      return Float32Array.from(d, (v) => (t.dtype === 'BOOL' ? (v !== 0 ? 1 : 0) : v));
    default: {
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
      const out = new Float32Array(n);
      const get = elementReader(view, t.dtype);
      for (let i = 0; i < n; i++) out[i] = get(i);
      return out;
    }
  }
}

function elementReader(view: DataView, dtype: DType): (i: number) => number {
  switch (dtype) {
    case 'F64':
      return (i) => view.getFloat64(i * 8, true);
    case 'I64':
      return (i) => Number(view.getBigInt64(i * 8, true));
    case 'I32':
      return (i) => view.getInt32(i * 4, true);
    case 'I16':
      return (i) => view.getInt16(i * 2, true);
    case 'I8':
      return (i) => view.getInt8(i);
    default:
      throw new SparseViTError('UNSUPPORTED_FORMAT', `no float32 conversion for dtype ${dtype}`);
  }
}

/** A float32 tensor from values (copied into little-endian bytes). */
export function float32Tensor(shape: readonly number[], values: Float32Array): WeightTensor {
  if (values.length !== numel(shape)) {
    throw new SparseViTError('INVALID_ARGUMENT', `${values.length} values do not fill shape [${shape.join(', ')}]`);
  }
  let data: Uint8Array;
  if (hostIsLittleEndian) {
    data = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  } else {
    data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  }
  return { dtype: 'F32', shape: [...shape], data };
}

/**
 * A new store with every floating tensor (F32, F16, BF16, F64) converted to `dtype`; integer and
 * bool tensors (BatchNorm `num_batches_tracked` is I64) are kept as they are, since a model
 * loader expects them in their own dtype. Tensors already in `dtype` are shared, not copied.
 */
export function convertStore(store: TensorStore, dtype: 'F16' | 'F32'): TensorStore {
  if (dtype !== 'F16' && dtype !== 'F32') {
    throw new SparseViTError('INVALID_ARGUMENT', `convertStore converts to F16 or F32, not ${String(dtype)}`);
  }
  const tensors = new Map<string, WeightTensor>();
  for (const [name, t] of store.tensors) {
    if (!isFloatDType(t.dtype) || t.dtype === dtype) {
      tensors.set(name, t);
      continue;
    }
    const values = toFloat32(t);
    if (dtype === 'F32') {
      tensors.set(name, float32Tensor(t.shape, values));
    } else {
      // F64 -> F16 goes through F32. Double rounding can differ from a direct F64 -> F16 rounding
      // in the last bit for values within 2^-29 relative of a tie; weights never sit there.
      tensors.set(name, { dtype: 'F16', shape: [...t.shape], data: float32ToF16Bytes(values) });
    }
  }
  return { tensors, metadata: { ...store.metadata } };
}
