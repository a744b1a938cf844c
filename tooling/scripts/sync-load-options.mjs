#!/usr/bin/env node
// Copies the shared load options (between the shared-load-options markers of
// packages/core/README.md, the one place they are written) into each adapter's README, so every
// adapter documents them in the same words. `--check` only reports READMEs that differ (exit 1);
// core's test suite runs that check.
//
//   node tooling/scripts/sync-load-options.mjs [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ADAPTERS = ['packages/node/README.md', 'packages/web/README.md', 'packages/tfjs/README.md'];
const BLOCK = /<!-- shared-load-options:start[^>]*-->[\s\S]*?<!-- shared-load-options:end -->/;

const source = readFileSync(join(repo, 'packages/core/README.md'), 'utf8').match(BLOCK)?.[0];
if (!source) {
  console.error('sync-load-options: packages/core/README.md has no shared-load-options block');
  process.exit(1);
}
const check = process.argv.includes('--check');
const stale = [];
for (const file of ADAPTERS) {
  const text = readFileSync(join(repo, file), 'utf8');
  const current = text.match(BLOCK)?.[0];
  if (current === source) continue;
  if (check || current === undefined) {
    stale.push(current === undefined ? `${file} (no shared-load-options block)` : file);
    continue;
  }
  writeFileSync(join(repo, file), text.replace(BLOCK, () => source));
  console.log(`sync-load-options: updated ${file}`);
}
if (stale.length > 0) {
  console.error(`sync-load-options: not in sync with packages/core/README.md: ${stale.join(', ')}${check ? ' (run node tooling/scripts/sync-load-options.mjs)' : ''}`);
  process.exit(1);
}
