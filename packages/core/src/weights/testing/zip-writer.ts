/**
 * Test-only: a stored-entry ZIP writer shaped like PyTorch's (caffe2/serialize/
 * inline_container.cc): each local header carries a padding extra field ("FB") so the data starts
 * 64-byte aligned. Optionally writes ZIP64 records, to exercise that path of the reader.
 */
import { crc32 } from '../zip';

export interface ZipWriteEntry {
  readonly name: string;
  readonly data: Uint8Array;
  /** Pretend the entry is compressed with this method (bytes are stored as-is). */
  readonly method?: number;
}

export interface ZipWriteOptions {
  /** Write ZIP64 end records and saturate the 32-bit fields of every entry. */
  readonly zip64?: boolean;
  /** Data alignment (PyTorch: 64); 0 for none. */
  readonly align?: number;
  readonly comment?: string;
}

export function writeZip(entries: readonly ZipWriteEntry[], options: ZipWriteOptions = {}): Uint8Array {
  const align = options.align ?? 64;
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const central: Uint8Array[] = [];
  const push = (b: Uint8Array): void => {
    chunks.push(b);
    offset += b.length;
  };
  for (const e of entries) {
    const name = enc.encode(e.name);
    const crc = crc32(e.data);
    const headerStart = offset;
    let pad = 0;
    if (align > 0) {
      const bare = headerStart + 30 + name.length + 4;
      pad = (align - (bare % align)) % align;
    }
    const extraLen = align > 0 ? 4 + pad : 0;
    const local = new Uint8Array(30 + name.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, options.zip64 ? 45 : 20, true);
    lv.setUint16(8, e.method ?? 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    if (align > 0) {
      lv.setUint16(30 + name.length, 0x4246, true); // "FB", PyTorch's padding field id
      lv.setUint16(32 + name.length, pad, true);
    }
    push(local);
    push(e.data);

    const z64 = options.zip64 === true;
    const cdExtra = z64 ? 4 + 24 : 0;
    const cd = new Uint8Array(46 + name.length + cdExtra);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, z64 ? 45 : 20, true);
    cv.setUint16(10, e.method ?? 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, z64 ? 0xffffffff : e.data.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cdExtra, true);
    cv.setUint32(42, z64 ? 0xffffffff : headerStart, true);
    cd.set(name, 46);
    if (z64) {
      const x = 46 + name.length;
      cv.setUint16(x, 0x0001, true);
      cv.setUint16(x + 2, 24, true);
      cv.setBigUint64(x + 4, BigInt(e.data.length), true); // uncompressed
      cv.setBigUint64(x + 12, BigInt(e.data.length), true); // compressed
      cv.setBigUint64(x + 20, BigInt(headerStart), true);
    }
    central.push(cd);
  }
  const cdStart = offset;
  for (const c of central) push(c);
  const cdSize = offset - cdStart;
  if (options.zip64) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    const recAt = offset;
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdStart), true);
    push(rec);
    const loc = new Uint8Array(20);
    const locv = new DataView(loc.buffer);
    locv.setUint32(0, 0x07064b50, true);
    locv.setBigUint64(8, BigInt(recAt), true);
    locv.setUint32(16, 1, true);
    push(loc);
  }
  const comment = enc.encode(options.comment ?? '');
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, options.zip64 ? 0xffff : entries.length, true);
  ev.setUint16(10, options.zip64 ? 0xffff : entries.length, true);
  ev.setUint32(12, options.zip64 ? 0xffffffff : cdSize, true);
  ev.setUint32(16, options.zip64 ? 0xffffffff : cdStart, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  push(eocd);

  const out = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
