import { readFile } from 'node:fs/promises';
import { UsageError } from './usage-error';

/**
 * Refuses `--resume` into a folder whose record (`summary.json` of `detect`, `report.json` of
 * `eval`) was made with other settings: every key of `identity` that the record also holds must
 * have the same value. A record that is missing or unreadable is no objection.
 */
export async function checkResumeIdentity(command: string, recordPath: string, identity: Record<string, unknown>): Promise<void> {
  const previous = await readFile(recordPath, 'utf8').then(
    (t) => JSON.parse(t) as { resumeIdentity?: Record<string, unknown> },
    () => undefined,
  );
  for (const [key, value] of Object.entries(identity)) {
    const before = previous?.resumeIdentity?.[key];
    if (before !== undefined && JSON.stringify(before) !== JSON.stringify(value)) {
      throw new UsageError(
        `--resume: ${recordPath} was made with ${key} ${JSON.stringify(before)}, not ${JSON.stringify(value)}; use the same settings, or another --out without --resume`,
        command,
      );
    }
  }
}
