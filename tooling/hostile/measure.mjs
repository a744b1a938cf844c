// Runs every case of the hostile corpus through the library and the CLI, each in its own
// process, and reports the typed error it ended in, the time and the peak memory (RSS), against
// the limits the SDK promises: a typed SparseViTError, a message under 2,000 characters, within
// 10 s and 1 GB. Then the batch of good images with the 50,000,000 x 1 PNG (under 1.5 GB).
//
//   node tooling/hostile/measure.mjs [--json] [--only name,name] [--root <checkout>]
//
// `--root` measures another checkout's build (e.g. an older commit) with this corpus. Needs the
// workspace built (`pnpm --filter @sparsevit/cli... build`). Peak RSS of the CLI comes from
// /usr/bin/time -v; of the library, from the child's own process.resourceUsage().
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus } from './corpus.mjs';
import { uniformPng } from './png.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const root = resolve(option('--root') ?? join(here, '..', '..'));
const only = option('--only')?.split(',');
const LIMIT_S = 60;
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const work = mkdtempSync(join(tmpdir(), 'sparsevit-hostile-'));
const corpus = await buildCorpus(join(work, 'corpus'), only);
const tiny = join(root, 'tooling/fixtures/sparsevit-tiny');
const bin = join(root, 'apps/cli/dist/bin.js');

/** Runs a command under /usr/bin/time -v; returns exit code, output, wall ms and peak RSS (KB). */
function timed(command, commandArgs) {
  const t0 = performance.now();
  const r = TIME
    ? spawnSync(TIME, ['-v', command, ...commandArgs], { encoding: 'utf8', timeout: LIMIT_S * 1000, maxBuffer: 64 << 20 })
    : spawnSync(command, commandArgs, { encoding: 'utf8', timeout: LIMIT_S * 1000, maxBuffer: 64 << 20 });
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '');
  const stderr = (r.stderr ?? '').split('\n').filter((l) => !/^\t|^\s*Command being timed/.test(l)).join('\n');
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr, ms, maxRssKb: rss ? Number(rss[1]) : null, hung: r.error?.code === 'ETIMEDOUT' };
}

const rows = [];
const verdict = (row) => {
  const typed = /^[A-Z_]+$/.test(row.code) && row.code !== 'ok';
  return typed && row.code === row.expected && row.messageLength < 2000 && row.ms < 10_000 && (row.maxRssKb ?? 0) < 1024 * 1024 ? 'pass' : 'FAIL';
};

for (const c of corpus) {
  // Library: the case in a child process of its own.
  const lib = spawnSync(process.execPath, [join(here, 'run-case.mjs'), root, c.kind, c.path, c.config], { encoding: 'utf8', timeout: LIMIT_S * 1000 });
  let libRow;
  if (lib.error?.code === 'ETIMEDOUT') libRow = { code: 'hang', messageLength: 0, ms: LIMIT_S * 1000, maxRssKb: null };
  else {
    try {
      libRow = JSON.parse(lib.stdout.trim().split('\n').pop());
    } catch {
      libRow = { code: `crash (exit ${lib.status}, ${lib.signal ?? ''}): ${lib.stderr.trim().split('\n').pop()?.slice(0, 160)}`, messageLength: 0, ms: NaN, maxRssKb: null };
    }
  }
  rows.push({ case: c.name, via: 'library', expected: c.expect.load, ...libRow });

  // CLI: convert for a weights file, detect for an image.
  const out = join(work, `out-${c.name}`);
  const cli =
    c.kind === 'weights'
      ? timed(process.execPath, [bin, 'convert', c.path, `${out}.safetensors`, ...(c.config === 'tiny' ? ['--config', join(tiny, 'config.json')] : [])])
      : timed(process.execPath, [bin, 'detect', c.path, '--weights', join(tiny, 'checkpoint.pth'), '--config', join(tiny, 'config.json'), '--out', out]);
  let code;
  let messageLength;
  if (cli.hung) [code, messageLength] = ['hang', 0];
  else if (c.kind === 'weights') {
    const m = /^sparsevit: ([A-Z_]+): /.exec(cli.stderr);
    [code, messageLength] = m ? [m[1], cli.stderr.trim().length] : [`untyped (exit ${cli.status}): ${cli.stderr.trim().split('\n')[0]?.slice(0, 160)}`, 0];
  } else {
    try {
      const entry = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).entries[0];
      [code, messageLength] = entry.ok ? ['ok', 0] : [entry.error.code, entry.error.message.length];
    } catch {
      [code, messageLength] = [`no summary.json (exit ${cli.status}): ${cli.stderr.trim().split('\n').pop()?.slice(0, 160)}`, 0];
    }
  }
  rows.push({ case: c.name, via: 'cli', expected: c.expect.load, code, messageLength, ms: cli.ms, maxRssKb: cli.maxRssKb });
}

// The batch: good images around the 50,000,000 x 1 PNG.
let batch;
if (!only) {
  const folder = join(work, 'batch');
  mkdirSync(folder);
  copyFileSync(join(tiny, 'images/gray_257x333.png'), join(folder, 'a.png'));
  writeFileSync(join(folder, 'b-strip.png'), uniformPng(50_000_000, 1));
  copyFileSync(join(tiny, 'images/splice_640x480.png'), join(folder, 'c.png'));
  copyFileSync(join(tiny, 'images/splice_300x500.png'), join(folder, 'd.png'));
  const out = join(work, 'batch-out');
  const r = timed(process.execPath, [bin, 'detect', folder, '--weights', join(tiny, 'checkpoint.pth'), '--config', join(tiny, 'config.json'), '--out', out]);
  let summary;
  try {
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  } catch {
    summary = undefined;
  }
  batch = {
    exit: r.status,
    ms: r.ms,
    maxRssKb: r.maxRssKb,
    summary: Boolean(summary),
    entries: summary?.entries.map((e) => [e.stem, e.ok ? 'ok' : e.error.code]) ?? [],
  };
}

rmSync(work, { recursive: true, force: true });

for (const row of rows) row.verdict = verdict(row);
if (flag('--json')) {
  process.stdout.write(`${JSON.stringify({ root, rows, batch }, null, 2)}\n`);
} else {
  const mb = (kb) => (kb === null || kb === undefined ? 'n/a' : (kb / 1024).toFixed(0));
  process.stdout.write('| case | via | expected | got | message chars | ms | peak RSS MB | verdict |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.case} | ${r.via} | ${r.expected} | ${r.code} | ${r.messageLength} | ${Number.isFinite(r.ms) ? r.ms.toFixed(0) : 'n/a'} | ${mb(r.maxRssKb)} | ${r.verdict} |\n`);
  }
  if (batch) {
    process.stdout.write(
      `\nbatch with the 50,000,000 x 1 PNG: exit ${batch.exit}, ${batch.ms.toFixed(0)} ms, peak RSS ${mb(batch.maxRssKb)} MB, summary.json ${batch.summary ? 'written' : 'MISSING'}, entries ${batch.entries.map((e) => e.join(' ')).join('; ')}\n`,
    );
  }
  const failed = rows.filter((r) => r.verdict !== 'pass').length;
  process.stdout.write(`\n${rows.length - failed}/${rows.length} pass (typed, expected code, message < 2000 chars, < 10 s, < 1 GB)\n`);
}
