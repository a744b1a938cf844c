import { describe, expect, it } from 'vitest';
import { imageStem, pairByName, pairDatasetFiles } from './pair-dataset';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';

/** The call must throw `SparseViTError('INVALID_ARGUMENT')`; returns it. */
const catchError = (fn: () => unknown) => expectSparseViTErrorSync(fn, 'INVALID_ARGUMENT');

describe('imageStem', () => {
  it('accepts image extensions case-insensitively, rejects others', () => {
    expect(imageStem('a.b.JPG')).toBe('a.b');
    expect(imageStem('x.tiff')).toBe('x');
    expect(imageStem('x.webp')).toBe('x');
    expect(imageStem('x.txt')).toBeNull();
    expect(imageStem('.DS_Store')).toBeNull();
    expect(imageStem('noext')).toBeNull();
    expect(imageStem('.png')).toBeNull();
  });
});

describe('pairByName', () => {
  it('pairs CASIA _gt masks, _mask masks and same stems with other extensions', () => {
    const r = pairDatasetFiles(
      ['Sp_D_CND_A_pla0005_pla0023_0281.jpg', 'b.tif', 'c.jpeg', 'Thumbs.db'],
      ['Sp_D_CND_A_pla0005_pla0023_0281_gt.png', 'b_mask.png', 'c.PNG', '.DS_Store'],
    );
    expect(r.pairs).toEqual([
      { image: 'Sp_D_CND_A_pla0005_pla0023_0281.jpg', mask: 'Sp_D_CND_A_pla0005_pla0023_0281_gt.png' },
      { image: 'b.tif', mask: 'b_mask.png' },
      { image: 'c.jpeg', mask: 'c.PNG' },
    ]);
    expect(r.imagesWithoutMask).toEqual([]);
    expect(r.masksWithoutImage).toEqual([]);
    expect(r.ambiguous).toEqual([]);
    expect(r.ignored).toEqual(['.DS_Store', 'Thumbs.db']);
  });

  it('stems are case-sensitive', () => {
    const r = pairByName(['Img.jpg'], ['img_gt.png']);
    expect(r.pairs).toEqual([]);
    expect(r.imagesWithoutMask).toEqual(['Img.jpg']);
    expect(r.masksWithoutImage).toEqual(['img_gt.png']);
  });

  it('lists every unpaired file on both sides in ONE error, unless skipUnpaired', () => {
    const images = ['a.jpg', 'lonely1.jpg', 'lonely2.png'];
    const masks = ['a_gt.png', 'orphan_gt.png', 'other.png'];
    const err = catchError(() => pairDatasetFiles(images, masks));
    for (const name of ['lonely1.jpg', 'lonely2.png', 'orphan_gt.png', 'other.png']) expect(err.message).toContain(name);
    expect(err.message).not.toContain('a.jpg');
    expect(err.details).toEqual({ imagesWithoutMask: ['lonely1.jpg', 'lonely2.png'], masksWithoutImage: ['orphan_gt.png', 'other.png'] });
    const r = pairDatasetFiles(images, masks, { skipUnpaired: true });
    expect(r.pairs).toEqual([{ image: 'a.jpg', mask: 'a_gt.png' }]);
    expect(r.imagesWithoutMask).toEqual(['lonely1.jpg', 'lonely2.png']);
  });

  it('truncates long lists in the message but keeps them all in details', () => {
    const images = Array.from({ length: 80 }, (_, i) => `img${String(i).padStart(3, '0')}.jpg`);
    const err = catchError(() => pairDatasetFiles(images, [], { maxListed: 10 }));
    expect(err.message).toContain('... and 70 more');
    expect((err.details as { imagesWithoutMask: string[] }).imagesWithoutMask).toHaveLength(80);
  });

  it('resolves ambiguity deterministically: same stem > _gt > _mask, then name order', () => {
    const masks = ['x_mask.png', 'x_gt.png', 'x.png'];
    for (const order of [masks, [...masks].reverse()]) {
      const r = pairDatasetFiles(['x.jpg'], order);
      expect(r.pairs).toEqual([{ image: 'x.jpg', mask: 'x.png' }]);
      expect(r.ambiguous).toEqual([
        { file: 'x.jpg', side: 'image', candidates: ['x.png', 'x_gt.png', 'x_mask.png'], chosen: 'x.png' },
        { file: 'x_gt.png', side: 'mask', candidates: ['x.jpg'], chosen: null },
        { file: 'x_mask.png', side: 'mask', candidates: ['x.jpg'], chosen: null },
      ]);
      // The spare masks are reported as ambiguous, neither errors nor "without image".
      expect(r.masksWithoutImage).toEqual([]);
    }
    const r2 = pairByName(['y.jpg'], ['y.tif', 'y.png']);
    expect(r2.pairs).toEqual([{ image: 'y.jpg', mask: 'y.png' }]);
    expect(r2.ambiguous[0].candidates).toEqual(['y.png', 'y.tif']);
  });

  it('gives a mask claimed by two images to the better match; the loser is unpaired', () => {
    // a_gt.jpg matches a_gt.png by stem (rank 0); a.jpg matches it by _gt (rank 1).
    const r = pairByName(['a.jpg', 'a_gt.jpg'], ['a_gt.png']);
    expect(r.pairs).toEqual([{ image: 'a_gt.jpg', mask: 'a_gt.png' }]);
    expect(r.imagesWithoutMask).toEqual(['a.jpg']);
    expect(r.ambiguous).toContainEqual({ file: 'a.jpg', side: 'image', candidates: ['a_gt.png'], chosen: null });
    expect(r.ambiguous).toContainEqual({ file: 'a_gt.png', side: 'mask', candidates: ['a_gt.jpg', 'a.jpg'], chosen: 'a_gt.jpg' });
    // Two images with one stem: the first by name wins, the other is unpaired (and so an error).
    const r2 = pairByName(['z.png', 'z.jpg'], ['z_gt.png']);
    expect(r2.pairs).toEqual([{ image: 'z.jpg', mask: 'z_gt.png' }]);
    expect(r2.imagesWithoutMask).toEqual(['z.png']);
    expect(() => pairDatasetFiles(['z.png', 'z.jpg'], ['z_gt.png'])).toThrow(/z\.png/);
  });

  it('is independent of the input order and ignores duplicates', () => {
    const images = ['c.jpg', 'a.jpg', 'b.jpg', 'a.jpg'];
    const masks = ['b_gt.png', 'c.png', 'a_mask.png'];
    const r1 = pairByName(images, masks);
    const r2 = pairByName([...images].reverse(), [...masks].reverse());
    expect(r1).toEqual(r2);
    expect(r1.pairs.map((p) => p.image)).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
  });

  it('rejects non-arrays', () => {
    catchError(() => pairByName('a.jpg' as unknown as string[], []));
  });
});
