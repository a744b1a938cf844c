import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '@sparsevit/core';
import { findPhotos, loadPhotoManifest } from './photos';
import { tempDir } from './test-photos.test-helper';

function manifestIn(dir: string, photos: unknown): string {
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ photos }));
  return dir;
}

describe('loadPhotoManifest', () => {
  it('returns absolute paths per split, in manifest order', () => {
    const root = manifestIn(tempDir(), [
      { package: 'mate-backgrounds', file: 'A.jpg', split: 'train' },
      { package: 'mate-backgrounds', file: 'B.jpg', split: 'test' },
      { package: 'plasma', file: 'C.jpg', split: 'train' },
      { package: 'plasma', file: 'D.jpg', split: 'val' },
    ]);
    expect(loadPhotoManifest(root)).toEqual({
      train: [join(root, 'mate-backgrounds', 'A.jpg'), join(root, 'plasma', 'C.jpg')],
      val: [join(root, 'plasma', 'D.jpg')],
      test: [join(root, 'mate-backgrounds', 'B.jpg')],
    });
  });

  it('refuses the packages reserved for evaluation, malformed entries and unreadable files', () => {
    const cases: [unknown, string][] = [
      [[{ package: 'python3-skimage', file: 'astronaut.png', split: 'train' }], 'INVALID_ARGUMENT'],
      [[{ package: 'opencv-doc', file: 'lena.jpg', split: 'test' }], 'INVALID_ARGUMENT'],
      [[{ package: 'x', file: '../escape.jpg', split: 'train' }], 'INVALID_ARGUMENT'],
      [[{ package: 'x', file: 'a.jpg', split: 'holdout' }], 'INVALID_ARGUMENT'],
      ['not a list', 'INVALID_ARGUMENT'],
    ];
    for (const [photos, code] of cases) {
      const root = manifestIn(tempDir(), photos);
      let error: unknown;
      try {
        loadPhotoManifest(root);
      } catch (e) {
        error = e;
      }
      expect(isSparseViTError(error, code as 'INVALID_ARGUMENT')).toBe(true);
    }
    const broken = tempDir();
    writeFileSync(join(broken, 'manifest.json'), '{ not json');
    expect(() => loadPhotoManifest(broken)).toThrow(/not JSON/);
    let missing: unknown;
    try {
      loadPhotoManifest(tempDir());
    } catch (e) {
      missing = e;
    }
    expect(isSparseViTError(missing, 'IO_ERROR')).toBe(true);
  });
});

describe('findPhotos', () => {
  it('lists image files recursively, sorted, skipping dot-files and other files', () => {
    const root = tempDir();
    mkdirSync(join(root, 'sub'));
    for (const name of ['b.JPG', 'a.png', '.hidden.png', 'notes.txt', 'sub/c.webp']) writeFileSync(join(root, name), '');
    expect(findPhotos(root)).toEqual([join(root, 'a.png'), join(root, 'b.JPG'), join(root, 'sub', 'c.webp')]);
  });
});
