import { SparseViTError } from '../errors';

/**
 * NumPy `.npy` files (format spec: numpy `lib/format.py`, NEP 1), for exporting probability maps
 * and masks to Python tools and reading them back in tests. Float32 (`'<f4'`) and uint8
 * (`'|u1'`) arrays in C order; encoding matches `numpy.save` byte for byte (numpy >= 1.23).
 */
export type NpyDtype = '<f4' | '|u1';

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ARRAY_ALIGN = 64;
/** numpy `format.GROWTH_AXIS_MAX_DIGITS`: spare room so the first axis can grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Python's `repr` of a tuple of ints: `()`, `(4,)`, `(2, 3)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * The bytes of `numpy.save(f, array)` for `data` with `shape` (C order). Follows
 * `format._write_array_header`: the dict repr with sorted keys, spare spaces for the first axis
 * to grow, then spaces and a newline so the data starts at a multiple of 64 bytes; version 1.0
 * unless the header needs more than 65535 bytes (then 2.0).
 */
export function encodeNpy(data: Float32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  if (!(data instanceof Float32Array || data instanceof Uint8Array)) {
    throw new SparseViTError('INVALID_ARGUMENT', 'encodeNpy takes a Float32Array or a Uint8Array');
  }
  if (!Array.isArray(shape) || shape.some((d) => !(Number.isSafeInteger(d) && d >= 0))) {
    throw new SparseViTError('INVALID_ARGUMENT', `shape must be non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (product(shape) !== data.length) {
    throw new SparseViTError('INVALID_ARGUMENT', `shape ${shapeRepr(shape)} holds ${product(shape)} values, data has ${data.length}`);
  }
  const descr: NpyDtype = data instanceof Float32Array ? '<f4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) header += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  // format._wrap_header_guess_version: 1.0 while the padded header length fits its uint16.
  let major = 1;
  let prefixLen = MAGIC.length + 2 + 2;
  let padlen = ARRAY_ALIGN - ((prefixLen + header.length + 1) % ARRAY_ALIGN);
  if (header.length + 1 + padlen > 0xffff) {
    major = 2;
    prefixLen = MAGIC.length + 2 + 4;
    padlen = ARRAY_ALIGN - ((prefixLen + header.length + 1) % ARRAY_ALIGN);
  }
  header += ' '.repeat(padlen) + '\n';

  const dataBytes = data.length * data.BYTES_PER_ELEMENT;
  const out = new Uint8Array(prefixLen + header.length + dataBytes);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefixLen + i] = header.charCodeAt(i);
  const start = prefixLen + header.length;
  if (data instanceof Uint8Array) {
    out.set(data, start);
  } else if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, dataBytes), start);
  } else {
    for (let i = 0; i < data.length; i++) view.setFloat32(start + 4 * i, data[i], true);
  }
  return out;
}

function malformed(message: string): SparseViTError {
  return new SparseViTError('INVALID_ARGUMENT', `not a valid .npy file: ${message}`);
}

/**
 * Parses a `.npy` file written by `numpy.save` (versions 1.0-3.0) holding a C-order `'<f4'` or
 * `'|u1'` array. Every length is checked against the bytes before use. Malformed bytes throw
 * `INVALID_ARGUMENT`; a valid file with another dtype, byte order or Fortran order throws
 * `UNSUPPORTED_FORMAT`. The data is copied (aligned, independent of `bytes`).
 */
export function decodeNpy(bytes: Uint8Array): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new SparseViTError('INVALID_ARGUMENT', 'decodeNpy takes a Uint8Array');
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('missing the \\x93NUMPY magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw malformed('truncated header length');
    headerStart = 12;
    headerLen = view.getUint32(8, true);
  } else {
    throw new SparseViTError('UNSUPPORTED_FORMAT', `.npy format version ${major}.${bytes[7]} is not supported`);
  }
  if (headerStart + headerLen > bytes.length) throw malformed(`header of ${headerLen} bytes runs past the end`);
  // Versions 1 and 2 are latin-1, 3 is utf-8; the fields we read are ASCII either way.
  let header = '';
  for (let i = 0; i < headerLen; i++) header += String.fromCharCode(bytes[headerStart + i]);

  const descrMatch = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descrMatch || !fortranMatch || !shapeMatch) throw malformed('header lacks descr, fortran_order or shape');
  const descr = descrMatch[1];
  let dtype: NpyDtype;
  if (descr === '<f4') dtype = '<f4';
  else if (descr === '|u1' || descr === '<u1' || descr === '>u1' || descr === 'u1') dtype = '|u1';
  else throw new SparseViTError('UNSUPPORTED_FORMAT', `.npy dtype '${descr}' is not supported (only '<f4' and '|u1')`);
  if (fortranMatch[1] === 'True') throw new SparseViTError('UNSUPPORTED_FORMAT', 'Fortran-order .npy arrays are not supported');
  const dims = shapeMatch[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const shape = dims.map((s) => {
    if (!/^\d+$/.test(s)) throw malformed(`shape entry '${s}' is not an integer`);
    const d = Number(s);
    if (!Number.isSafeInteger(d)) throw malformed(`shape entry ${s} is too large`);
    return d;
  });
  const count = product(shape);
  const itemSize = dtype === '<f4' ? 4 : 1;
  const start = headerStart + headerLen;
  const need = count * itemSize;
  if (!Number.isSafeInteger(need) || start + need > bytes.length) {
    throw malformed(`shape ${shapeRepr(shape)} needs ${need} data bytes, file has ${bytes.length - start}`);
  }
  let data: Float32Array | Uint8Array;
  if (dtype === '|u1') {
    data = bytes.slice(start, start + need);
  } else if (LITTLE_ENDIAN) {
    data = new Float32Array(bytes.slice(start, start + need).buffer);
  } else {
    const f = new Float32Array(count);
    for (let i = 0; i < count; i++) f[i] = view.getFloat32(start + 4 * i, true);
    data = f;
  }
  return { dtype, shape, data };
}
