import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { listRcc } from './qt-rcc.mjs';

// fixtures/fixture-v{1,3}.rcc were written by Qt's own rcc 5.15.8 (Debian qtbase5-dev-tools,
// `rcc --binary --format-version N fixture.qrc`) from the two files below; rcc zlib-compressed
// the text and stored the noise as it is.
const notes = Buffer.from('SparseViT rcc fixture. '.repeat(40));
const noise = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) % 251));
const fixture = (version) => readFileSync(new URL(`./fixtures/fixture-v${version}.rcc`, import.meta.url));

describe('listRcc', () => {
  it.each([1, 3])('reads every file of a bundle Qt rcc wrote (format version %i), compressed or not', (version) => {
    const bytes = fixture(version);
    const files = listRcc(bytes);
    expect(files.map((f) => f.path).sort()).toEqual(['photos/deep/notes.txt', 'photos/noise.bin']);
    const byPath = Object.fromEntries(files.map((f) => [f.path, f.data()]));
    expect(byPath['photos/deep/notes.txt'].equals(notes)).toBe(true);
    expect(byPath['photos/noise.bin'].equals(noise)).toBe(true);
    // The text really was stored compressed: the whole bundle is smaller than its two files.
    expect(bytes.length).toBeLessThan(notes.length + noise.length);
    // Reading leaves the bundle as it was (names are decoded from a copy), so a second read of
    // the same bytes lists the same paths.
    expect(bytes.equals(fixture(version))).toBe(true);
    expect(listRcc(bytes).map((f) => f.path)).toEqual(files.map((f) => f.path));
  });

  it('refuses what is not a bundle', () => {
    expect(() => listRcc(Buffer.from('GIF89a not a resource bundle'))).toThrow(/no qres header/);
    expect(() => listRcc(Buffer.alloc(8))).toThrow(/no qres header/);
  });

  it('throws on every truncation of a real bundle, except past the last byte it needs', () => {
    const bytes = fixture(3);
    let threw = 0;
    for (let length = 0; length < bytes.length; length++) {
      const truncated = Buffer.from(bytes.subarray(0, length));
      let files;
      try {
        files = listRcc(truncated).map((f) => [f.path, f.data()]);
      } catch {
        threw++;
        continue;
      }
      // A version-3 node ends with a modification time the reader never needs; a bundle cut
      // there still lists the right bytes, never wrong ones.
      expect(Object.fromEntries(files), `truncated to ${length} bytes`).toEqual({ 'photos/deep/notes.txt': notes, 'photos/noise.bin': noise });
    }
    expect(threw).toBeGreaterThan(bytes.length - 10);
  });

  it('stops on a directory that contains itself instead of looping', () => {
    const bytes = Buffer.from(fixture(3));
    const treeAt = bytes.readUInt32BE(8);
    // The root (node 0) is a directory; point its first child at itself.
    bytes.writeUInt32BE(1, treeAt + 6);
    bytes.writeUInt32BE(0, treeAt + 10);
    expect(() => listRcc(bytes)).toThrow(/reached twice/);
  });

  it('refuses a directory that claims more children than the bundle could hold', () => {
    const bytes = Buffer.from(fixture(3));
    bytes.writeUInt32BE(0xffffffff, bytes.readUInt32BE(8) + 6);
    expect(() => listRcc(bytes)).toThrow(/claims 4294967295 children/);
  });
});
