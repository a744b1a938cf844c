// A minimal PNG writer (8-bit gray or RGB, one IDAT), enough to build images of any declared
// size without an image library: a 50,000,000 x 1 strip is 48 KB once deflated.
import { crc32, deflateSync } from 'node:zlib';

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}

function header(width, height, channels) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // gray | RGB
  return ihdr;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A PNG of `width x height` whose pixels are all `value` (rows filtered with filter 0). */
export function uniformPng(width, height, { channels = 1, value = 128 } = {}) {
  const row = 1 + width * channels;
  const raw = Buffer.alloc(row * height, value);
  for (let y = 0; y < height; y++) raw[y * row] = 0;
  return Buffer.concat([SIGNATURE, chunk('IHDR', header(width, height, channels)), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

/** A PNG whose header declares `width x height` but whose pixel data is a few bytes: for checks made from the header. */
export function headerOnlyPng(width, height) {
  return Buffer.concat([SIGNATURE, chunk('IHDR', header(width, height, 1)), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
}
