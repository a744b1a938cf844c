import type { DType } from './tensor';

/**
 * The storage classes a `torch.save` checkpoint names, and the dtype of each: one list, read by
 * the checkpoint reader for the dtypes and by the unpickler's allow-list for the names.
 */
export const TORCH_STORAGE_DTYPES: ReadonlyMap<string, DType> = new Map<string, DType>([
  ['torch.FloatStorage', 'F32'],
  ['torch.HalfStorage', 'F16'],
  ['torch.BFloat16Storage', 'BF16'],
  ['torch.DoubleStorage', 'F64'],
  ['torch.LongStorage', 'I64'],
  ['torch.IntStorage', 'I32'],
  ['torch.ShortStorage', 'I16'],
  ['torch.CharStorage', 'I8'],
  ['torch.ByteStorage', 'U8'],
  ['torch.BoolStorage', 'BOOL'],
  // An untyped storage counts bytes; tensors viewing it are re-typed by PyTorch, which this
  // reader does not model, so they come back as U8.
  ['torch.UntypedStorage', 'U8'],
  ['torch.storage.UntypedStorage', 'U8'],
]);
