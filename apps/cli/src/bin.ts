import { isSparseViTError } from '@sparsevit/core';
import { describeError } from './errors';
import { MAIN_USAGE, USAGE, printHelp } from './help';
import { UsageError } from './usage-error';
import { version } from './version';

/**
 * Exit codes: 0 success; 1 a failure (an input, the weights, a file); 2 a usage error; 130 interrupted.
 * Commands are loaded on demand, and load the runtime (onnxruntime, sharp) only once their
 * arguments are checked: `--help` and usage errors answer at once.
 */
const COMMANDS: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  detect: async () => (await import('./commands/detect')).detectCommand,
  convert: async () => (await import('./commands/convert')).convertCommand,
  export: async () => (await import('./commands/export')).exportCommand,
  eval: async () => (await import('./commands/eval')).evalCommand,
  calibrate: async () => (await import('./commands/calibrate')).calibrateCommand,
  synth: async () => (await import('./commands/synth')).synthCommand,
  train: async () => (await import('./commands/train')).trainCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  scan: async () => (await import('./commands/scan')).scanCommand,
  worker: async () => (await import('./commands/worker')).workerCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('no command given');
  if (command === '--help' || command === '-h' || command === 'help') {
    return printHelp(rest[0] !== undefined && USAGE[rest[0]] ? USAGE[rest[0]] : MAIN_USAGE);
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!load) throw new UsageError(command.startsWith('-') ? `unknown option "${command}"` : `unknown command "${command}"`);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      const usage = (error.command ? USAGE[error.command] : MAIN_USAGE).split('\n')[0];
      const help = error.command ? `sparsevit ${error.command} --help` : 'sparsevit --help';
      process.stderr.write(`sparsevit: ${error.message}\n${usage}\nRun '${help}' for the options.\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`sparsevit: ${describeError(error)}\n`);
    if (!isSparseViTError(error) && process.env.SPARSEVIT_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ''}\n`);
    process.exitCode = 1;
  },
);
