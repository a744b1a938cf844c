import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('the shared load options', () => {
  it('are documented in every adapter README in the words of core’s', () => {
    const script = fileURLToPath(new URL('../../../tooling/scripts/sync-load-options.mjs', import.meta.url));
    // Exits 1 and names the READMEs that differ.
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
