/**
 * safetensors reader and writer (https://github.com/huggingface/safetensors, format described in
 * its README and validated in `safetensors/src/tensor.rs`):
 *
 *   [u64 LE N][N bytes of UTF-8 JSON header][data]
 *
 * The header maps each tensor name to `{dtype, shape, data_offsets: [begin, end]}`, offsets
 * relative to the start of the data, plus an optional `__metadata__` string->string map. The
 * validation mirrors the reference's: header at most 100 MB, header starting with `{`, and the
 * tensors' byte ranges tiling the data exactly (no gap, no overlap, nothing left over).
 */
import { SparseViTError } from '../errors';
import type { ByteSource } from './byte-source';
import { describeValue, quoteText } from '../message-text';
import { readExact, toByteSource } from './source-io';
import { DTYPE_BYTES, numel, type DType, type TensorCheck, type TensorStore, type WeightTensor } from './tensor';

/** The reference's MAX_HEADER_SIZE (safetensors/src/tensor.rs). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/** Most dimensions a tensor may have (PyTorch's own limit is 64). */
const MAX_DIMENSIONS = 64;

const KNOWN_DTYPES = new Set<string>(Object.keys(DTYPE_BYTES));

function corrupt(message: string): SparseViTError {
  return new SparseViTError('CORRUPT_WEIGHTS', `safetensors: ${message}`);
}

interface HeaderEntry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly begin: number;
  readonly end: number;
}

export interface ReadSafetensorsOptions {
  /** Runs on every tensor's name, dtype and shape and the metadata once the header is validated, before any tensor is read (see `TensorCheck`). */
  readonly checkTensors?: TensorCheck;
}

/**
 * Reads a safetensors file; the header is validated completely before any tensor bytes are read.
 * Names and values from the header are quoted into errors cut to a few dozen characters.
 */
export async function readSafetensors(source: ByteSource | Uint8Array, options: ReadSafetensorsOptions = {}): Promise<TensorStore> {
  const src = toByteSource(source);
  if (src.size < 8) throw corrupt(`file of ${src.size} bytes is shorter than the 8-byte header length`);
  const lengthBytes = await readExact(src, 0, 8, 'safetensors header length');
  const view = new DataView(lengthBytes.buffer, lengthBytes.byteOffset, 8);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    throw corrupt(`header length ${headerLength} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupt)`);
  }
  const n = Number(headerLength);
  if (n > src.size - 8) {
    throw corrupt(`header length ${n} runs past the end of the ${src.size}-byte file (truncated?)`);
  }
  if (n < 2) throw corrupt(`header length ${n} is too short for a JSON object`);
  const headerBytes = await readExact(src, 8, n, 'safetensors header');
  const entries = parseHeader(headerBytes);
  const dataStart = 8 + n;
  const dataSize = src.size - dataStart;
  const metadata = entries.metadata;
  validateLayout(entries.tensors, dataSize);
  options.checkTensors?.(new Map(entries.tensors.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }])), metadata);

  const tensors = new Map<string, WeightTensor>();
  for (const e of entries.tensors) {
    const data = await readExact(src, dataStart + e.begin, e.end - e.begin, `tensor ${quoteText(e.name)}`);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function parseHeader(bytes: Uint8Array): { tensors: HeaderEntry[]; metadata: Record<string, string> } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw corrupt('header is not valid UTF-8');
  }
  if (text[0] !== '{') throw corrupt('header does not start with "{" (not a safetensors file)');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new SparseViTError('CORRUPT_WEIGHTS', `safetensors: header is not valid JSON: ${quoteText(String((cause as Error).message), 200)}`, {
      cause,
    });
  }
  if (!isPlainRecord(json)) throw corrupt('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors: HeaderEntry[] = [];
  for (const name of Object.keys(json)) {
    const value = json[name];
    if (name === METADATA_KEY) {
      if (value === null) continue;
      if (!isPlainRecord(value)) throw corrupt('__metadata__ is not an object of strings');
      for (const k of Object.keys(value)) {
        const v = value[k];
        if (typeof v !== 'string') throw corrupt(`__metadata__ value for ${quoteText(k)} is not a string`);
        // defineProperty so that a key named "__proto__" is stored as data, not as a prototype.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    tensors.push(parseEntry(name, value));
  }
  return { tensors, metadata };
}

function parseEntry(name: string, value: unknown): HeaderEntry {
  const shown = quoteText(name);
  if (!isPlainRecord(value)) throw corrupt(`entry for tensor ${shown} is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw corrupt(`tensor ${shown} has no dtype string`);
  if (!KNOWN_DTYPES.has(dtype)) {
    throw new SparseViTError(
      'UNSUPPORTED_FORMAT',
      `safetensors: tensor ${shown} has dtype ${quoteText(dtype, 40)}; supported: ${[...KNOWN_DTYPES].join(', ')}`,
    );
  }
  if (!Array.isArray(shape)) throw corrupt(`tensor ${shown} has no shape array`);
  if (shape.length > MAX_DIMENSIONS) throw corrupt(`tensor ${shown} has ${shape.length} dimensions, more than ${MAX_DIMENSIONS}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || (d as number) < 0) {
      throw corrupt(`tensor ${shown} has an invalid dimension ${describeValue(d)} in shape ${describeValue(shape)}`);
    }
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !Number.isSafeInteger(offsets[0]) ||
    !Number.isSafeInteger(offsets[1]) ||
    offsets[0] < 0 ||
    offsets[1] < offsets[0]
  ) {
    throw corrupt(`tensor ${shown} has invalid data_offsets ${describeValue(offsets)}`);
  }
  const dims = shape as number[];
  const expected = numel(dims) * DTYPE_BYTES[dtype as DType];
  const [begin, end] = offsets as [number, number];
  if (!Number.isSafeInteger(expected) || end - begin !== expected) {
    throw corrupt(
      `tensor ${shown} of dtype ${dtype} and shape [${dims.join(', ')}] needs ${expected} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: dtype as DType, shape: [...dims], begin, end };
}

/**
 * Sorts entries into file order and checks that their ranges tile `[0, dataSize)` exactly, as the
 * reference's `validate` does; a range past the end, an overlap and a gap are each named.
 */
function validateLayout(entries: HeaderEntry[], dataSize: number): void {
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.end > dataSize) {
      throw corrupt(`tensor ${quoteText(e.name)} data_offsets [${e.begin}, ${e.end}] run past the end of the ${dataSize} data bytes (truncated?)`);
    }
    if (e.begin < cursor) {
      throw corrupt(`tensor ${quoteText(e.name)} [${e.begin}, ${e.end}] overlaps tensor ${quoteText(previous?.name ?? '')} [${previous?.begin}, ${previous?.end}]`);
    }
    if (e.begin > cursor) {
      throw corrupt(`${e.begin - cursor} unaccounted bytes before tensor ${quoteText(e.name)} at data offset ${cursor}`);
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataSize) {
    throw corrupt(`${dataSize - cursor} bytes after the last tensor are not described by the header`);
  }
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Serializes tensors in the store's order. Like the reference writer, `__metadata__` comes first
 * (omitted when empty) and the header is padded with spaces to a multiple of 8 bytes so the data
 * starts 8-byte aligned.
 */
export function writeSafetensors(
  store: TensorStore | { tensors: Map<string, WeightTensor> | Record<string, WeightTensor>; metadata?: Record<string, string> },
): Uint8Array {
  const entries: [string, WeightTensor][] =
    store.tensors instanceof Map ? [...store.tensors] : Object.entries(store.tensors);
  // The header JSON is assembled by hand: a JS object would move integer-like names ("0") to the
  // front, and the file should list tensors in the order their bytes follow.
  const parts: string[] = [];
  const metadata = store.metadata ?? {};
  const metaKeys = Object.keys(metadata);
  if (metaKeys.length > 0) {
    const fields = metaKeys.map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') {
        throw new SparseViTError('INVALID_ARGUMENT', `safetensors metadata value for "${k}" must be a string`);
      }
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${fields.join(',')}}`);
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === METADATA_KEY) throw new SparseViTError('INVALID_ARGUMENT', `a tensor cannot be named ${METADATA_KEY}`);
    if (!KNOWN_DTYPES.has(t.dtype)) throw new SparseViTError('UNSUPPORTED_FORMAT', `tensor "${name}" has unknown dtype ${t.dtype}`);
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new SparseViTError('INVALID_ARGUMENT', `tensor "${name}" has an invalid dimension ${d}`);
      }
    }
    const bytes = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new SparseViTError(
        'INVALID_ARGUMENT',
        `tensor "${name}" of dtype ${t.dtype} and shape [${t.shape.join(', ')}] needs ${bytes} bytes, has ${t.data.byteLength}`,
      );
    }
    const info = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + padded);
  let at = 8 + padded;
  for (const [, t] of entries) {
    out.set(t.data, at);
    at += t.data.byteLength;
  }
  return out;
}
