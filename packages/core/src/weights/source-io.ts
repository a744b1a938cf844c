/**
 * Bounds-checked reads shared by the weight readers. Every reader checks a range against the
 * source before reading it, so a corrupt length field becomes a typed CORRUPT_WEIGHTS error that
 * names the field, instead of the RangeError the source would throw, and a failing adapter
 * (network, disk) becomes IO_ERROR.
 */
import { SparseViTError } from '../errors';
import { bytesSource, type ByteSource } from './byte-source';

export function toByteSource(source: ByteSource | Uint8Array): ByteSource {
  return source instanceof Uint8Array ? bytesSource(source) : source;
}

/** Throws CORRUPT_WEIGHTS unless `[offset, offset + length)` lies inside a source of `size` bytes. */
export function checkRange(size: number, offset: number, length: number, what: string): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  ) {
    throw new SparseViTError(
      'CORRUPT_WEIGHTS',
      `${what} (${length} bytes at offset ${offset}) lies outside the ${size}-byte file; the file is truncated or corrupt`,
    );
  }
}

/** Reads exactly `length` bytes at `offset`, checking the range first. */
export async function readExact(source: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  checkRange(source.size, offset, length, what);
  if (length === 0) return new Uint8Array(0);
  let bytes: Uint8Array;
  try {
    bytes = await source.read(offset, length);
  } catch (cause) {
    if (cause instanceof SparseViTError) throw cause;
    throw new SparseViTError('IO_ERROR', `reading ${what} (${length} bytes at offset ${offset}) failed: ${String(cause)}`, {
      cause,
    });
  }
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== length) {
    throw new SparseViTError(
      'IO_ERROR',
      `reading ${what}: the byte source returned ${bytes instanceof Uint8Array ? bytes.byteLength : 'no'} bytes for a ${length}-byte read`,
    );
  }
  return bytes;
}
