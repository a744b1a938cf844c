import { parseArgs } from 'node:util';

/** A command-line mistake: the command prints it with its usage and exits with code 2. */
export class CommandUsageError extends Error {
  override readonly name = 'CommandUsageError';
  /** `serve`, `scan` or `worker`. */
  readonly command: string;

  constructor(command: string, message: string) {
    super(message);
    this.command = command;
  }
}

/** One flag: its kind decides how the text is read and checked. */
export type OptionSpec =
  | { kind: 'string'; short?: string; multiple?: boolean }
  | { kind: 'flag'; short?: string }
  | { kind: 'integer' | 'number'; short?: string; min: number; max?: number };

export type OptionTable = Record<string, OptionSpec>;

type Parsed<T extends OptionTable> = {
  [K in keyof T]?: T[K] extends { kind: 'flag' } ? boolean : T[K] extends { kind: 'integer' | 'number' } ? number : T[K] extends { multiple: true } ? string[] : string;
};

/**
 * Parses `argv` against `table` in strict mode: unknown flags, missing values and numbers out
 * of range are `CommandUsageError`s naming `command`. `--help` is always known.
 */
export function parseOptions<T extends OptionTable>(command: string, argv: string[], table: T): { options: Parsed<T>; positionals: string[]; help: boolean } {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(table)) {
    config[name] = { type: spec.kind === 'flag' ? 'boolean' : 'string' };
    if (spec.short) config[name].short = spec.short;
    if (spec.kind === 'string' && spec.multiple) config[name].multiple = true;
  }
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true }));
  } catch (error) {
    throw new CommandUsageError(command, (error as Error).message.split(/\.\s/)[0]);
  }
  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(table)) {
    const value = values[name];
    if (value === undefined) continue;
    if (spec.kind === 'integer' || spec.kind === 'number') {
      const n = Number(value);
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      if ((value as string).trim() === '' || !Number.isFinite(n) || (spec.kind === 'integer' && !Number.isSafeInteger(n)) || n < spec.min || n > max) {
        const range = spec.max === undefined ? `>= ${spec.min}` : `in [${spec.min}, ${spec.max}]`;
        throw new CommandUsageError(command, `--${name} must be ${spec.kind === 'integer' ? 'an integer' : 'a number'} ${range}, got "${String(value)}"`);
      }
      options[name] = n;
    } else {
      options[name] = value;
    }
  }
  return { options: options as Parsed<T>, positionals, help: Boolean(values.help) };
}

/** A required string option. */
export function required(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new CommandUsageError(command, `--${name} is required`);
  return value;
}
