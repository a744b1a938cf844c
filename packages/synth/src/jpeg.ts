import sharp from 'sharp';
import { SparseViTError } from '@sparsevit/core';
import type { Raster } from './raster';

/**
 * A JPEG round trip through libjpeg-turbo (sharp): encode at `quality` with 4:2:0 chroma
 * subsampling, as OpenCV's `imencode` and albumentations' `ImageCompression` do, and decode.
 */
export async function jpegRoundTrip(image: Raster, quality: number): Promise<Raster> {
  const { width, height } = image;
  const encoded = await sharp(image.data, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new SparseViTError('INVALID_IMAGE', `JPEG round trip changed the image shape (${info.width}x${info.height}x${info.channels})`);
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 3 };
}
