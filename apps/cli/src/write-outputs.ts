import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeNpy, renderOverlay, type DetectionResult, type RawImage } from '@sparsevit/core';
import sharp from 'sharp';
import { openAtomic, writeError, writeFileAtomic } from './atomic-write';
import { outputFiles, type OutputFiles } from './output-files';

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
 * All or nothing: the three data files are written to temporary files beside their targets
 * (never through a link, see `atomic-write.ts`) and renamed into place only once all three are
 * complete, then `<stem>.json` the same way: when it exists, the others are complete, which is
 * what `detect --resume` relies on. When a write fails (a full disk), every temporary file of the
 * input is removed and the error is `IO_ERROR` naming the file: nothing of it is left.
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
  // Tinted where the mask is, with its contour drawn: the tint alone vanishes on a red photo.
  const overlay = renderOverlay(image, result.probability, { threshold: result.threshold, outline: true });
  // The image's pixels are no longer needed once the overlay is rendered.
  result.image = undefined;

  const [maskPng, overlayPng] = await Promise.all([
    sharp(mask, { raw: { width, height, channels: 1 } }).toColourspace('b-w').png().toBuffer(),
    sharp(Buffer.from(overlay.buffer, overlay.byteOffset, overlay.byteLength), { raw: { width, height, channels: 4 } }).removeAlpha().png().toBuffer(),
  ]);
  await writeAllOrNothing([
    [join(outDir, files.prob), encodeNpy(result.probability, [height, width])],
    [join(outDir, files.mask), maskPng],
    [join(outDir, files.overlay), overlayPng],
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
  await writeFileAtomic(join(outDir, files.json), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Writes every `[target, bytes]` to its temporary file, then renames them all; on a failure, removes them all. */
async function writeAllOrNothing(files: [string, Uint8Array][]): Promise<void> {
  const opened: Awaited<ReturnType<typeof openAtomic>>[] = [];
  try {
    for (const [target, bytes] of files) {
      const file = await openAtomic(target);
      opened.push(file);
      await file.handle.writeFile(bytes).catch((error: unknown) => {
        throw writeError(target, error);
      });
    }
  } catch (error) {
    await Promise.all(opened.map((f) => f.abort()));
    throw error;
  }
  for (let i = 0; i < opened.length; i++) {
    try {
      await opened[i].commit();
    } catch (error) {
      await Promise.all(opened.slice(i + 1).map((f) => f.abort()));
      throw error;
    }
  }
}

/**
 * The record of a previous run's complete outputs for `input` (for `detect --resume`), or
 * `undefined` when they are not all there: `<stem>.json` must parse, name the same input file
 * and threshold, and every file it lists must exist and be non-empty.
 */
export async function readCompleteOutputs(outDir: string, input: string, stem: string, threshold: number): Promise<ResultRecord | undefined> {
  const files = outputFiles(stem);
  let record: ResultRecord;
  try {
    record = JSON.parse(await readFile(join(outDir, files.json), 'utf8')) as ResultRecord;
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null || typeof record.input !== 'string' || resolve(record.input) !== resolve(input)) return undefined;
  if (record.stem !== stem || record.threshold !== threshold) return undefined;
  for (const name of [files.prob, files.mask, files.overlay]) {
    const info = await stat(join(outDir, name)).catch(() => undefined);
    if (!info?.isFile() || info.size === 0) return undefined;
  }
  return record;
}
