// One hostile case through the library, in its own process so that its time and peak memory
// are its own: `node run-case.mjs <root> <kind> <file> <tiny|file>`. Prints one JSON line:
// { code, messageLength, ms, maxRssKb } (`code` is `ok`, a SparseViTError code, or `untyped: ...`).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [root, kind, file, configFrom] = process.argv.slice(2);
const { loadModel } = await import(join(root, 'packages/node/dist/index.js'));
const tiny = join(root, 'tooling/fixtures/sparsevit-tiny');
const config = JSON.parse(readFileSync(join(tiny, 'config.json'), 'utf8'));

let model;
if (kind === 'image') model = await loadModel({ weights: join(tiny, 'checkpoint.pth'), config });
const t0 = performance.now();
let outcome;
try {
  if (kind === 'image') await model.detect(file);
  else await (await loadModel({ weights: file, config: configFrom === 'tiny' ? config : undefined })).dispose();
  outcome = { code: 'ok', messageLength: 0 };
} catch (error) {
  outcome =
    error?.name === 'SparseViTError' && typeof error.code === 'string'
      ? { code: error.code, messageLength: String(error.message).length }
      : { code: `untyped: ${String(error?.message ?? error).slice(0, 200)}`, messageLength: String(error?.message ?? '').length };
}
const ms = performance.now() - t0;
await model?.dispose();
process.stdout.write(`${JSON.stringify({ ...outcome, ms, maxRssKb: process.resourceUsage().maxRSS })}\n`);
