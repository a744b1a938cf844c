import { runServerCommand } from './serve';

/** `sparsevit worker`: runs the jobs `sparsevit scan` queued. */
export const workerCommand = (argv: string[]): Promise<number> => runServerCommand('worker', argv);
