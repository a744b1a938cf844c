import { CommandUsageError } from './option-table';

/**
 * Runs a command main as a process (`sparsevit-serve` and the others): exit code 2 and the
 * usage line for a usage error, 1 and `CODE: message` for any other failure.
 */
export function runCommand(program: string, main: (argv: string[]) => Promise<number>, usage: string): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof CommandUsageError) {
        process.stderr.write(`${program}: ${error.message}\n${usage.split('\n')[0]}\nRun '${program} --help' for the options.\n`);
        process.exitCode = 2;
        return;
      }
      const e = error as { code?: unknown; message?: string };
      process.stderr.write(`${program}: ${typeof e.code === 'string' ? `${e.code}: ` : ''}${e.message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
