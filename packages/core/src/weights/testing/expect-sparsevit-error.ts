/**
 * Test-only (imports vitest; not part of `@sparsevit/core/testing`): asserts that a promise
 * rejects, or a function throws, a `SparseViTError` with `code` (and a message matching
 * `message`), and returns the error for further checks.
 */
import { expect } from 'vitest';
import { SparseViTError } from '../../errors';

function checkSparseViTError(err: unknown, code: string, message?: RegExp): SparseViTError {
  expect(err, 'expected a SparseViTError').toBeInstanceOf(SparseViTError);
  const e = err as SparseViTError;
  expect(e.code, e.message).toBe(code);
  if (message) expect(e.message).toMatch(message);
  return e;
}

export async function expectSparseViTError(action: Promise<unknown>, code: string, message?: RegExp): Promise<SparseViTError> {
  return checkSparseViTError(await action.then(() => undefined, (e: unknown) => e), code, message);
}

export function expectSparseViTErrorSync(action: () => unknown, code: string, message?: RegExp): SparseViTError {
  let err: unknown;
  try {
    action();
  } catch (e) {
    err = e;
  }
  return checkSparseViTError(err, code, message);
}

/** The `code` of the `SparseViTError` a call throws; `'other'` for another error, `'none'` if it returns. */
export function thrownErrorCode(action: () => unknown): string {
  try {
    action();
  } catch (err) {
    return err instanceof SparseViTError ? err.code : 'other';
  }
  return 'none';
}
