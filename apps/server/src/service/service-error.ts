import { isSparseViTError, type SparseViTErrorCode } from '@sparsevit/node';

/**
 * The codes an error response carries: the SDK's own (`INVALID_IMAGE`, `IMAGE_TOO_LARGE`, ...)
 * for what the model or the decoder refused, and the service's for what HTTP refused.
 */
export type ServiceErrorCode =
  | SparseViTErrorCode
  /** No API key, or one that is not configured. */
  | 'UNAUTHORIZED'
  /** The request body is over the byte limit. */
  | 'PAYLOAD_TOO_LARGE'
  /** The body is not an image upload (multipart, `image/*` or `application/octet-stream`). */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** `Accept` asks for a representation the route cannot give. */
  | 'NOT_ACCEPTABLE'
  /** The admission queue is full: retry after `Retry-After` seconds. */
  | 'OVERLOADED'
  /** The request waited and ran longer than the inference timeout. */
  | 'TIMEOUT'
  /** The request itself (headers and body) did not arrive within the request timeout. */
  | 'REQUEST_TIMEOUT'
  /** The model is still loading or warming up. */
  | 'NOT_READY'
  /** The server is shutting down and takes no new work. */
  | 'SHUTTING_DOWN'
  | 'NOT_FOUND'
  /** Anything unexpected; the details are in the server's log, never in the response. */
  | 'INTERNAL';

/** HTTP status of each code a request can meet; any other (a model-loading code) is a 500. */
const STATUS: Partial<Record<ServiceErrorCode, number>> = {
  INVALID_IMAGE: 422,
  IMAGE_TOO_LARGE: 413,
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_ACCEPTABLE: 406,
  NOT_FOUND: 404,
  OVERLOADED: 503,
  TIMEOUT: 503,
  REQUEST_TIMEOUT: 408,
  NOT_READY: 503,
  SHUTTING_DOWN: 503,
  DISPOSED: 503,
  BACKEND_UNAVAILABLE: 503,
  ABORTED: 503,
};

/** An error the service answers with `{ error: { code, message } }` and its status. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  readonly statusCode: number;
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;

  constructor(code: ServiceErrorCode, message: string, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.statusCode = STATUS[code] ?? 500;
    this.headers = options.headers ?? {};
  }
}

/** The body of every error response. */
export interface ErrorBody {
  error: { code: ServiceErrorCode; message: string };
}

const UPLOAD_HINT = 'send the image as the body (Content-Type image/* or application/octet-stream) or as a multipart file';

/** Fastify's and @fastify/multipart's own errors, by their code: the service's code, and a clearer message where theirs is terse. */
const FRAMEWORK_CODES: Record<string, [ServiceErrorCode, string?]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'the request body is larger than the limit'],
  FST_REQ_FILE_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'the uploaded file is larger than the limit'],
  FST_FILES_LIMIT: ['PAYLOAD_TOO_LARGE', 'send one file per request'],
  FST_PARTS_LIMIT: ['PAYLOAD_TOO_LARGE', 'the multipart body has too many parts'],
  FST_FIELDS_LIMIT: ['PAYLOAD_TOO_LARGE', 'the multipart body has too many fields'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', UPLOAD_HINT],
  FST_INVALID_MULTIPART_CONTENT_TYPE: ['UNSUPPORTED_MEDIA_TYPE', UPLOAD_HINT],
};

/**
 * Any error as the `ServiceError` to answer with. The SDK's errors keep their code and message
 * (they describe the input, not the server); a framework error with a 4xx status becomes
 * `INVALID_ARGUMENT` with its message; everything else is `INTERNAL` with a fixed message, so
 * no stack trace, path or library detail reaches a client.
 */
export function toServiceError(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  if (isSparseViTError(error)) return new ServiceError(error.code, error.message, { cause: error });
  const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown; validationContext?: string };
  if (e.validation) return new ServiceError('INVALID_ARGUMENT', e.message ?? 'invalid request', { cause: error });
  const mapped = e.code !== undefined && Object.hasOwn(FRAMEWORK_CODES, e.code) ? FRAMEWORK_CODES[e.code] : undefined;
  if (mapped) return new ServiceError(mapped[0], mapped[1] ?? e.message ?? mapped[0], { cause: error });
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ServiceError('INVALID_ARGUMENT', e.message ?? 'bad request', { cause: error });
  }
  return new ServiceError('INTERNAL', 'internal error (see the server log)', { cause: error });
}

/**
 * Errors Node's HTTP parser meets before any route runs (a request that did not arrive in time,
 * malformed HTTP), answered in the same `{ error: { code, message } }` shape, then the socket is
 * closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: import('node:stream').Duplex): void {
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return void socket.destroy();
  const failure =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new ServiceError('REQUEST_TIMEOUT', 'the request was not received within the request timeout')
      : new ServiceError('INVALID_ARGUMENT', 'malformed HTTP request');
  const body = JSON.stringify({ error: { code: failure.code, message: failure.message } } satisfies ErrorBody);
  if (socket.writable && (socket as { bytesWritten?: number }).bytesWritten === 0) {
    const reason = failure.statusCode === 408 ? 'Request Timeout' : 'Bad Request';
    socket.write(`HTTP/1.1 ${failure.statusCode} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
