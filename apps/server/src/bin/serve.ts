import { serveMain } from '../commands/commands';
import { runCommand } from '../commands/run-command';
import { SERVE_USAGE } from '../commands/usage';

runCommand('sparsevit-serve', serveMain, SERVE_USAGE);
