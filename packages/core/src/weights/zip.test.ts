import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { SparseViTError } from '../errors';
import { crc32, entryDataOffset, openZip, readZipEntry } from './zip';
import { writeZip } from './testing/zip-writer';
import { expectSparseViTError } from './testing/expect-sparsevit-error';

const checkpoint = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth')));
const enc = new TextEncoder();


describe('openZip', () => {
  it('lists the torch.save fixture and finds 64-byte aligned data', async () => {
    const zip = await openZip(checkpoint);
    // values as Python's zipfile reports them
    expect(zip.entries.length).toBe(1678);
    expect(zip.entries[0]!.name).toBe('checkpoint/data.pkl');
    expect(zip.entries[0]!.size).toBe(170214);
    const e = zip.byName.get('checkpoint/data/1001')!;
    expect(e.size).toBe(4);
    expect(e.localHeaderOffset).toBe(195600);
    for (const entry of zip.entries.slice(0, 50)) {
      expect(entry.method).toBe(0);
      expect((await entryDataOffset(zip, entry)) % 64).toBe(0);
    }
    expect(new TextDecoder().decode(await readZipEntry(zip, zip.byName.get('checkpoint/version')!))).toBe('3\n');
  });

  it('reads ZIP64 records and a trailing comment', async () => {
    const entries = [
      { name: 'a/x', data: enc.encode('hello') },
      { name: 'a/y', data: new Uint8Array(1000).fill(7) },
    ];
    for (const zip64 of [false, true]) {
      const zip = await openZip(writeZip(entries, { zip64, comment: 'PK\x05\x06 trick in a comment', align: zip64 ? 0 : 64 }));
      expect(zip.entries.map((e) => e.name)).toEqual(['a/x', 'a/y']);
      expect(new TextDecoder().decode(await readZipEntry(zip, zip.byName.get('a/x')!))).toBe('hello');
      const part = await readZipEntry(zip, zip.byName.get('a/y')!, { offset: 990, length: 10 });
      expect([...part]).toEqual(new Array(10).fill(7));
    }
  });

  it('names a compressed or encrypted entry as UNSUPPORTED_FORMAT', async () => {
    const zip = await openZip(writeZip([{ name: 'archive/data.pkl', data: new Uint8Array(4), method: 8 }]));
    await expectSparseViTError(readZipEntry(zip, zip.entries[0]!), 'UNSUPPORTED_FORMAT', /"archive\/data\.pkl" is compressed \(method 8\)/);
    const bytes = writeZip([{ name: 'secret', data: new Uint8Array(4) }]);
    const cdAt = findSig(bytes, 0x02014b50);
    bytes[cdAt + 8] |= 1;
    const z2 = await openZip(bytes);
    await expectSparseViTError(readZipEntry(z2, z2.entries[0]!), 'UNSUPPORTED_FORMAT', /encrypted/);
  });

  it('rejects truncated and inconsistent archives as CORRUPT_WEIGHTS', async () => {
    await expectSparseViTError(openZip(new Uint8Array(0)), 'CORRUPT_WEIGHTS', /too short/);
    await expectSparseViTError(openZip(checkpoint.subarray(0, 100)), 'CORRUPT_WEIGHTS', /no end-of-central-directory/);
    await expectSparseViTError(openZip(checkpoint.subarray(0, checkpoint.length - 1)), 'CORRUPT_WEIGHTS', /no end-of-central-directory/);

    const good = writeZip([{ name: 'a', data: enc.encode('abc') }]);
    const eocd = findSig(good, 0x06054b50);

    const farDirectory = good.slice();
    new DataView(farDirectory.buffer).setUint32(eocd + 16, 0x7fffffff, true);
    await expectSparseViTError(openZip(farDirectory), 'CORRUPT_WEIGHTS', /central directory .* outside/);

    const tooManyEntries = good.slice();
    new DataView(tooManyEntries.buffer).setUint16(eocd + 10, 2, true);
    await expectSparseViTError(openZip(tooManyEntries), 'CORRUPT_WEIGHTS', /cannot hold the 2 entries/);

    const badLocal = good.slice();
    badLocal[0] = 0;
    const z = await openZip(badLocal);
    await expectSparseViTError(readZipEntry(z, z.entries[0]!), 'CORRUPT_WEIGHTS', /local header of "a" has a bad signature/);

    const longExtra = good.slice();
    new DataView(longExtra.buffer).setUint16(28, 0xffff, true);
    const z3 = await openZip(longExtra);
    await expectSparseViTError(readZipEntry(z3, z3.entries[0]!), 'CORRUPT_WEIGHTS', /data of zip entry "a" .* outside/);

    const badCrc = good.slice();
    badCrc[findBytes(badCrc, enc.encode('abc'))] = 0x41;
    const z4 = await openZip(badCrc);
    await expectSparseViTError(readZipEntry(z4, z4.entries[0]!), 'CORRUPT_WEIGHTS', /CRC-32/);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(enc.encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const data = enc.encode('The quick brown fox jumps over the lazy dog');
    expect(crc32(data)).toBe(0x414fa339);
    // incremental with a seed equals one pass
    expect(crc32(data.subarray(10), crc32(data.subarray(0, 10)))).toBe(0x414fa339);
  });
});

function findSig(bytes: Uint8Array, sig: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = bytes.length - 4; i >= 0; i--) if (view.getUint32(i, true) === sig) return i;
  throw new Error('signature not found');
}

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

describe('overlapping entries', () => {
  /** A zip of `a` and `b` whose directory points `b` at `a`'s local header. */
  function pointedAt(): Uint8Array {
    const bytes = writeZip([{ name: 'a', data: new Uint8Array(4096).fill(1) }, { name: 'b', data: new Uint8Array(4096).fill(2) }], { align: 0 });
    const view = new DataView(bytes.buffer);
    const cdOffset = view.getUint32(bytes.length - 22 + 16, true);
    const second = cdOffset + 46 + 1; // the first record: 46 bytes and the name "a"
    view.setUint32(second + 42, 0, true);
    return bytes;
  }

  it('refuses two directory entries sharing one stored range', async () => {
    const e = await expectSparseViTError(openZip(pointedAt()), 'CORRUPT_WEIGHTS', /entries "[ab]" and "[ab]" overlap/);
    expect(e.message.length).toBeLessThan(400);
  });

  it('refuses data that runs into the next entry, found from the local header', async () => {
    // A local header whose extra field is longer than the directory says pushes the data of "a"
    // into "b": only visible once the local header is read.
    const bytes = writeZip([{ name: 'a', data: new Uint8Array(64).fill(1) }, { name: 'b', data: new Uint8Array(64).fill(2) }], { align: 0 });
    new DataView(bytes.buffer).setUint16(28, 40, true);
    const zip = await openZip(bytes);
    await expectSparseViTError(readZipEntry(zip, zip.byName.get('a')!, { verifyCrc: false }), 'CORRUPT_WEIGHTS', /runs into the next entry/);
  });

  it('caps the bytes read through one archive at twice its size', async () => {
    const zip = await openZip(writeZip([{ name: 'a', data: new Uint8Array(10_000) }]));
    await readZipEntry(zip, zip.entries[0]!);
    await readZipEntry(zip, zip.entries[0]!);
    await expectSparseViTError(readZipEntry(zip, zip.entries[0]!), 'CORRUPT_WEIGHTS', /read more than once/);
  });

  it('quotes a long entry name within bounds', async () => {
    const name = `${'n'.repeat(60_000)}/data.pkl`;
    const zip = await openZip(writeZip([{ name, data: new Uint8Array(4), method: 8 }]));
    const e = await expectSparseViTError(readZipEntry(zip, zip.entries[0]!), 'UNSUPPORTED_FORMAT', /is compressed/);
    expect(e.message.length).toBeLessThan(400);
  });
});
