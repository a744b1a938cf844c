import { workerMain } from '../commands/commands';
import { runCommand } from '../commands/run-command';
import { WORKER_USAGE } from '../commands/usage';

runCommand('sparsevit-worker', workerMain, WORKER_USAGE);
