import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assignStems, collectInputs } from './collect-inputs';

describe('assignStems', () => {
  it('keeps unique stems and numbers the later duplicates', () => {
    const stems = assignStems(['a/x.png', 'b/x.jpg', 'c/y.png', 'd/x.webp']).map((i) => i.stem);
    expect(stems).toEqual(['x', 'x-2', 'y', 'x-3']);
  });

  it('compares case-insensitively, skips stems another input has and reserves "summary"', () => {
    const stems = assignStems(['a/Photo.png', 'b/photo.png', 'c/photo-2.png', 'summary.png']).map((i) => i.stem);
    expect(stems).toEqual(['Photo', 'photo-3', 'photo-2', 'summary-2']);
  });

  it('keeps dotted names and extensionless files whole', () => {
    expect(assignStems(['img.final.png', '.hidden', 'noext']).map((i) => i.stem)).toEqual(['img.final', '.hidden', 'noext']);
  });
});

describe('collectInputs', () => {
  it('expands folders to their image files (sorted, not recursive) and runs a file once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sparsevit-cli-collect-'));
    await mkdir(join(dir, 'sub'));
    for (const name of ['b.PNG', 'a.jpg', 'c.txt', '.hidden.png', 'sub/d.png']) await writeFile(join(dir, name), '');
    await writeFile(join(dir, 'drawing.svg'), '<svg/>');
    const { inputs, folders, skipped } = await collectInputs([dir, join(dir, 'a.jpg'), join(dir, 'missing.png')]);
    expect(inputs.map((i) => i.path)).toEqual([join(dir, 'a.jpg'), join(dir, 'b.PNG'), join(dir, 'missing.png')]);
    expect(folders).toEqual([dir]);
    // Skipped files are listed (hidden ones are not), with the reason.
    expect(skipped.map((s) => s.path)).toEqual([join(dir, 'c.txt'), join(dir, 'drawing.svg')]);
    expect(skipped[0].reason).toMatch(/^not an image extension \(\.jpg .*\.avif\)$/);
  });
});
