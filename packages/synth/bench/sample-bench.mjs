// Median time of one sample, per output mode, on the photos in data/photos (train split).
//   pnpm --filter @sparsevit/synth build && node packages/synth/bench/sample-bench.mjs [--count N]
import { resolve } from 'node:path';
import { createSynthesizer, loadPhotoManifest } from '../dist/index.js';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--count') + 1] || 60);
const root = resolve(import.meta.dirname, '../../../data/photos');
const { train } = loadPhotoManifest(root);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

for (const mode of [{ size: 256 }, { size: 512 }, { maxSide: 512 }]) {
  const synth = await createSynthesizer({ photos: train, seed: 7, ...mode });
  // Warm the cache and the JIT on samples outside the measured range.
  for (let i = 0; i < 10; i++) await synth.sample(1_000_000 + i);
  const times = { all: [] };
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    const s = await synth.sample(i);
    const ms = performance.now() - t;
    times.all.push(ms);
    (times[s.kind] ??= []).push(ms);
  }
  const parts = Object.entries(times).map(([k, v]) => `${k} ${median(v).toFixed(1)} ms (n=${v.length})`);
  console.log(`${JSON.stringify(mode)}: median per sample: ${parts.join(', ')}`);
  await synth.close();
}
