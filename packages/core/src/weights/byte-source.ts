/**
 * Random access to bytes that may not fit in memory twice: a released checkpoint with optimizer
 * state is ~600 MB, and we only need the ~200 MB of model weights in it. Readers take a
 * `ByteSource` and read only the ranges they need. Adapters provide sources for their runtime
 * (a Node file handle, a browser `Blob`); `bytesSource` wraps bytes already in memory.
 */
export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Reads exactly `length` bytes at `offset`. Implementations reject (never return short data)
   * when the range is outside `[0, size)`; readers check ranges before calling.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > bytes.byteLength) {
        throw new RangeError(`read of ${length} bytes at ${offset} is outside a source of ${bytes.byteLength} bytes`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A `Blob` (or browser `File`) as a source; reads only the slices asked for. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > blob.size) {
        throw new RangeError(`read of ${length} bytes at ${offset} is outside a source of ${blob.size} bytes`);
      }
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}
