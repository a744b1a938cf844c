/**
 * The typed tensor store every weight format reads into and writes from. Data stays in the dtype
 * of the file (F16 weights are not widened until a backend asks), so a store is as small as the
 * file it came from.
 */
export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Record<DType, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export interface WeightTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Little-endian bytes of the tensor, row-major, exactly `numel(shape) * DTYPE_BYTES[dtype]` long. */
  readonly data: Uint8Array;
}

/** An ordered name -> tensor map (order is the file's order), plus free-form string metadata. */
export interface TensorStore {
  readonly tensors: Map<string, WeightTensor>;
  readonly metadata: Record<string, string>;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** What a reader knows of a tensor from the file's header, before any of its bytes are read. */
export interface TensorInfo {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * A check a reader runs on every tensor's name, dtype and shape (and the file's metadata) once
 * it has parsed the header or the pickle and before it reads or copies any tensor data: throw to
 * refuse the file. Loaders pass `validateStateDict` against the config, so a file whose shapes
 * are not the model's costs nothing to refuse, however large it claims its tensors are.
 */
export type TensorCheck = (tensors: ReadonlyMap<string, TensorInfo>, metadata: Record<string, string>) => void;
