import { readFile } from 'node:fs/promises';
import { assertPixelLimit, cmykToRgb, DEFAULT_MAX_PIXELS, isRawImage, SparseViTError, type RawImage } from '@sparsevit/core';
import sharp, { type Metadata, type Sharp } from 'sharp';

/** What `@sparsevit/node` accepts as an image: a file path, encoded bytes, or decoded pixels. */
export type NodeImageInput = string | Uint8Array | RawImage;

/** Raster formats a photo arrives in. Vector and document formats sharp could render are refused. */
const SUPPORTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'avif', 'heif']);

/** What an image's header says, read by `probeImage` without decoding a pixel. */
export interface ImageHeader {
  /** The container format, one of the supported raster formats (`jpeg`, `png`, `webp`, ...). */
  format: string;
  width: number;
  height: number;
  /** Channels as stored: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA or CMYK. */
  channels: number;
}

/** `INVALID_IMAGE` unless `input` is a path or encoded bytes (a `RawImage` is checked by core). */
function checkEncodedInput(input: unknown): asserts input is string | Uint8Array {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new SparseViTError('INVALID_IMAGE', `unsupported input (${input === null ? 'null' : typeof input}): pass a path, the encoded bytes (Uint8Array, Buffer) or a RawImage { data, width, height, channels }`);
  }
}

async function readBytes(input: string | Uint8Array): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  try {
    return await readFile(input);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read ${input}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Opens encoded bytes with sharp and checks what the header says: a readable, supported raster
 * format within `maxPixels`. Only the header is parsed; no pixel is decoded yet.
 */
async function openImage(bytes: Uint8Array, label: string, maxPixels: number): Promise<{ pipeline: Sharp; metadata: Metadata }> {
  if (bytes.byteLength === 0) throw new SparseViTError('INVALID_IMAGE', `${label} is empty (0 bytes)`);
  const pipeline = sharp(bytes, { ignoreIcc: true, limitInputPixels: false, failOn: 'warning', sequentialRead: true });
  let metadata: Metadata;
  try {
    metadata = await pipeline.metadata();
  } catch (error) {
    throw new SparseViTError('INVALID_IMAGE', `${label} is not a readable image: ${(error as Error).message}`, { cause: error });
  }
  if (!metadata.format || !SUPPORTED_FORMATS.has(metadata.format)) {
    throw new SparseViTError('INVALID_IMAGE', `${label}: unsupported image format "${metadata.format}" (supported: ${[...SUPPORTED_FORMATS].join(', ')})`);
  }
  assertPixelLimit(metadata.width ?? 0, metadata.height ?? 0, maxPixels);
  return { pipeline, metadata };
}

/**
 * Reads an image's format and size from its header, without decoding it, and applies the same
 * checks `decodeImage` does first: an empty, unreadable or unsupported input fails with
 * `INVALID_IMAGE`, one over `maxPixels` (default 100 MP) with `IMAGE_TOO_LARGE`. A service can
 * refuse a decompression bomb this way before it queues the image for the model. A truncated
 * image whose header is intact passes here and fails in `decodeImage`.
 *
 * @example
 * ```ts
 * import { probeImage } from '@sparsevit/node';
 *
 * const header = await probeImage(uploadedBytes, { maxPixels: 40_000_000 });
 * console.log(header.format, header.width, header.height);
 * ```
 */
export async function probeImage(input: string | Uint8Array, options: { maxPixels?: number } = {}): Promise<ImageHeader> {
  checkEncodedInput(input);
  const label = typeof input === 'string' ? input : 'the image bytes';
  const { metadata } = await openImage(await readBytes(input), label, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  return { format: metadata.format!, width: metadata.width!, height: metadata.height!, channels: metadata.channels ?? 0 };
}

/**
 * Decodes an image to 8-bit pixels the way the reference's PIL does, so preprocessing sees the
 * same values:
 * - no colour management (`ignoreIcc`): PIL ignores embedded ICC profiles, sharp would convert;
 * - no EXIF auto-rotation: `Image.open` does not rotate either;
 * - the channels as stored (gray stays 1 channel, alpha is kept) and 8 bits per channel; core's
 *   preprocessing then converts to RGB as `convert('RGB')` does;
 * - the first frame of an animation;
 * - CMYK converted with PIL's formula (`cmykToRgb`), not through a colour profile.
 * Measured against Pillow 9.4 (libjpeg-turbo): JPEGs with 4:2:0, 4:2:2 and 4:4:4 chroma,
 * progressive, grayscale, CMYK and an EXIF orientation tag decode to the same bytes as
 * `Image.open(p).convert('RGB')`, as do 16-bit RGB PNGs (the high byte). One known difference:
 * PIL's `convert('RGB')` clips a 16-bit grayscale image's values at 255 (almost all white); here
 * it is scaled to 8 bits like every other 16-bit image.
 */
export async function decodeImage(input: NodeImageInput, options: { maxPixels?: number } = {}): Promise<RawImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (isRawImage(input)) {
    assertPixelLimit(input.width, input.height, maxPixels);
    return input;
  }
  checkEncodedInput(input);
  const label = typeof input === 'string' ? input : 'the image bytes';
  // Checked from the header, before any pixel is decoded.
  const { pipeline, metadata } = await openImage(await readBytes(input), label, maxPixels);
  try {
    if (metadata.space === 'cmyk') {
      // PIL converts CMYK to RGB with a plain formula, no colour profile (core's `cmykToRgb`);
      // sharp would colour-manage it, up to ~100 levels away. Read the inks as stored.
      const { data, info } = await pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return { data: cmykToRgb(data, info.width, info.height, info.channels), width: info.width, height: info.height, channels: 3 };
    }
    const { data, info } = await pipeline.toColourspace(metadata.channels && metadata.channels <= 2 ? 'b-w' : 'srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as RawImage['channels'] };
  } catch (error) {
    throw new SparseViTError('INVALID_IMAGE', `${label} could not be decoded: ${(error as Error).message}`, { cause: error });
  }
}
