import { assertPixelLimit, DEFAULT_MAX_PIXELS, isRawImage, SparseViTError, validateRawImage, type RawImage } from '@sparsevit/core';
import { readImageSize } from './image-size';
import type { WebImageInput } from './types';

/** Bytes of the header read to learn an image's size before decoding it (JPEG EXIF can be long). */
const HEADER_BYTES = 256 * 1024;

function isImageData(input: unknown): input is ImageData {
  return typeof ImageData !== 'undefined' && input instanceof ImageData;
}

type Drawable = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

function sizeOf(source: Drawable): { width: number; height: number } {
  if (typeof HTMLImageElement !== 'undefined' && source instanceof HTMLImageElement) {
    return { width: source.naturalWidth, height: source.naturalHeight };
  }
  return { width: source.width, height: source.height };
}

/**
 * Straight-alpha RGBA of a bitmap through WebGL2: a 2D canvas stores premultiplied pixels, so
 * reading back a translucent pixel through it can be off by one level; a texture uploaded with
 * `UNPACK_PREMULTIPLY_ALPHA_WEBGL = false` and read from a framebuffer keeps the file's values.
 * `undefined` where WebGL2 is not available.
 */
function readStraightRgba(bitmap: ImageBitmap): Uint8ClampedArray | undefined {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2', { premultipliedAlpha: false, antialias: false }) as WebGL2RenderingContext | null;
  if (!gl) return undefined;
  try {
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return undefined;
    const pixels = new Uint8ClampedArray(bitmap.width * bitmap.height * 4);
    gl.readPixels(0, 0, bitmap.width, bitmap.height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    return gl.getError() === gl.NO_ERROR ? pixels : undefined;
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  }
}

/** Draws a decoded image onto an sRGB 2D canvas and reads its pixels back as RGBA. */
function readPixels(source: Drawable, maxPixels: number): RawImage {
  const { width, height } = sizeOf(source);
  assertPixelLimit(width, height, maxPixels);
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { colorSpace: 'srgb', willReadFrequently: true });
  if (!context) throw new SparseViTError('INVALID_IMAGE', 'this browser gives no 2D canvas to read the image pixels');
  context.drawImage(source, 0, 0);
  let data: Uint8ClampedArray = context.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  if (typeof ImageBitmap !== 'undefined' && source instanceof ImageBitmap) {
    for (let i = 3; i < data.length; i += 4) {
      if (data[i] !== 255) {
        data = readStraightRgba(source) ?? data;
        break;
      }
    }
  }
  return { data, width, height, channels: 4 };
}

async function decodeBlob(blob: Blob, maxPixels: number): Promise<RawImage> {
  if (blob.size === 0) throw new SparseViTError('INVALID_IMAGE', 'the image file is empty (0 bytes)');
  const header = new Uint8Array(await blob.slice(0, HEADER_BYTES).arrayBuffer());
  const size = readImageSize(header);
  if (size) assertPixelLimit(size.width, size.height, maxPixels);
  let bitmap: ImageBitmap;
  try {
    // No colour management and no premultiplication: the pixel values stored in the file, as
    // PIL's `Image.open` gives them. (EXIF orientation is applied by the browser: `imageOrientation: 'none'`.)
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'none' } as ImageBitmapOptions);
  } catch (error) {
    throw new SparseViTError('INVALID_IMAGE', `the file is not an image this browser can decode${blob.type ? ` (${blob.type})` : ''}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return readPixels(bitmap, maxPixels);
  } finally {
    bitmap.close();
  }
}

/**
 * Decodes a browser image input to 8-bit RGBA pixels (core's `RawImage`) the way the reference's
 * PIL does for PNG: the values stored in the file, without colour management, alpha straight
 * (core's preprocessing drops it as `convert('RGB')` does). JPEG goes through the browser's own
 * decoder, which may differ from PIL's libjpeg by a level or two on some pixels.
 */
export async function decodeImage(input: WebImageInput, options: { maxPixels?: number } = {}): Promise<RawImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return decodeBlob(input, maxPixels);
  if (isImageData(input)) {
    assertPixelLimit(input.width, input.height, maxPixels);
    return { data: input.data, width: input.width, height: input.height, channels: 4 };
  }
  if (isRawImage(input)) {
    validateRawImage(input, { maxPixels });
    return input;
  }
  if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement) {
    if (!input.complete || input.naturalWidth === 0) {
      try {
        await input.decode();
      } catch (error) {
        throw new SparseViTError('INVALID_IMAGE', `the <img> could not be decoded (${input.currentSrc || input.src})`, { cause: error });
      }
    }
    // Re-decode from the source without colour management where the browser allows it.
    const bitmap = await createImageBitmap(input, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    try {
      return readPixels(bitmap, maxPixels);
    } finally {
      bitmap.close();
    }
  }
  if (
    (typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap) ||
    (typeof HTMLCanvasElement !== 'undefined' && input instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas !== 'undefined' && input instanceof OffscreenCanvas)
  ) {
    return readPixels(input as Drawable, maxPixels);
  }
  throw new SparseViTError('INVALID_IMAGE', 'unsupported input: pass a File/Blob, ImageBitmap, ImageData, <img>, <canvas>, OffscreenCanvas or RawImage');
}
