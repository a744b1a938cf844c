import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** A temporary folder for a test's files. */
export function tempDir(prefix = 'sparsevit-synth-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a PNG of one flat colour and returns its path. */
export async function flatPhoto(dir: string, name: string, rgb: [number, number, number], width = 160, height = 120): Promise<string> {
  const path = join(dir, name);
  await sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).png().toFile(path);
  return path;
}

/** Writes a textured PNG (gradients and a hashed pattern, different per `salt`) and returns its path. */
export async function texturedPhoto(dir: string, name: string, salt: number, width = 200, height = 150): Promise<string> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const h = Math.imul((x + 1) * 73856093 ^ (y + 1) * 19349663 ^ salt * 83492791, 2654435761) >>> 24;
      data[i] = (x * 255) / width * 0.7 + h * 0.3;
      data[i + 1] = (y * 255) / height * 0.7 + ((h * 7) & 255) * 0.3;
      data[i + 2] = ((x + y + salt * 40) % 256) * 0.6 + h * 0.4;
    }
  }
  const path = join(dir, name);
  await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(path);
  return path;
}

/** Writes bytes that are not a decodable image (a truncated JPEG) and returns the path. */
export async function corruptPhoto(dir: string, name: string): Promise<string> {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const path = join(dir, name);
  writeFileSync(path, jpeg.subarray(0, 200));
  return path;
}
