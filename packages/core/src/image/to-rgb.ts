import type { RawImage } from './raw-image';
import { validateRawImage } from './raw-image';

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
