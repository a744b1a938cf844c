import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The benchmarks' command lines, parsed as the CLI's are: `--help` prints the usage and exits 0;
 * an unknown or malformed option prints one line saying what is wrong, then the usage, and
 * exits 2 (Node's parseArgs throws a bare ERR_PARSE_ARGS_* stack otherwise).
 */
type BenchOptions = NonNullable<ParseArgsConfig['options']>;
/** The parsed values of `options`, typed as `parseArgs` types them. */
export type BenchValues<T extends BenchOptions> = ReturnType<typeof parseArgs<{ options: T; allowPositionals: false }>>['values'];

export function parseBenchArgs<T extends BenchOptions>(name: string, usage: string, options: T): BenchValues<T> {
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
    if ((parsed.values as { help?: boolean }).help) {
      process.stdout.write(`${usage.trimEnd()}\n`);
      process.exit(0);
    }
    return parsed.values as BenchValues<T>;
  } catch (error) {
    process.stderr.write(`${name}: ${(error as Error).message}\n\n${usage.trimEnd()}\n`);
    process.exit(2);
  }
}

/** A positive integer option, or a usage error naming it. */
export function positiveInteger(name: string, flag: string, text: string | undefined, usage: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    process.stderr.write(`${name}: --${flag} must be a positive integer, got ${JSON.stringify(text)}\n\n${usage.trimEnd()}\n`);
    process.exit(2);
  }
  return value;
}
