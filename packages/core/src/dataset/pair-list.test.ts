import { describe, expect, it } from 'vitest';
import { parsePairList } from './pair-list';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';

/** The call must throw `SparseViTError('INVALID_ARGUMENT')`; returns it. */
const catchError = (fn: () => unknown) => expectSparseViTErrorSync(fn, 'INVALID_ARGUMENT');

/** What a Node caller passes: relative to the list's folder, absolute kept (POSIX here). */
const resolveFrom = (dir: string) => (p: string) => (p.startsWith('/') ? p : `${dir}/${p.replace(/^\.\//, '')}`);

describe('parsePairList', () => {
  it('parses entries, Negative -> authentic, paths through resolve', () => {
    const text = JSON.stringify([
      ['./Tp/6.jpg', './Gt/6.png'],
      ['/abs/Tp/7.jpg', '/abs/Gt/7_gt.png'],
      ['Tp/8.jpg', 'Negative'],
    ]);
    const entries = parsePairList(text, { resolve: resolveFrom('/data/casia') });
    expect(entries).toEqual([
      { index: 0, image: '/data/casia/Tp/6.jpg', mask: '/data/casia/Gt/6.png', label: 1 },
      { index: 1, image: '/abs/Tp/7.jpg', mask: '/abs/Gt/7_gt.png', label: 1 },
      { index: 2, image: '/data/casia/Tp/8.jpg', mask: null, label: 0 },
    ]);
  });

  it('keeps paths as written without resolve and accepts a parsed value', () => {
    expect(parsePairList([['a.jpg', 'Negative']])).toEqual([{ index: 0, image: 'a.jpg', mask: null, label: 0 }]);
  });

  it('"Negative" is case-sensitive, as in IMDLBenCo', () => {
    expect(parsePairList([['a.jpg', 'negative']])[0]).toEqual({ index: 0, image: 'a.jpg', mask: 'negative', label: 1 });
  });

  it('reports every bad entry by index in one error', () => {
    const err = catchError(() =>
      parsePairList(
        [
          ['ok.jpg', 'ok.png'],
          'str',
          ['only-one.jpg'],
          ['a.jpg', 'b.png', 'c'],
          [42, 'm.png'],
          ['x.jpg', ''],
          ['Negative', 'm.png'],
          ['y.jpg', null],
        ],
        { source: 'list.json' },
      ),
    );
    expect(err.message).toContain('list.json has 7 bad entries');
    for (const i of [1, 2, 3, 4, 5, 6, 7]) expect(err.message).toContain(`entry ${i}:`);
    expect(err.message).not.toContain('entry 0:');
    expect((err.details as { problems: { index: number }[] }).problems.map((p) => p.index)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rejects invalid JSON, non-arrays and empty lists', () => {
    expect(catchError(() => parsePairList('[["a.jpg", ')).message).toMatch(/not valid JSON/);
    expect(catchError(() => parsePairList('{"a": 1}')).message).toMatch(/must be a JSON array/);
    expect(catchError(() => parsePairList('[]')).message).toMatch(/empty/);
  });
});
