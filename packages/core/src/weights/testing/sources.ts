/** Test-only byte sources: one that counts what a reader reads. */
import { bytesSource, type ByteSource } from '../byte-source';

export interface CountingSource extends ByteSource {
  readonly bytesRead: number;
  readonly reads: number;
  /** Every [offset, length] read, in order. */
  readonly ranges: readonly [number, number][];
}

export function countingSource(bytes: Uint8Array): CountingSource {
  const inner = bytesSource(bytes);
  const ranges: [number, number][] = [];
  let bytesRead = 0;
  return {
    size: inner.size,
    get bytesRead() {
      return bytesRead;
    },
    get reads() {
      return ranges.length;
    },
    ranges,
    async read(offset, length) {
      ranges.push([offset, length]);
      bytesRead += length;
      // Copy, so a reader that kept a view could not see later mutation of the test buffer.
      return (await inner.read(offset, length)).slice();
    },
  };
}
