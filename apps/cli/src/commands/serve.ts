import { UsageError } from '../usage-error';

/**
 * Runs one of @sparsevit/server's commands, with its usage errors turned into the CLI's own so
 * they print and exit like every other command's. The server package (Fastify, BullMQ) is
 * loaded only when one of these commands runs.
 */
export async function runServerCommand(name: 'serve' | 'scan' | 'worker', argv: string[]): Promise<number> {
  const commands = await import('@sparsevit/server/commands');
  const main = { serve: commands.serveMain, scan: commands.scanMain, worker: commands.workerMain }[name];
  try {
    return await main(argv);
  } catch (error) {
    if (error instanceof commands.CommandUsageError) throw new UsageError(error.message, name);
    throw error;
  }
}

/** `sparsevit serve`: the HTTP service (see apps/server/README.md). */
export const serveCommand = (argv: string[]): Promise<number> => runServerCommand('serve', argv);
