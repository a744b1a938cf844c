import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` in strict mode, its errors (unknown flag, missing value) turned into
 * `UsageError`s for `command`.
 */
export function parseCommandArgs(
  command: string,
  args: string[],
  options: Options,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // Node's messages go on with advice about `--`; the first sentence is the point.
    const message = (error as Error).message.split(/\.\s/)[0];
    throw new UsageError(message, command);
  }
}

/** A number option: finite, optionally an integer >= 1, within `[min, max]`. */
export function numberOption(
  command: string,
  name: string,
  value: string | undefined,
  rules: { integer?: boolean; min?: number; max?: number } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? Number.NaN : Number(value);
  const { integer = false, min = -Infinity, max = Infinity } = rules;
  const ok = Number.isFinite(n) && (!integer || Number.isSafeInteger(n)) && n >= min && n <= max;
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new UsageError(`--${name} must be ${kind} ${range}, got "${value}"`, command);
  }
  return n;
}

/** A required string option. */
export function requiredOption(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`, command);
  return value;
}
