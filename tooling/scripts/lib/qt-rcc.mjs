// Reads the files out of a Qt binary resource bundle (`.rcc`, as `rcc -binary` writes it).
// GCompris (gcompris-qt-data) ships its photographs inside such bundles, and no Debian package
// has a tool that unpacks them (Qt's `rcc` only writes them), so fetch-photos reads them here.
//
// Format (qtbase src/corelib/io/qresource.cpp): a header `qres`, version, and the offsets of three
// areas. The tree is a table of nodes (14 bytes, 22 from version 2 on): name offset, flags, then
// either a directory's child count and first child, or a file's locale and data offset. A name is
// a u16 length, a u32 hash and UTF-16BE characters; a datum is a u32 length and its bytes, which
// start with a u32 uncompressed size and a zlib stream when the node is flagged compressed.
// Every offset and length is checked against the bundle, and every node is visited at most once,
// so a corrupt bundle costs work bounded by its size.
import { inflateSync } from 'node:zlib';

const COMPRESSED = 0x01;
const DIRECTORY = 0x02;
const COMPRESSED_ZSTD = 0x04;

/** Every file in the bundle `bytes` (a Buffer), as `{ path, data() }`, paths without a leading `:/`. */
export function listRcc(bytes) {
  const fail = (why) => {
    throw new Error(`not a readable Qt resource bundle: ${why}`);
  };
  if (bytes.length < 20 || bytes.toString('latin1', 0, 4) !== 'qres') fail('no qres header');
  const version = bytes.readUInt32BE(4);
  if (version < 1 || version > 3) fail(`version ${version}`);
  const treeAt = bytes.readUInt32BE(8);
  const dataAt = bytes.readUInt32BE(12);
  const namesAt = bytes.readUInt32BE(16);
  const nodeSize = version >= 2 ? 22 : 14;
  const u32 = (at) => (at + 4 <= bytes.length ? bytes.readUInt32BE(at) : fail(`offset ${at} past the end`));
  const u16 = (at) => (at + 2 <= bytes.length ? bytes.readUInt16BE(at) : fail(`offset ${at} past the end`));
  const nameOf = (offset) => {
    const at = namesAt + offset;
    const length = u16(at);
    const start = at + 6;
    if (start + 2 * length > bytes.length) fail('a name runs past the end');
    // A copy: swap16 works in place, and names are shared (rcc stores a name once for every
    // node that has it), so swapping the bundle itself would corrupt the next read of it.
    return Buffer.from(bytes.subarray(start, start + 2 * length)).swap16().toString('utf16le');
  };
  const files = [];
  const seen = new Set();
  const visit = (node, prefix) => {
    if (seen.has(node)) fail(`node ${node} is reached twice`);
    seen.add(node);
    const at = treeAt + node * nodeSize;
    const flags = u16(at + 4);
    const name = node === 0 ? '' : nameOf(u32(at));
    const path = prefix ? `${prefix}/${name}` : name;
    if (flags & DIRECTORY) {
      const count = u32(at + 6);
      const first = u32(at + 10);
      if (count > bytes.length / nodeSize) fail(`a directory claims ${count} children`);
      for (let child = first; child < first + count; child++) visit(child, path);
      return;
    }
    const datumAt = dataAt + u32(at + 10);
    const length = u32(datumAt);
    if (datumAt + 4 + length > bytes.length) fail(`${path} runs past the end`);
    const raw = bytes.subarray(datumAt + 4, datumAt + 4 + length);
    files.push({
      path,
      data() {
        if (flags & COMPRESSED_ZSTD) fail(`${path} is zstd-compressed`);
        return flags & COMPRESSED ? inflateSync(raw.subarray(4), { maxOutputLength: raw.readUInt32BE(0) }) : Buffer.from(raw);
      },
    });
  };
  visit(0, '');
  return files;
}
