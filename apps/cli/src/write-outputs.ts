import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy, renderOverlay, type DetectionResult, type RawImage } from '@sparsevit/node';
import sharp from 'sharp';

/** File names of one input's outputs, relative to the output folder. */
export interface OutputFiles {
  prob: string;
  mask: string;
  overlay: string;
  json: string;
}

export function outputFiles(stem: string): OutputFiles {
  return { prob: `${stem}.prob.npy`, mask: `${stem}.mask.png`, overlay: `${stem}.overlay.png`, json: `${stem}.json` };
}

/** The fields of `<stem>.json` that are not about the files. */
export interface ResultRecord {
  input: string;
  stem: string;
  width: number;
  height: number;
  /** Image-level score: the maximum of the network-resolution probability map. */
  score: number;
  threshold: number;
  /** Fraction of the image's pixels in the mask (`probability > threshold`). */
  maskFraction: number;
  backend: string;
  device: string;
  /** Model time for this input (decode + preprocess + inference + postprocess). */
  milliseconds: number;
  timings: DetectionResult['timings'] & { writeMs: number };
  files: OutputFiles;
}

function maskFraction(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i] ? 1 : 0;
  return mask.length === 0 ? 0 : n / mask.length;
}

/**
 * Writes `<stem>.prob.npy`, `<stem>.mask.png` (1-channel, 0/255), `<stem>.overlay.png` (RGB) and
 * `<stem>.json` for one detection into `outDir`, and returns the record written to the JSON.
 */
export async function writeOutputs(
  outDir: string,
  input: string,
  stem: string,
  result: DetectionResult,
  model: { backend: string; device: string },
): Promise<ResultRecord> {
  const t0 = performance.now();
  const { width, height } = result;
  const files = outputFiles(stem);
  const image = result.image as RawImage;

  const mask = Buffer.alloc(width * height);
  for (let i = 0; i < mask.length; i++) mask[i] = result.mask[i] ? 255 : 0;
  const overlay = renderOverlay(image, result.probability);
  // The image's pixels are no longer needed once the overlay is rendered.
  result.image = undefined;

  await Promise.all([
    writeFile(join(outDir, files.prob), encodeNpy(result.probability, [height, width])),
    sharp(mask, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toFile(join(outDir, files.mask)),
    sharp(Buffer.from(overlay.buffer, overlay.byteOffset, overlay.byteLength), { raw: { width, height, channels: 4 } })
      .removeAlpha()
      .png()
      .toFile(join(outDir, files.overlay)),
  ]);
  const record: ResultRecord = {
    input,
    stem,
    width,
    height,
    score: result.score,
    threshold: result.threshold,
    maskFraction: maskFraction(result.mask),
    backend: model.backend,
    device: model.device,
    milliseconds: result.timings.totalMs,
    timings: { ...result.timings, writeMs: 0 },
    files,
  };
  record.timings.writeMs = performance.now() - t0;
  await writeFile(join(outDir, files.json), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}
