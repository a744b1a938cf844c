import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { imageStem, SparseViTError } from '@sparsevit/core';
import type { Raster } from './raster';

/**
 * Source photos: decoding (once, downscaled to a working resolution, kept in an LRU cache), the
 * photo manifest that `tooling/scripts/fetch-photos.mjs` writes beside the photos, and a folder
 * listing for photos without one.
 */

/** Packages whose images are kept for independent evaluation: never a source of training data. */
export const RESERVED_PACKAGES: readonly string[] = ['python3-skimage', 'opencv-doc'];

export interface PhotoSplits {
  train: string[];
  val: string[];
  test: string[];
}

interface ManifestEntry {
  package: string;
  file: string;
  split: 'train' | 'val' | 'test';
}

/**
 * Reads the photo manifest (default `<root>/manifest.json`) and returns the absolute paths of
 * the photos of each split, `<root>/<package>/<file>`, in manifest order. Splits are by source
 * photo, so a test photo never appears in train. Throws `IO_ERROR` when the manifest cannot be
 * read and `INVALID_ARGUMENT` when it is malformed or names a reserved package.
 *
 * @example
 * const { train } = loadPhotoManifest('data/photos');
 */
export function loadPhotoManifest(root: string, manifest?: string): PhotoSplits {
  const base = resolve(root);
  const file = resolve(manifest ?? join(base, 'manifest.json'));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the photo manifest ${file}: ${(error as Error).message} (run node tooling/scripts/fetch-photos.mjs)`, { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SparseViTError('INVALID_ARGUMENT', `the photo manifest ${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const photos = (parsed as { photos?: unknown })?.photos;
  if (!Array.isArray(photos)) throw new SparseViTError('INVALID_ARGUMENT', `the photo manifest ${file} has no "photos" list`);
  const splits: PhotoSplits = { train: [], val: [], test: [] };
  photos.forEach((entry: Partial<ManifestEntry>, i) => {
    const ok =
      typeof entry?.package === 'string' &&
      typeof entry.file === 'string' &&
      /^[^/\\]+$/.test(entry.package) &&
      /^[^/\\]+$/.test(entry.file) &&
      entry.package !== '..' &&
      entry.file !== '..' &&
      (entry.split === 'train' || entry.split === 'val' || entry.split === 'test');
    if (!ok) throw new SparseViTError('INVALID_ARGUMENT', `the photo manifest ${file}: entry ${i} needs "package", "file" (plain names) and "split" (train, val or test)`);
    if (RESERVED_PACKAGES.includes(entry.package!)) {
      throw new SparseViTError('INVALID_ARGUMENT', `the photo manifest ${file}: ${entry.package} images are reserved for independent evaluation`);
    }
    splits[entry.split!].push(join(base, entry.package!, entry.file!));
  });
  return splits;
}

/** Image files (by extension) under `dir`, recursively, sorted; dot-files and folders skipped. */
export function findPhotos(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (error) {
      throw new SparseViTError('IO_ERROR', `cannot list ${d}: ${(error as Error).message}`, { cause: error });
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (imageStem(e.name) !== null) out.push(p);
    }
  };
  walk(resolve(dir));
  return out;
}

/**
 * Decodes a photo to RGB, EXIF-rotated, downscaled (never enlarged) so that its short side is
 * at most `shortSide`. Any failure is an `INVALID_IMAGE` (undecodable) or `IO_ERROR` (unreadable)
 * `SparseViTError`.
 */
export async function decodePhoto(path: string, shortSide: number): Promise<Raster> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the photo ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const { data, info } = await sharp(bytes)
      .rotate()
      .resize({ width: shortSide, height: shortSide, fit: 'outside', withoutEnlargement: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
  } catch (error) {
    throw new SparseViTError('INVALID_IMAGE', `cannot decode the photo ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** Decoded photos by path, least recently used evicted beyond `capacity`. */
export class PhotoCache {
  private readonly entries = new Map<string, Promise<Raster>>();

  constructor(
    private readonly shortSide: number,
    private readonly capacity: number,
  ) {}

  get(path: string): Promise<Raster> {
    const hit = this.entries.get(path);
    if (hit) {
      // Re-insert: Map order is the recency order.
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit;
    }
    const decoding = decodePhoto(path, this.shortSide);
    this.entries.set(path, decoding);
    decoding.catch(() => this.entries.delete(path));
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return decoding;
  }

  clear(): void {
    this.entries.clear();
  }
}
