import { toRgb, type BinaryMask, type RawImage } from '@sparsevit/core';
import sharp from 'sharp';

/** Largest side of a thumbnail in the HTML report. */
export const THUMBNAIL_SIZE = 256;

export interface Thumbnails {
  /** `data:` URIs. */
  image: string;
  gt: string;
  pred: string;
}

const dataUri = (mime: string, bytes: Buffer) => `data:${mime};base64,${bytes.toString('base64')}`;

function fit(width: number, height: number): { width: number; height: number } {
  const s = Math.min(1, THUMBNAIL_SIZE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Small thumbnails for one image of the report, like the authors' `main_test.py` figure: the
 * image (JPEG), the ground truth (PNG, white = manipulated) and the predicted probability
 * (grayscale JPEG, white = 1), each at most 256 px on its longer side.
 */
export async function makeThumbnails(image: RawImage, mask: BinaryMask, probability: Float32Array, width: number, height: number): Promise<Thumbnails> {
  const size = fit(image.width, image.height);
  const rgb = toRgb(image);
  const imageJpeg = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .jpeg({ quality: 80 })
    .toBuffer();
  const gt = Buffer.alloc(mask.width * mask.height);
  for (let i = 0; i < gt.length; i++) gt[i] = mask.data[i] ? 255 : 0;
  const gtPng = await sharp(gt, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .resize(size.width, size.height, { fit: 'fill', kernel: 'nearest' })
    .toColourspace('b-w')
    .png({ compressionLevel: 9, palette: false })
    .toBuffer();
  const pred = Buffer.alloc(width * height);
  for (let i = 0; i < pred.length; i++) {
    const v = Math.round(probability[i] * 255);
    pred[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  const predJpeg = await sharp(pred, { raw: { width, height, channels: 1 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .toColourspace('b-w')
    .jpeg({ quality: 85 })
    .toBuffer();
  return { image: dataUri('image/jpeg', imageJpeg), gt: dataUri('image/png', gtPng), pred: dataUri('image/jpeg', predJpeg) };
}
