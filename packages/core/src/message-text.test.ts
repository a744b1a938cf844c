import { describe, expect, it } from 'vitest';
import { MAX_ERROR_MESSAGE_LENGTH, SparseViTError } from './errors';
import { describeValue, quoteText } from './message-text';

describe('quoteText', () => {
  it('quotes short text as JSON and cuts long text, saying how long it was', () => {
    expect(quoteText('a "b"')).toBe('"a \\"b\\""');
    const long = quoteText('x'.repeat(1_000_000));
    expect(long).toBe(`"${'x'.repeat(120)}..." (1000000 characters)`);
  });
});

describe('describeValue', () => {
  it('describes like Python, a few items and levels deep', () => {
    expect(describeValue([1, 'a', null, true, Object.freeze([2, 3]), new Map([['k', 1]])])).toBe('[1, "a", None, True, (2, 3), {"k"}]');
    expect(describeValue(Array.from({ length: 1000 }, (_, i) => i))).toBe('[0, 1, 2, 3, 4, 5, ... 994 more]');
    expect(describeValue(new Uint8Array(20_000_000))).toBe('<20000000 bytes>');
    expect(describeValue([[[[[1]]]]])).toBe('[[[[...]]]]');
  });

  it('costs nothing extra on a structure shared 40 levels deep, or a cycle', () => {
    let v: unknown[] = [];
    for (let i = 0; i < 40; i++) v = [v, v];
    expect(describeValue(v).length).toBeLessThan(300);
    const cycle: unknown[] = [];
    cycle.push(cycle, cycle);
    expect(describeValue(cycle)).toBe('[[[[...], [...]], [[...], [...]]], [[[...], [...]], [[...], [...]]]]');
    let deep: unknown[] = [];
    for (let i = 0; i < 2_000_000; i++) deep = [deep];
    expect(describeValue(deep)).toBe('[[[[...]]]]');
  });
});

describe('SparseViTError', () => {
  it('cuts a message longer than MAX_ERROR_MESSAGE_LENGTH, keeping its start', () => {
    const e = new SparseViTError('CORRUPT_WEIGHTS', `start ${'x'.repeat(10_000_000)}`);
    expect(e.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_LENGTH);
    expect(e.message.startsWith('start xxx')).toBe(true);
    expect(e.message.endsWith(' ... (cut from 10000006 characters)')).toBe(true);
    expect(new SparseViTError('INVALID_ARGUMENT', 'short').message).toBe('short');
  });
});
