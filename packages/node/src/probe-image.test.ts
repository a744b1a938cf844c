import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { decodeImage, probeImage } from './decode-image';

const image = (name: string) => fixturePath('sparsevit-tiny', 'images', name);

/**
 * A PNG whose header claims `width x height` over the pixel data of a small one: the IHDR's
 * size fields rewritten and its CRC recomputed. Its header is valid; its pixels are not there.
 */
function withClaimedSize(png: Uint8Array, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  // Signature (8) + IHDR length (4) + type (4), then width and height; the CRC covers type + data.
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)), 29);
  return out;
}

describe('probeImage', () => {
  it('reads format, size and channels from the header, as decodeImage then finds them', async () => {
    for (const [name, channels] of [['splice_640x480.png', 3], ['gray_257x333.png', 1], ['rgba_512x512.png', 4]] as const) {
      const header = await probeImage(image(name));
      const decoded = await decodeImage(image(name));
      expect(header).toEqual({ format: 'png', width: decoded.width, height: decoded.height, channels });
    }
    const jpeg = await probeImage(readFileSync(fixturePath('pil-decode', 'rgb_q90_420.jpg')));
    expect(jpeg.format).toBe('jpeg');
  });

  it('refuses a 30000x30000 header with IMAGE_TOO_LARGE, and decodeImage does too, before decoding', async () => {
    const bomb = withClaimedSize(readFileSync(image('splice_640x480.png')), 30000, 30000);
    const limit = { maxPixels: 50_000_000 };
    await expect(probeImage(bomb, limit)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', details: { width: 30000, height: 30000, pixels: 9e8 } });
    await expect(decodeImage(bomb, limit)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    // The default limit (100 MP) applies without options.
    await expect(probeImage(bomb)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE', details: { maxPixels: 100_000_000 } });
  });

  it('fails with INVALID_IMAGE on empty bytes, a non-image and an unsupported format; IO_ERROR on a missing file', async () => {
    await expect(probeImage(new Uint8Array(0))).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: /empty/ });
    await expect(probeImage(Buffer.from('this is not an image'))).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    await expect(probeImage(svg)).rejects.toMatchObject({ code: 'INVALID_IMAGE', message: /unsupported image format "svg"/ });
    await expect(probeImage('/nonexistent/photo.png')).rejects.toMatchObject({ code: 'IO_ERROR' });
  });

  it('passes a truncated image whose header is intact; decoding it then fails with INVALID_IMAGE', async () => {
    const truncated = readFileSync(fixturePath('pil-decode', 'rgb_q90_420.jpg')).subarray(0, 2000);
    const header = await probeImage(truncated);
    expect(header.format).toBe('jpeg');
    await expect(decodeImage(truncated)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
  });
});
