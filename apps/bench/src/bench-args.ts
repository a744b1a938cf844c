import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The benchmarks' command lines, parsed as the CLI's are: `--help` prints the usage and exits 0;
 * an unknown or malformed option prints one line saying what is wrong, then the usage, and
 * exits 2 (Node's parseArgs throws a bare ERR_PARSE_ARGS_* stack otherwise).
 */
export function parseBenchArgs<T extends NonNullable<ParseArgsConfig['options']>>(name: string, usage: string, options: T) {
  try {
    const parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } as T & { help: { type: 'boolean'; short: 'h' } }, allowPositionals: false });
    if (parsed.values.help) {
      process.stdout.write(`${usage.trimEnd()}\n`);
      process.exit(0);
    }
    return parsed.values;
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
