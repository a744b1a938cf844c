import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { SparseViTError } from '../errors';
import { bytesSource } from './byte-source';
import { float32ToF16Bytes, float32ToBf16Bytes } from './half';
import { readSafetensors, writeSafetensors } from './safetensors';
import { countingSource } from './testing/sources';
import type { WeightTensor } from './tensor';
import { expectSparseViTError } from './testing/expect-sparsevit-error';

const weights = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));

/** A safetensors file from a literal header object and data bytes (no padding). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}


describe('readSafetensors', () => {
  it('reads the fixture with its metadata', async () => {
    const store = await readSafetensors(weights);
    expect(store.tensors.size).toBe(428);
    expect(store.metadata).toEqual({ preset: 'tiny' });
    const w = store.tensors.get('encoder_net.patch_embed1.proj.weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([8, 3, 4, 4]);
    expect(w.data.byteLength).toBe(8 * 3 * 4 * 4 * 4);
  });

  it('validates the header before reading any tensor', async () => {
    const src = countingSource(weights);
    await readSafetensors(src);
    const [first, second] = src.ranges;
    expect(first).toEqual([0, 8]);
    expect(second![0]).toBe(8);
    const dataStart = 8 + second![1];
    expect(src.ranges.slice(2).every(([o]) => o >= dataStart)).toBe(true);
    // a corrupt header is rejected after exactly the two header reads
    const bad = weights.slice();
    const view = new DataView(bad.buffer);
    const n = Number(view.getBigUint64(0, true));
    bad[8 + n - 3] = 0x78; // break the JSON near its end
    const src2 = countingSource(bad);
    await expect(readSafetensors(src2)).rejects.toBeInstanceOf(SparseViTError);
    expect(src2.reads).toBeLessThanOrEqual(2);
  });

  it('returns tensors in file order, whatever the JSON key order', async () => {
    const data = new Uint8Array(8);
    const file = rawFile(
      { '1': { dtype: 'U8', shape: [4], data_offsets: [4, 8] }, b: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } },
      data,
    );
    expect([...(await readSafetensors(file)).tensors.keys()]).toEqual(['b', '1']);
  });

  it('rejects a header length beyond the file', async () => {
    await expectSparseViTError(readSafetensors(rawFile({}, undefined, 1000n)), 'CORRUPT_WEIGHTS', /runs past the end/);
  });

  it('rejects an absurd header length', async () => {
    await expectSparseViTError(readSafetensors(rawFile({}, undefined, 1n << 62n)), 'CORRUPT_WEIGHTS', /exceeds the 100000000-byte limit/);
  });

  it('rejects files shorter than 8 bytes', async () => {
    await expectSparseViTError(readSafetensors(new Uint8Array(5)), 'CORRUPT_WEIGHTS', /shorter than the 8-byte header/);
  });

  it('rejects invalid JSON', async () => {
    await expectSparseViTError(readSafetensors(rawFile('{"a": {"dtype": "F32",')), 'CORRUPT_WEIGHTS', /not valid JSON/);
    await expectSparseViTError(readSafetensors(rawFile('[1, 2]')), 'CORRUPT_WEIGHTS', /does not start with "\{"/);
  });

  it('rejects an unknown dtype as UNSUPPORTED_FORMAT', async () => {
    await expectSparseViTError(
      readSafetensors(rawFile({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))),
      'UNSUPPORTED_FORMAT',
      /F8_E4M3/,
    );
  });

  it('rejects offsets past the end of the data', async () => {
    await expectSparseViTError(
      readSafetensors(rawFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))),
      'CORRUPT_WEIGHTS',
      /"a" data_offsets \[0, 16\] run past the end of the 8 data bytes/,
    );
  });

  it('rejects offsets that do not match the shape', async () => {
    await expectSparseViTError(
      readSafetensors(rawFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16))),
      'CORRUPT_WEIGHTS',
      /needs 12 bytes but data_offsets \[0, 16\] hold 16/,
    );
  });

  it('rejects overlapping ranges', async () => {
    await expectSparseViTError(
      readSafetensors(
        rawFile(
          {
            a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
            b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          },
          new Uint8Array(12),
        ),
      ),
      'CORRUPT_WEIGHTS',
      /"b" \[4, 12\] overlaps tensor "a"/,
    );
  });

  it('rejects gaps and trailing bytes, as the reference does', async () => {
    await expectSparseViTError(
      readSafetensors(rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, new Uint8Array(4))),
      'CORRUPT_WEIGHTS',
      /unaccounted bytes before tensor "a"/,
    );
    await expectSparseViTError(
      readSafetensors(rawFile({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(4))),
      'CORRUPT_WEIGHTS',
      /2 bytes after the last tensor/,
    );
  });

  it('rejects negative, fractional and non-numeric dimensions and bad offsets', async () => {
    for (const shape of [[-1], [1.5], ['2'], [null]]) {
      await expectSparseViTError(
        readSafetensors(rawFile({ a: { dtype: 'U8', shape, data_offsets: [0, 0] } })),
        'CORRUPT_WEIGHTS',
        /invalid dimension/,
      );
    }
    for (const data_offsets of [[0], [4, 0], [-1, 0], [0, 1.5], 'x']) {
      await expectSparseViTError(
        readSafetensors(rawFile({ a: { dtype: 'U8', shape: [0], data_offsets } })),
        'CORRUPT_WEIGHTS',
        /invalid data_offsets/,
      );
    }
    await expectSparseViTError(readSafetensors(rawFile({ a: 3 })), 'CORRUPT_WEIGHTS', /not an object/);
    await expectSparseViTError(readSafetensors(rawFile({ __metadata__: { a: 1 } })), 'CORRUPT_WEIGHTS', /__metadata__ value/);
  });

  it('wraps source failures as IO_ERROR', async () => {
    const failing = { size: weights.length, read: async () => Promise.reject(new Error('disk gone')) };
    await expectSparseViTError(readSafetensors(failing), 'IO_ERROR', /disk gone/);
  });
});

describe('writeSafetensors', () => {
  it('round-trips F32, F16, BF16, I64, BOOL, scalars, empties and metadata', async () => {
    const values = new Float32Array([1, -2.5, 65504, 2 ** -24, 0.1, -0]);
    const tensors = new Map<string, WeightTensor>([
      ['f32', { dtype: 'F32', shape: [2, 3], data: new Uint8Array(values.buffer.slice(0)) }],
      ['f16', { dtype: 'F16', shape: [6], data: float32ToF16Bytes(values) }],
      ['bf16', { dtype: 'BF16', shape: [3, 2], data: float32ToBf16Bytes(values) }],
      ['i64', { dtype: 'I64', shape: [], data: new Uint8Array(new BigInt64Array([-(2n ** 62n)]).buffer) }],
      ['bool', { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) }],
      ['empty', { dtype: 'F64', shape: [0, 4], data: new Uint8Array(0) }],
      ['0', { dtype: 'I8', shape: [1], data: Uint8Array.from([0xff]) }],
    ]);
    const metadata = { format: 'pt', note: 'héllo "quoted"', __proto__x: 'y' };
    const bytes = writeSafetensors({ tensors, metadata });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    expect((8 + headerLength) % 8).toBe(0);
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
    expect(header.startsWith('{"__metadata__"')).toBe(true);
    expect(/ *$/.exec(header)![0].length).toBeLessThan(8);

    const back = await readSafetensors(bytesSource(bytes));
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    expect(back.metadata).toEqual(metadata);
    for (const [name, t] of tensors) {
      const r = back.tensors.get(name)!;
      expect(r.dtype, name).toBe(t.dtype);
      expect(r.shape, name).toEqual(t.shape);
      expect([...r.data], name).toEqual([...t.data]);
    }
  });

  it('re-writes the fixture to identical tensors', async () => {
    const store = await readSafetensors(weights);
    const again = await readSafetensors(writeSafetensors(store));
    expect(again.metadata).toEqual(store.metadata);
    for (const [name, t] of store.tensors) {
      expect(Buffer.from(again.tensors.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
  });

  it('keeps a "__proto__" metadata key as data', async () => {
    const metadata: Record<string, string> = {};
    Object.defineProperty(metadata, '__proto__', { value: 'x', enumerable: true });
    const back = await readSafetensors(writeSafetensors({ tensors: new Map(), metadata }));
    expect(Object.getOwnPropertyDescriptor(back.metadata, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(back.metadata)).toBe(Object.prototype);
  });

  it('rejects tensors whose bytes do not fit their shape', () => {
    expect(() =>
      writeSafetensors({ tensors: new Map([['a', { dtype: 'F32', shape: [2], data: new Uint8Array(4) }]]) }),
    ).toThrowError(/needs 8 bytes, has 4/);
  });
});
