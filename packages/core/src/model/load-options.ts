/**
 * What every adapter's `loadModel` accepts, declared once: each adapter extends
 * `BaseLoadModelOptions` with its own `weights` input, devices and runtime settings (as
 * react-query's options extend query-core's), and checks them with the same functions, so an
 * option means the same thing, with the same error, on every runtime.
 */
import type { ConfigInput } from '../config/resolve-config';
import { SparseViTError } from '../errors';
import type { WeightsFormat } from '../weights/load-weights';

export interface BaseLoadModelOptions {
  /** Weights format; detected from the file's first bytes when omitted. */
  format?: WeightsFormat;
  /** A preset name (`base`, `small`, `tiny`) or a config object; default: the weights' metadata, else the `base` preset. */
  config?: ConfigInput;
  /** Images per forward pass in `detectBatch` / `detectStream`. Default 1. */
  batchSize?: number;
  /** Largest accepted image, in pixels; larger ones fail with `IMAGE_TOO_LARGE` before they are decoded. Default 100 MP. */
  maxPixels?: number;
}

/**
 * `loadModel`'s argument, checked to be an options object: called from JavaScript with nothing,
 * a path string or `null`, every adapter answers `INVALID_ARGUMENT` with an example, not a
 * `TypeError` from reading a field of it.
 */
export function checkLoadModelOptions(options: unknown, example: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SparseViTError('INVALID_ARGUMENT', `loadModel takes an options object, e.g. loadModel(${example}); got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
}

/** `value`, checked to be a positive safe integer (`INVALID_ARGUMENT` naming `name` otherwise). */
export function checkPositiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new SparseViTError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** A detection threshold, checked to be a finite number. */
export function checkThreshold(threshold: number): number {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw new SparseViTError('INVALID_ARGUMENT', `threshold must be a finite number, got ${String(threshold)}`);
  }
  return threshold;
}

/** `value`, checked to be one of `allowed` (an adapter's devices, say). */
export function checkOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new SparseViTError('INVALID_ARGUMENT', `${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  return value as T;
}
