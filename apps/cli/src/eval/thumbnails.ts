import { toRgb, type BinaryMask, type RawImage } from '@sparsevit/core';
import type { NodeSparseViTModel } from '@sparsevit/node';
import sharp from 'sharp';
import type { ReportRow } from './csv';
import type { EvalItem } from './dataset';
import type { ShownImage } from './html';
import type { PrepareItem } from './passes';

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

/**
 * The best / worst images of the report, read again (unperturbed) and run once more for their
 * thumbnails. One that cannot be read or run again is shown with a note instead.
 */
export async function thumbnailsFor(
  best: readonly ReportRow[],
  worst: readonly ReportRow[],
  byId: ReadonlyMap<string, EvalItem>,
  model: NodeSparseViTModel,
  threshold: number,
  prepare: PrepareItem,
): Promise<{ best: ShownImage[]; worst: ShownImage[] }> {
  const one = async (row: ReportRow): Promise<ShownImage> => {
    const item = byId.get(row.id);
    if (!item) return { row, thumbnails: null, note: 'not in the dataset any more' };
    const p = await prepare(item, null);
    if (p.error || !p.input || !p.mask) return { row, thumbnails: null, note: `cannot read it again: ${p.error?.message ?? 'unknown error'}` };
    try {
      const r = await model.detect(p.input, { threshold });
      return { row, thumbnails: await makeThumbnails(p.input, p.mask, r.probability, r.width, r.height) };
    } catch (error) {
      return { row, thumbnails: null, note: `cannot show it: ${(error as Error).message}` };
    }
  };
  const out = { best: [] as ShownImage[], worst: [] as ShownImage[] };
  for (const row of best) out.best.push(await one(row));
  for (const row of worst) out.worst.push(await one(row));
  return out;
}
