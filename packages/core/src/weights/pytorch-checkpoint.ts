/**
 * Reader for `torch.save` checkpoints in the zip format (the default since PyTorch 1.6):
 *
 *   <archive>/data.pkl     the pickled object; tensors reference storages by persistent id
 *   <archive>/data/<key>   raw little-endian bytes of each storage
 *   <archive>/byteorder    "little" or "big" (absent in older files, which are little-endian)
 *   <archive>/version      serialization format version
 *
 * (`torch/serialization.py`: `_save` writes `persistent_id(storage) = ('storage', storage_type,
 * key, location, numel)`, `_load` resolves it; tensors pickle as
 * `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
 * backward_hooks[, metadata])`.)
 *
 * The pickle runs in the safe interpreter of `pickle.ts`, which executes nothing. Storages are
 * only recorded while the pickle runs; once the state dict is located, only the storages its
 * tensors reference are read, so a training checkpoint's optimizer state (2x the model) is never
 * read from disk.
 *
 * What a tensor costs is bounded by the file: a view is checked against its storage's declared
 * size and the storage entry's real size before anything is read, a strided view (a transpose,
 * or a stride-0 expansion) may not copy out more elements than its storage holds
 * ({@link MAX_VIEW_EXPANSION}), and all strided copies together no more than
 * {@link MAX_STRIDED_COPY_FACTOR} times the file. `checkTensors` sees every shape before that.
 */
import { SparseViTError } from '../errors';
import type { ByteSource } from './byte-source';
import { loadPickle, PickleGlobal, PickleObject } from './pickle';
import { readExact, toByteSource } from './source-io';
import { TORCH_STORAGE_DTYPES } from './torch-storages';
import { describeValue, quoteText } from '../message-text';
import { DTYPE_BYTES, numel, type DType, type TensorCheck, type TensorInfo, type TensorStore, type WeightTensor } from './tensor';
import { hasZipMagic, openZip, readZipEntry, type ZipArchive, type ZipEntry } from './zip';

export interface PyTorchCheckpointOptions {
  /**
   * The top-level key that holds the state dict. By default the first of `model`, `state_dict`,
   * `model_state_dict` that maps names to tensors, else the top-level object itself.
   */
  readonly key?: string;
  /** Prefix removed from every key that has it (DataParallel's `module.`); `false` keeps keys. Default `'module.'`. */
  readonly stripPrefix?: string | false;
  /** Check the CRC-32 of storages read whole (default true). */
  readonly verifyCrc?: boolean;
  /** Largest `data.pkl` accepted (default 512 MiB): the pickle is parsed in memory. */
  readonly maxPickleBytes?: number;
  /** Runs on every tensor's name, dtype and shape before any storage is read (see `TensorCheck`). */
  readonly checkTensors?: TensorCheck;
}

/**
 * Elements a strided (non-contiguous) view may copy out, relative to the elements of its storage.
 * A transposed or sliced weight copies at most its storage; a stride-0 view, which repeats one
 * element as many times as its size says (`size [2^31], stride [0]` over a 4-byte storage), is
 * what exceeds it, and no state dict tensor is one.
 */
export const MAX_VIEW_EXPANSION = 1;

/** Bytes all strided views of one checkpoint may copy out together, relative to the file's size. */
export const MAX_STRIDED_COPY_FACTOR = 2;

const DEFAULT_KEYS = ['model', 'state_dict', 'model_state_dict'];

/** The persistent id of a storage, resolved to a reference (nothing read yet). */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    /** Elements, as the persistent id declares. */
    readonly numel: number,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage. */
interface TensorView {
  readonly storage: StorageRef;
  readonly offset: number;
  readonly size: readonly number[];
  readonly stride: readonly number[];
}

function corrupt(message: string): SparseViTError {
  return new SparseViTError('CORRUPT_WEIGHTS', `PyTorch checkpoint: ${message}`);
}

/** torch.save's legacy (pre-1.6) format starts with a protocol-2 pickle of this magic number. */
const LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/** True when the bytes start like a legacy (non-zip) `torch.save` file. */
export function isLegacyTorchFile(firstBytes: Uint8Array): boolean {
  if (firstBytes.length >= 3 && firstBytes[0] === 0x80 && firstBytes[1] === 0x02 && firstBytes[2] === 0x8a) {
    return LEGACY_MAGIC.every((b, i) => i >= firstBytes.length || firstBytes[i] === b);
  }
  return false;
}

/** Reads the model weights of a zip-format `torch.save` checkpoint. */
export async function readPyTorchCheckpoint(
  input: ByteSource | Uint8Array,
  options: PyTorchCheckpointOptions = {},
): Promise<TensorStore> {
  const source = toByteSource(input);
  if (source.size === 0) throw corrupt('the file is empty');
  const head = await readExact(source, 0, Math.min(source.size, 16), 'checkpoint header');
  if (!hasZipMagic(head)) {
    if (isLegacyTorchFile(head)) {
      throw new SparseViTError(
        'UNSUPPORTED_FORMAT',
        'this is a legacy (pre-1.6, non-zip) torch.save file; re-save it with torch>=1.6 (torch.save(torch.load(path), new_path)) or convert it to safetensors',
      );
    }
    if (head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b) {
      throw corrupt('the file starts like a zip archive but has no local file header (truncated or corrupt)');
    }
    throw new SparseViTError('UNSUPPORTED_FORMAT', 'not a PyTorch checkpoint: the file is not a zip archive (torch.save writes zip since torch 1.6)');
  }

  const zip = await openZip(source);
  const prefix = findArchivePrefix(zip);
  await checkByteOrder(zip, prefix);

  const pklEntry = zip.byName.get(`${prefix}/data.pkl`)!;
  const maxPickle = options.maxPickleBytes ?? 512 * 1024 * 1024;
  if (pklEntry.size > maxPickle) {
    throw new SparseViTError(
      'UNSUPPORTED_FORMAT',
      `PyTorch checkpoint: data.pkl is ${pklEntry.size} bytes, over the ${maxPickle}-byte limit (maxPickleBytes)`,
    );
  }
  const pkl = await readZipEntry(zip, pklEntry, { verifyCrc: options.verifyCrc ?? true });

  const storages = new Map<string, StorageRef>();
  const root = loadPickle(pkl, { persistentLoad: (pid) => resolveStorage(pid, storages) });

  const stateDict = findStateDict(root, options.key);
  const views = collectViews(stateDict, options.stripPrefix ?? 'module.');
  const metadata = { format: 'pytorch' };
  if (options.checkTensors) {
    const infos = new Map<string, TensorInfo>();
    for (const [name, view] of views) infos.set(name, { dtype: view.storage.dtype, shape: view.size });
    options.checkTensors(infos, metadata);
  }
  const tensors = await readTensors(zip, prefix, views, options.verifyCrc ?? true, source.size);
  return { tensors, metadata };
}

/** The folder holding data.pkl: `torch.save` names it after the file (`archive` in newer versions). */
function findArchivePrefix(zip: ZipArchive): string {
  for (const e of zip.entries) {
    const slash = e.name.indexOf('/');
    if (slash > 0 && e.name.slice(slash) === '/data.pkl') return e.name.slice(0, slash);
  }
  throw corrupt(
    `no <archive>/data.pkl entry among the ${zip.entries.length} zip entries; this zip is not a torch.save checkpoint`,
  );
}

async function checkByteOrder(zip: ZipArchive, prefix: string): Promise<void> {
  const entry = zip.byName.get(`${prefix}/byteorder`);
  if (!entry) return; // written since torch 1.11; earlier files are little-endian
  if (entry.size > 16) throw corrupt(`byteorder entry of ${entry.size} bytes`);
  const text = new TextDecoder().decode(await readZipEntry(zip, entry)).trim();
  if (text === 'little') return;
  if (text === 'big') {
    throw new SparseViTError('UNSUPPORTED_FORMAT', 'PyTorch checkpoint: big-endian checkpoints are not supported; re-save it on a little-endian machine');
  }
  throw corrupt(`unknown byteorder "${text.slice(0, 16)}"`);
}

/** persistent_load of torch/serialization.py `_load`: `('storage', storage_type, key, location, numel)`. */
function resolveStorage(pid: unknown, storages: Map<string, StorageRef>): StorageRef {
  if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
    throw corrupt('a persistent id is not a (\'storage\', type, key, location, numel) tuple');
  }
  const [, type, rawKey, , count] = pid as unknown[];
  if (!(type instanceof PickleGlobal)) throw corrupt('a storage persistent id has no storage type');
  const dtype = TORCH_STORAGE_DTYPES.get(type.qualifiedName);
  if (!dtype) {
    throw new SparseViTError('UNSUPPORTED_FORMAT', `PyTorch checkpoint: storage type ${type.qualifiedName} is not supported`);
  }
  if (typeof rawKey !== 'string' && typeof rawKey !== 'number') throw corrupt('a storage key is not a string');
  const key = String(rawKey);
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw corrupt(`storage key ${quoteText(key, 40)} is not a plain name`);
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw corrupt(`storage ${key} has an invalid element count ${describeValue(count)}`);
  }
  const existing = storages.get(key);
  if (existing) {
    if (existing.dtype !== dtype) throw corrupt(`storage ${key} is referenced as both ${existing.dtype} and ${dtype}`);
    return existing;
  }
  const ref = new StorageRef(key, dtype, count);
  storages.set(key, ref);
  return ref;
}

/** The tensor view a pickled value rebuilds into, or undefined if it is not a tensor. */
function tensorViewOf(value: unknown): TensorView | undefined {
  let v = value;
  // _rebuild_parameter(data, requires_grad, backward_hooks[, state]) wraps a rebuilt tensor; the
  // loop (not recursion) unwraps it.
  for (let depth = 0; depth < 4 && v instanceof PickleObject; depth++) {
    switch (v.callee) {
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state':
        v = v.args[0];
        continue;
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
        return parseView(v);
      default:
        return undefined;
    }
  }
  return undefined;
}

function parseView(obj: PickleObject): TensorView {
  const [storage, offset, size, stride] = obj.args;
  if (!(storage instanceof StorageRef)) throw corrupt(`${obj.callee} without a storage`);
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw corrupt(`tensor in storage ${storage.key} has an invalid storage offset`);
  }
  const dims = intTuple(size, `size of a tensor in storage ${storage.key}`);
  const strides = intTuple(stride, `stride of a tensor in storage ${storage.key}`);
  if (dims.length !== strides.length) throw corrupt(`tensor in storage ${storage.key} has ${dims.length} sizes but ${strides.length} strides`);
  return { storage, offset, size: dims, stride: strides };
}

function intTuple(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw corrupt(`${what} is not a tuple but ${describeValue(value)}`);
  if (value.length > 64) throw corrupt(`${what} has ${value.length} dimensions`);
  for (const d of value) if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw corrupt(`${what} holds ${describeValue(d)}`);
  return value as number[];
}

/** A map whose keys are all strings and whose values are all tensors, or undefined. */
function asTensorMap(value: unknown): Map<string, TensorView> | undefined {
  if (!(value instanceof Map) || value.size === 0) return undefined;
  const out = new Map<string, TensorView>();
  for (const [k, v] of value) {
    if (typeof k !== 'string') return undefined;
    const view = tensorViewOf(v);
    if (!view) return undefined;
    out.set(k, view);
  }
  return out;
}

function findStateDict(root: unknown, key: string | undefined): Map<string, TensorView> {
  if (key !== undefined) {
    if (!(root instanceof Map) || !root.has(key)) {
      throw new SparseViTError('UNSUPPORTED_FORMAT', `PyTorch checkpoint: no top-level key ${quoteText(key)} (${describeKeys(root)})`);
    }
    const found = asTensorMap(root.get(key));
    if (!found) throw new SparseViTError('UNSUPPORTED_FORMAT', `PyTorch checkpoint: ${quoteText(key)} does not map names to tensors`);
    return found;
  }
  if (root instanceof Map) {
    for (const k of DEFAULT_KEYS) {
      const found = root.has(k) ? asTensorMap(root.get(k)) : undefined;
      if (found) return found;
    }
  }
  const self = asTensorMap(root);
  if (self) return self;
  throw new SparseViTError(
    'UNSUPPORTED_FORMAT',
    `PyTorch checkpoint: no state dict found: expected a name -> tensor dict at the top level or under ${DEFAULT_KEYS.map((k) => `"${k}"`).join(', ')} (${describeKeys(root)})`,
  );
}

/** The first top-level keys, each described within bounds (a key can be any pickled value). */
function describeKeys(root: unknown): string {
  if (!(root instanceof Map)) return 'the top-level object is not a dict';
  const keys: string[] = [];
  for (const k of root.keys()) {
    if (keys.length === 20) break;
    keys.push(describeValue(k, 60));
  }
  return `top-level keys: ${keys.join(', ')}${root.size > 20 ? `, ... ${root.size - 20} more` : ''}`;
}

function collectViews(stateDict: Map<string, TensorView>, stripPrefix: string | false): Map<string, TensorView> {
  if (!stripPrefix) return stateDict;
  const out = new Map<string, TensorView>();
  for (const [k, v] of stateDict) {
    const name = k.startsWith(stripPrefix) ? k.slice(stripPrefix.length) : k;
    if (out.has(name)) throw corrupt(`keys ${quoteText(k)} and ${quoteText(name)} collide once the ${quoteText(stripPrefix)} prefix is removed`);
    out.set(name, v);
  }
  return out;
}

/** Elements of the storage a view touches: [first, end). Empty tensors touch nothing. */
function viewExtent(view: TensorView): [number, number] | undefined {
  let last = view.offset;
  for (let d = 0; d < view.size.length; d++) {
    if (view.size[d] === 0) return undefined;
    last += (view.size[d]! - 1) * view.stride[d]!;
  }
  if (!Number.isSafeInteger(last)) throw corrupt(`a tensor in storage ${view.storage.key} spans an impossible range`);
  return [view.offset, last + 1];
}

async function readTensors(
  zip: ZipArchive,
  prefix: string,
  views: Map<string, TensorView>,
  verifyCrc: boolean,
  fileSize: number,
): Promise<Map<string, WeightTensor>> {
  // Byte range of each referenced storage that the state dict's tensors cover, and what the
  // strided views will copy: all checked before a byte is read.
  const ranges = new Map<StorageRef, { start: number; end: number; entry: ZipEntry }>();
  let stridedBytes = 0;
  for (const [name, view] of views) {
    const extent = viewExtent(view);
    if (!extent) continue;
    const s = view.storage;
    if (extent[1] > s.numel) {
      throw corrupt(`tensor ${quoteText(name)} reaches element ${extent[1]} of storage ${s.key}, which holds ${s.numel}`);
    }
    if (!isContiguous(view)) {
      const n = numel(view.size);
      if (!Number.isSafeInteger(n) || n > s.numel * MAX_VIEW_EXPANSION) {
        throw corrupt(
          `tensor ${quoteText(name)} of size [${view.size.join(', ')}] and stride [${view.stride.join(', ')}] would expand storage ${s.key} of ${s.numel} elements to ${n}; expanded (stride-0) views are not model weights`,
        );
      }
      stridedBytes += n * DTYPE_BYTES[s.dtype];
      if (stridedBytes > MAX_STRIDED_COPY_FACTOR * fileSize) {
        throw corrupt(`the strided tensors would copy out more than ${MAX_STRIDED_COPY_FACTOR}x the ${fileSize}-byte file (at tensor ${quoteText(name)})`);
      }
    }
    const item = DTYPE_BYTES[s.dtype];
    const start = extent[0] * item;
    const end = extent[1] * item;
    const r = ranges.get(s);
    if (r) {
      r.start = Math.min(r.start, start);
      r.end = Math.max(r.end, end);
      continue;
    }
    const entry = zip.byName.get(`${prefix}/data/${s.key}`);
    // The key is a checked plain name; the archive folder is the file's and may be long.
    const entryName = `${prefix.length > 64 ? quoteText(prefix, 64) : prefix}/data/${s.key}`;
    if (!entry) throw corrupt(`storage entry ${entryName} for tensor ${quoteText(name)} is missing`);
    ranges.set(s, { start, end, entry });
  }

  const bytesOf = new Map<StorageRef, { start: number; bytes: Uint8Array }>();
  for (const [s, r] of ranges) {
    if (r.entry.size < r.end) {
      throw corrupt(`storage entry ${quoteText(r.entry.name)} holds ${r.entry.size} bytes, the tensors need ${r.end}`);
    }
    const whole = r.start === 0 && r.end === r.entry.size;
    const bytes = await readZipEntry(zip, r.entry, whole ? { verifyCrc } : { offset: r.start, length: r.end - r.start });
    bytesOf.set(s, { start: r.start, bytes });
  }

  const tensors = new Map<string, WeightTensor>();
  for (const [name, view] of views) {
    const dtype = view.storage.dtype;
    const shape = [...view.size];
    const item = DTYPE_BYTES[dtype];
    const n = numel(shape);
    if (n === 0) {
      tensors.set(name, { dtype, shape, data: new Uint8Array(0) });
      continue;
    }
    const { start, bytes } = bytesOf.get(view.storage)!;
    const first = view.offset * item - start;
    if (isContiguous(view)) {
      tensors.set(name, { dtype, shape, data: bytes.subarray(first, first + n * item) });
    } else {
      tensors.set(name, { dtype, shape, data: gather(bytes, first, view, item, n) });
    }
  }
  return tensors;
}

/** Row-major contiguous, ignoring the strides of size-1 dimensions (PyTorch does the same). */
function isContiguous(view: TensorView): boolean {
  let expected = 1;
  for (let d = view.size.length - 1; d >= 0; d--) {
    const size = view.size[d]!;
    if (size !== 1 && view.stride[d] !== expected) return false;
    expected *= size;
  }
  return true;
}

/** Copies a strided view into row-major order, walking the index like an odometer (no recursion). */
function gather(bytes: Uint8Array, firstByte: number, view: TensorView, item: number, n: number): Uint8Array {
  const out = new Uint8Array(n * item);
  const ndim = view.size.length;
  const index = new Array<number>(ndim).fill(0);
  let src = firstByte;
  for (let i = 0; i < n; i++) {
    out.set(bytes.subarray(src, src + item), i * item);
    for (let d = ndim - 1; d >= 0; d--) {
      index[d]!++;
      src += view.stride[d]! * item;
      if (index[d]! < view.size[d]!) break;
      src -= view.stride[d]! * item * view.size[d]!;
      index[d] = 0;
    }
  }
  return out;
}
