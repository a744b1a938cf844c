/**
 * Ctrl-C and SIGTERM for the long-running commands (`detect`, `eval`), handled alike:
 *
 * - the first signal asks the run to stop after the current batch (`signal` aborts); the command
 *   then writes its summary or reports for what was done and exits 130;
 * - a second signal stops at once, but still cleanly: `onForcedStop` runs synchronously (it
 *   writes a valid summary of what was done, atomically, and removes temporary files), then the
 *   process exits 130. Nothing half-written is left behind.
 *
 * A supervisor's SIGTERM (systemd, docker stop, a CI timeout) is a request to stop like Ctrl-C,
 * not a reason to lose the run.
 */
import { removeTemporaryFilesSync, writeFileAtomicSync } from './atomic-write';
import type { Progress } from './progress';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface Interrupts {
  /** Aborts at the first signal. */
  readonly signal: AbortSignal;
  readonly interrupted: boolean;
  /** Removes the handlers (call when the run is over). */
  dispose(): void;
}

export function handleInterrupts(onForcedStop: () => void, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Interrupts {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      log(`sparsevit: ${name}: stopping after the current batch (send it again to stop now)`);
      controller.abort();
      return;
    }
    log(`sparsevit: ${name} again: stopping now`);
    try {
      onForcedStop();
    } catch (error) {
      log(`sparsevit: ${(error as Error).message}`);
    }
    process.exit(130);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    get interrupted() {
      return controller.signal.aborted;
    },
    dispose() {
      for (const s of SIGNALS) process.removeListener(s, onSignal);
    },
  };
}

/**
 * `handleInterrupts` for a run that reports progress and keeps one record file (`summary.json`,
 * `report.json`): a forced stop clears the progress bar, removes temporary files and writes
 * `record()` to `path`, atomically.
 */
export function handleRunInterrupts(progress: Progress, path: string, record: () => string): Interrupts {
  return handleInterrupts(
    () => {
      progress.stop();
      removeTemporaryFilesSync();
      writeFileAtomicSync(path, record());
    },
    (line) => progress.log(line),
  );
}
