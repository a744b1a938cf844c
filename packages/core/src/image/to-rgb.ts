import type { RawImage } from './raw-image';
import { validateRawImage } from './raw-image';
import { SparseViTError } from '../errors';

/**
 * Packed 8-bit RGB (3 bytes a pixel) from any `RawImage`, as PIL's `Image.convert('RGB')` makes it
 * for the reference preprocessing (Pillow `Convert.c`: `l2rgb`, `la2rgb`, `rgba2rgb`):
 * - gray ('L'): the value replicated to R, G and B;
 * - gray + alpha ('LA'): the gray value replicated, alpha dropped;
 * - RGBA: alpha dropped. The color is NOT composited over a background: PIL keeps the stored
 *   (straight-alpha) RGB, so a transparent pixel contributes its hidden color, as in the reference.
 *
 * A 3-channel image is returned without copying (a `Uint8Array` view of the same memory).
 */
export function toRgb(image: RawImage): Uint8Array {
  validateRawImage(image);
  const { data, width, height, channels } = image;
  const n = width * height;
  if (channels === 3) {
    return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
  }
  const out = new Uint8Array(n * 3);
  if (channels === 1 || channels === 2) {
    for (let i = 0, j = 0, o = 0; i < n; i++, j += channels, o += 3) {
      const v = data[j];
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    }
  } else {
    for (let i = 0, j = 0, o = 0; i < n; i++, j += 4, o += 3) {
      out[o] = data[j];
      out[o + 1] = data[j + 1];
      out[o + 2] = data[j + 2];
    }
  }
  return out;
}

/**
 * Packed 8-bit RGB from CMYK (0 = no ink; `channels` bytes a pixel, C, M, Y, K first, any further
 * channel such as alpha dropped), as Pillow's `convert('RGB')`
 * computes it (`Convert.c` `cmyk2rgb`, Pillow 9.x): `R = 255 - K - C * (255 - K) / 255` with its
 * integer rounding, and likewise G from M and B from Y. No colour profile is involved; a
 * colour-managed conversion (what image libraries and browsers do by default) gives other values
 * by up to ~100 levels, so the reference's input would differ.
 */
export function cmykToRgb(cmyk: Uint8Array, width: number, height: number, channels = 4): Uint8Array {
  const n = width * height;
  if (!Number.isInteger(channels) || channels < 4 || cmyk.length < n * channels) {
    throw new SparseViTError('INVALID_ARGUMENT', `cmykToRgb: ${cmyk.length} bytes for ${width}x${height} pixels of ${channels} channels (C, M, Y, K first)`);
  }
  const out = new Uint8Array(n * 3);
  // Pillow's MULDIV255(a, b): (a * b + 128) scaled by 257/65536, exact for 8-bit products.
  const mulDiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0, j = 0, o = 0; i < n; i++, j += channels, o += 3) {
    const inkless = 255 - cmyk[j + 3];
    out[o] = inkless - mulDiv255(cmyk[j], inkless);
    out[o + 1] = inkless - mulDiv255(cmyk[j + 1], inkless);
    out[o + 2] = inkless - mulDiv255(cmyk[j + 2], inkless);
  }
  return out;
}
