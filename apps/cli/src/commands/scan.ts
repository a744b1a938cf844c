import { runServerCommand } from './serve';

/** `sparsevit scan`: queues images for `sparsevit worker` on Redis, or `--status`. */
export const scanCommand = (argv: string[]): Promise<number> => runServerCommand('scan', argv);
