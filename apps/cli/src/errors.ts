import { SparseViTError, isSparseViTError } from '@sparsevit/core';

/**
 * How the CLI reports errors: a `SparseViTError` (from the packages, or raised here with
 * `@sparsevit/core`'s class) as `CODE: message`, anything else by its message. Core is pure
 * JavaScript, so `--help` and usage errors still start without ONNX Runtime or sharp.
 */

/** The first line of a (possibly multi-line) message, for one-line reports on stderr. */
export function firstLine(message: string): string {
  const i = message.indexOf('\n');
  return i < 0 ? message.trim() : message.slice(0, i).replace(/:\s*$/, '').trim();
}

/** A short multi-line message (a list of config problems) joined into one line; a long one cut. */
export function oneLine(message: string, maxLines = 8): string {
  const lines = message.split('\n').map((l) => l.trim().replace(/^- /, '')).filter((l) => l.length > 0);
  if (lines.length <= 1) return lines[0] ?? '';
  const [head, ...rest] = lines;
  const shown = rest.slice(0, maxLines);
  const more = rest.length > shown.length ? `; ... ${rest.length - shown.length} more` : '';
  return `${head.replace(/:$/, '')}: ${shown.join('; ')}${more}`;
}

/** `{code, message}` for summary.json: a `SparseViTError`'s own, else `IO_ERROR` (a failed write). */
export function errorRecord(error: unknown): { code: string; message: string } {
  if (isSparseViTError(error)) return { code: error.code, message: error.message };
  return { code: 'IO_ERROR', message: error instanceof Error ? error.message : String(error) };
}

/**
 * One line for an error: `CODE: message`, and for a weights mismatch the number of missing,
 * unexpected and mis-shaped keys (the message itself lists them over many lines).
 */
export function describeError(error: unknown): string {
  if (!isSparseViTError(error)) return firstLine(error instanceof Error ? error.message : String(error));
  let line = `${error.code}: ${error.code === 'WEIGHTS_MISMATCH' ? firstLine(error.message) : oneLine(error.message)}`;
  const details = error.details as { missing?: unknown[]; unexpected?: unknown[]; misshaped?: unknown[]; hint?: string } | undefined;
  if (error.code === 'WEIGHTS_MISMATCH' && details) {
    const parts = (
      [
        [details.missing, 'missing'],
        [details.unexpected, 'unexpected'],
        [details.misshaped, 'wrong shape or dtype'],
      ] as const
    )
      .filter(([list]) => Array.isArray(list) && list.length > 0)
      .map(([list, label]) => `${list!.length} ${label}, first: ${String(list![0])}`);
    if (parts.length > 0) line += ` (${parts.join('; ')})`;
  }
  if (details?.hint) line += `; ${details.hint}`;
  return line;
}

/**
 * A weights-loading error with the file named, and for a mismatch without `--config` the likely
 * cause (the weights are not the base model and carry no config). A device that cannot start is
 * left as it is: the weights are not at fault.
 */
export function explainLoadError(error: unknown, weights: string, configFromWeights: boolean): unknown {
  if (!isSparseViTError(error) || error.code === 'BACKEND_UNAVAILABLE') return error;
  const hint = error.code === 'WEIGHTS_MISMATCH' && configFromWeights ? 'not the base model? pass its config with --config' : undefined;
  const details = hint ? { ...(error.details as object | undefined), hint } : error.details;
  return new SparseViTError(error.code, `cannot load the weights ${weights}: ${error.message}`, { cause: error, details });
}
