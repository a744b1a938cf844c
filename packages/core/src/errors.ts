/**
 * Every failure the SDK reports is a `SparseViTError` with a stable `code`, so callers can branch
 * on the kind of failure (`err.code === 'IMAGE_TOO_LARGE'`) without parsing messages, and a batch
 * can record the failure of one input and carry on.
 */
export type SparseViTErrorCode =
  /** The config is inconsistent (sparse sizes that do not divide the feature map, ...). */
  | 'INVALID_CONFIG'
  /** A weights file is truncated, malformed or points outside itself. */
  | 'CORRUPT_WEIGHTS'
  /** A checkpoint names a Python global outside the allow-list; nothing was executed. */
  | 'UNSAFE_CHECKPOINT'
  /** The weights do not map onto the graph: missing, unexpected or mis-shaped keys. */
  | 'WEIGHTS_MISMATCH'
  /** A file format or a feature of one that is not supported (compressed zip entry, dtype). */
  | 'UNSUPPORTED_FORMAT'
  /** The bytes are not a decodable image (not an image, truncated, zero bytes). */
  | 'INVALID_IMAGE'
  /** The image has more pixels than the configured limit. */
  | 'IMAGE_TOO_LARGE'
  /**
   * The image decodes, but its shape is outside what the pipeline takes: a side longer than
   * `MAX_IMAGE_SIDE` or an aspect ratio beyond `MAX_ASPECT_RATIO` (a 50,000,000 x 1 strip).
   */
  | 'UNSUPPORTED_IMAGE_SHAPE'
  /** The requested execution backend or device is not available here. */
  | 'BACKEND_UNAVAILABLE'
  /** The model was used after `dispose()`. */
  | 'DISPOSED'
  /** The caller aborted the operation (an `AbortSignal` fired). */
  | 'ABORTED'
  /** A call's arguments are wrong (bad threshold, unknown device name, ...). */
  | 'INVALID_ARGUMENT'
  /** Training stopped: the loss became NaN or infinite (the last good checkpoint is kept). */
  | 'TRAINING_DIVERGED'
  /** A file could not be read or written. */
  | 'IO_ERROR';

/**
 * Longest message a `SparseViTError` carries, in characters. Messages quote file data (names,
 * keys, values), which readers already cut (`quoteText`, `describeValue`); this is the backstop,
 * so that no input can make an error message itself large. `details` keeps the full lists.
 */
export const MAX_ERROR_MESSAGE_LENGTH = 1900;

function boundMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return message;
  const note = ` ... (cut from ${message.length} characters)`;
  return message.slice(0, MAX_ERROR_MESSAGE_LENGTH - note.length) + note;
}

export class SparseViTError extends Error {
  override readonly name = 'SparseViTError';
  readonly code: SparseViTErrorCode;
  /** Structured detail for programmatic use (e.g. the list of mismatched keys). */
  readonly details?: unknown;

  constructor(code: SparseViTErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(boundMessage(String(message)), options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }
}

export function isSparseViTError(value: unknown, code?: SparseViTErrorCode): value is SparseViTError {
  return value instanceof SparseViTError && (code === undefined || value.code === code);
}

/** The error an aborted load or detection rejects with; the signal's reason is the cause. */
export function abortError(signal?: AbortSignal): SparseViTError {
  return new SparseViTError('ABORTED', 'the operation was aborted', { cause: signal?.reason });
}

/** Throws `abortError(signal)` when the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
