import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DetectionResult } from '@sparsevit/node';
import type { ModelIdentity } from '../model-host';
import { maskFraction, maskPng } from '../pictures';
import { writeFileAtomic } from './atomic-write';

/**
 * The `<stem>.json` a worker writes: the figures `sparsevit detect` writes for an image
 * (`maskFraction` is the share of pixels in the mask, `milliseconds` the model time), and where
 * the result came from: the image's SHA-256, the model, the worker and its attempt (1 first).
 */
export type ScanResultRecord = { input: string; stem: string; sha256: string } & Pick<DetectionResult, 'width' | 'height' | 'score' | 'threshold'> & {
  maskFraction: number;
  backend: string;
  device: string;
  milliseconds: number;
  timings: DetectionResult['timings'] & { writeMs: number };
  files: { mask: string; json: string };
  model: { weights: string; sha256: string };
  worker: string;
  attempt: number;
};

export function resultFiles(stem: string): { mask: string; json: string } {
  return { mask: `${stem}.mask.png`, json: `${stem}.json` };
}

/** The result already in `outDir` for `stem`, if any (a partial one cannot exist: writes are atomic). */
export async function readResult(outDir: string, stem: string): Promise<ScanResultRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(outDir, resultFiles(stem).json), 'utf8')) as ScanResultRecord;
  } catch {
    return undefined;
  }
}

/**
 * Writes `<stem>.mask.png`, then `<stem>.json`, each atomically. The JSON goes last: its presence
 * means the result is complete.
 */
export async function writeResult(
  outDir: string,
  fields: { input: string; stem: string; sha256: string; worker: string; attempt: number },
  result: DetectionResult,
  identity: ModelIdentity,
): Promise<ScanResultRecord> {
  const started = performance.now();
  const files = resultFiles(fields.stem);
  await writeFileAtomic(join(outDir, files.mask), await maskPng(result));
  const record: ScanResultRecord = {
    input: fields.input,
    stem: fields.stem,
    sha256: fields.sha256,
    width: result.width,
    height: result.height,
    score: result.score,
    threshold: result.threshold,
    maskFraction: maskFraction(result.mask),
    backend: identity.backend,
    device: identity.device,
    milliseconds: result.timings.totalMs,
    timings: { ...result.timings, writeMs: performance.now() - started },
    files,
    model: { weights: identity.weights, sha256: identity.sha256 },
    worker: fields.worker,
    attempt: fields.attempt,
  };
  await writeFileAtomic(join(outDir, files.json), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}
