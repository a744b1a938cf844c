import { scanMain } from '../commands/commands';
import { runCommand } from '../commands/run-command';
import { SCAN_USAGE } from '../commands/usage';

runCommand('sparsevit-scan', scanMain, SCAN_USAGE);
