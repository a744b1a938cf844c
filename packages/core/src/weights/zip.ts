/**
 * A minimal ZIP reader over a `ByteSource`, enough for `torch.save` archives (PKWARE APPNOTE.TXT,
 * sections 4.3.7 local header, 4.3.12 central directory header, 4.3.14-4.3.16 ZIP64 end records,
 * 4.5.3 ZIP64 extra field). PyTorch writes every entry stored (method 0) and pads each local
 * header with an extra field so the data starts 64-byte aligned (caffe2/serialize/
 * inline_container.cc), so the data offset must be taken from the local header, not computed
 * from the central directory's lengths.
 *
 * Only the central directory and the local headers of entries actually opened are read. Every
 * offset and length is checked against the source size before it is used. Entries may not
 * overlap: each one's local header and data must end before the next entry's local header
 * starts (checked from the directory when it is opened, and again against the local header when
 * an entry is read), so no byte of the file belongs to two entries and reading every entry once
 * reads the file at most once. Reads through one archive are also capped in total at
 * {@link MAX_ZIP_READ_FACTOR} times the file's size.
 */
import { SparseViTError } from '../errors';
import { quoteText } from '../message-text';
import type { ByteSource } from './byte-source';
import { checkRange, readExact, toByteSource } from './source-io';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

/** Bytes all reads of entries of one archive may add up to, relative to the archive's size. */
export const MAX_ZIP_READ_FACTOR = 2;

/** Where each entry's bytes must end (the next entry's local header, or the central directory), and the bytes read so far. */
const entryLimits = new WeakMap<ZipEntry, number>();
const bytesRead = new WeakMap<ZipArchive, { bytes: number }>();

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored; anything else is compressed and cannot be read here. */
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipArchive {
  readonly source: ByteSource;
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
  /** Entry by name (the last one wins if a name repeats, as in Python's zipfile). */
  readonly byName: ReadonlyMap<string, ZipEntry>;
}

function corrupt(message: string): SparseViTError {
  return new SparseViTError('CORRUPT_WEIGHTS', `zip: ${message}`);
}

/** True when the bytes start with a local file header signature ("PK\x03\x04"). */
export function hasZipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Reads the central directory. Throws CORRUPT_WEIGHTS when the archive is truncated or malformed. */
export async function openZip(input: ByteSource | Uint8Array): Promise<ZipArchive> {
  const source = toByteSource(input);
  const size = source.size;
  if (size < EOCD_SIZE) throw corrupt(`file of ${size} bytes is too short to be a zip archive (truncated?)`);

  // The EOCD record is at the end, followed by a comment of up to 64 KiB; scan backwards for its
  // signature and accept the first candidate whose comment length reaches exactly to the end.
  const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = size - tailLength;
  const tail = await readExact(source, tailStart, tailLength, 'zip end of central directory');
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLength - EOCD_SIZE; i >= 0; i--) {
    if (tv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + tv.getUint16(i + 20, true) === tailLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw corrupt('no end-of-central-directory record found (file truncated, or not a zip archive)');

  let entryCount = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const diskNumber = tv.getUint16(eocd + 4, true);
  const eocdAbs = tailStart + eocd;

  if (entryCount === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: the locator sits immediately before the EOCD and points at the ZIP64 EOCD record.
    const locatorAt = eocdAbs - ZIP64_LOCATOR_SIZE;
    if (locatorAt < 0) throw corrupt('ZIP64 end-of-central-directory locator is missing');
    const loc = await readExact(source, locatorAt, ZIP64_LOCATOR_SIZE, 'zip64 end of central directory locator');
    const lv = new DataView(loc.buffer, loc.byteOffset, loc.byteLength);
    if (lv.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw corrupt('ZIP64 end-of-central-directory locator is missing');
    const z64At = readU64(lv, 8, 'ZIP64 end-of-central-directory offset');
    checkRange(locatorAt, z64At, ZIP64_EOCD_SIZE, 'zip64 end of central directory record');
    const rec = await readExact(source, z64At, ZIP64_EOCD_SIZE, 'zip64 end of central directory record');
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw corrupt('ZIP64 end-of-central-directory record has a bad signature');
    entryCount = readU64(rv, 32, 'ZIP64 entry count');
    cdSize = readU64(rv, 40, 'ZIP64 central directory size');
    cdOffset = readU64(rv, 48, 'ZIP64 central directory offset');
  } else if (diskNumber !== 0) {
    throw new SparseViTError('UNSUPPORTED_FORMAT', 'zip: multi-disk (spanned) archives are not supported');
  }

  checkRange(eocdAbs, cdOffset, cdSize, 'zip central directory');
  // Each header is at least 46 bytes: a count the directory cannot hold is corruption, and
  // checking it first bounds the work below by the file size.
  if (entryCount * CENTRAL_SIZE > cdSize) {
    throw corrupt(`central directory of ${cdSize} bytes cannot hold the ${entryCount} entries the end record declares`);
  }
  const cd = await readExact(source, cdOffset, cdSize, 'zip central directory');
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder('utf-8');
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < entryCount; i++) {
    if (p + CENTRAL_SIZE > cdSize || cv.getUint32(p, true) !== SIG_CENTRAL) {
      throw corrupt(`central directory header ${i} of ${entryCount} is missing or has a bad signature`);
    }
    const flags = cv.getUint16(p + 8, true);
    const method = cv.getUint16(p + 10, true);
    const crc32 = cv.getUint32(p + 16, true);
    let compressedSize = cv.getUint32(p + 20, true);
    let uncompressedSize = cv.getUint32(p + 24, true);
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    let localHeaderOffset = cv.getUint32(p + 42, true);
    const end = p + CENTRAL_SIZE + nameLength + extraLength + commentLength;
    if (end > cdSize) throw corrupt(`central directory header ${i} runs past the end of the directory`);
    const name = decoder.decode(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLength));

    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      // ZIP64 extended information extra field (APPNOTE 4.5.3): the 8-byte values appear in this
      // order, each only when its 32-bit field is saturated.
      let q = p + CENTRAL_SIZE + nameLength;
      const extraEnd = q + extraLength;
      let found = false;
      while (q + 4 <= extraEnd) {
        const id = cv.getUint16(q, true);
        const len = cv.getUint16(q + 2, true);
        const body = q + 4;
        if (body + len > extraEnd) break;
        if (id === 0x0001) {
          let r = body;
          const take = (what: string): number => {
            if (r + 8 > body + len) throw corrupt(`ZIP64 extra field of ${quoteText(name)} is too short for its ${what}`);
            const v = readU64(cv, r, `ZIP64 ${what} of ${quoteText(name)}`);
            r += 8;
            return v;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = take('size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
          found = true;
          break;
        }
        q = body + len;
      }
      if (!found) throw corrupt(`entry ${quoteText(name)} has saturated 32-bit sizes but no ZIP64 extra field`);
    }
    if (localHeaderOffset + LOCAL_SIZE > cdOffset) {
      throw corrupt(`entry ${quoteText(name)} has a local header offset ${localHeaderOffset} outside the archive data`);
    }
    const entry: ZipEntry = {
      name,
      method,
      flags,
      crc32,
      compressedSize,
      size: uncompressedSize,
      localHeaderOffset,
    };
    entries.push(entry);
    byName.set(name, entry);
    p = end;
  }
  checkNoOverlap(entries, cdOffset);
  const archive: ZipArchive = { source, entries, byName };
  bytesRead.set(archive, { bytes: 0 });
  return archive;
}

/**
 * Refuses entries whose byte ranges overlap, from the directory alone: sorted by local header
 * offset, each entry needs at least its 30-byte local header and its data before the next one
 * starts. Records each entry's limit, which `entryDataOffset` checks once the local header's
 * real length is known.
 */
function checkNoOverlap(entries: readonly ZipEntry[], cdOffset: number): void {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i]!;
    const limit = i + 1 < sorted.length ? sorted[i + 1]!.localHeaderOffset : cdOffset;
    if (e.localHeaderOffset + LOCAL_SIZE + e.compressedSize > limit) {
      const next = sorted[i + 1];
      throw corrupt(
        next
          ? `entries ${quoteText(e.name)} and ${quoteText(next.name)} overlap (local headers at ${e.localHeaderOffset} and ${next.localHeaderOffset}, ${e.compressedSize} bytes of data): one stored range cannot be two entries`
          : `entry ${quoteText(e.name)} (${e.compressedSize} bytes at ${e.localHeaderOffset}) runs into the central directory`,
      );
    }
    entryLimits.set(e, limit);
  }
}

function readU64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} ${v} is too large`);
  return Number(v);
}

/**
 * The absolute offset of a stored entry's data, from its local header. Throws UNSUPPORTED_FORMAT
 * for a compressed or encrypted entry and CORRUPT_WEIGHTS when the header or data lies outside
 * the archive.
 */
export async function entryDataOffset(zip: ZipArchive, entry: ZipEntry): Promise<number> {
  if (entry.method !== 0) {
    throw new SparseViTError(
      'UNSUPPORTED_FORMAT',
      `zip entry ${quoteText(entry.name)} is compressed (method ${entry.method}); only stored entries are supported, as torch.save writes them`,
    );
  }
  if (entry.flags & 0x1) throw new SparseViTError('UNSUPPORTED_FORMAT', `zip entry ${quoteText(entry.name)} is encrypted`);
  if (entry.compressedSize !== entry.size) {
    throw corrupt(`stored entry ${quoteText(entry.name)} has compressed size ${entry.compressedSize} but size ${entry.size}`);
  }
  chargeRead(zip, LOCAL_SIZE);
  const header = await readExact(zip.source, entry.localHeaderOffset, LOCAL_SIZE, `local header of ${quoteText(entry.name)}`);
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (hv.getUint32(0, true) !== SIG_LOCAL) throw corrupt(`local header of ${quoteText(entry.name)} has a bad signature`);
  const dataOffset = entry.localHeaderOffset + LOCAL_SIZE + hv.getUint16(26, true) + hv.getUint16(28, true);
  checkRange(zip.source.size, dataOffset, entry.size, `data of zip entry ${quoteText(entry.name)}`);
  const limit = entryLimits.get(entry);
  if (limit !== undefined && dataOffset + entry.size > limit) {
    throw corrupt(`the data of entry ${quoteText(entry.name)} (${entry.size} bytes at ${dataOffset}) runs into the next entry at ${limit}`);
  }
  return dataOffset;
}

export interface ReadEntryOptions {
  /** Byte range within the entry; defaults to the whole entry. */
  readonly offset?: number;
  readonly length?: number;
  /** Check the CRC-32 when the whole entry is read (default true). */
  readonly verifyCrc?: boolean;
}

/** Reads a stored entry's bytes (or a range of them). */
export async function readZipEntry(zip: ZipArchive, entry: ZipEntry, options: ReadEntryOptions = {}): Promise<Uint8Array> {
  const start = options.offset ?? 0;
  const length = options.length ?? entry.size - start;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > entry.size) {
    throw corrupt(`range of ${length} bytes at ${start} is outside entry ${quoteText(entry.name)} of ${entry.size} bytes`);
  }
  const dataOffset = await entryDataOffset(zip, entry);
  chargeRead(zip, length);
  const bytes = await readExact(zip.source, dataOffset + start, length, `zip entry ${quoteText(entry.name)}`);
  if ((options.verifyCrc ?? true) && start === 0 && length === entry.size) {
    const actual = crc32(bytes);
    if (actual !== entry.crc32) {
      throw corrupt(
        `CRC-32 of entry ${quoteText(entry.name)} is ${hex(actual)}, the directory records ${hex(entry.crc32)}: the file is corrupt`,
      );
    }
  }
  return bytes;
}

/** Counts `n` more bytes read through `zip`; refuses once they pass `MAX_ZIP_READ_FACTOR` times the file. */
function chargeRead(zip: ZipArchive, n: number): void {
  const counter = bytesRead.get(zip);
  if (!counter) return; // an archive not made by openZip
  counter.bytes += n;
  const limit = MAX_ZIP_READ_FACTOR * zip.source.size + 4096;
  if (counter.bytes > limit) {
    throw corrupt(`reading more than ${limit} bytes of a ${zip.source.size}-byte archive: its entries are read more than once`);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip records it. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  if (!crcTable) {
    // Slice-by-4 tables: four table lookups per 4 bytes keep a 200 MB checkpoint under a second.
    crcTable = new Uint32Array(256 * 4);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
    for (let n = 0; n < 256; n++) {
      let c = crcTable[n]!;
      for (let t = 1; t < 4; t++) {
        c = crcTable[c & 0xff]! ^ (c >>> 8);
        crcTable[t * 256 + n] = c >>> 0;
      }
    }
  }
  const t = crcTable;
  let c = ~seed >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[(c >>> 24) & 0xff]!;
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
