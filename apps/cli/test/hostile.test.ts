import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, type NodeSparseViTModel } from '@sparsevit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Built by tooling/hostile/corpus.mjs; tooling/hostile/measure.mjs reports each case's time and
// peak memory, which tests do not assert.
import { buildCorpus, TINY_CONFIG, type HostileManifestEntry } from '../../../tooling/hostile/corpus.mjs';
import { CHECKPOINT, readJson, runCli, tempDir } from './helpers';

/** Every case of the hostile corpus through the library (`@sparsevit/node`) and the CLI. */

const config = JSON.parse(readFileSync(TINY_CONFIG, 'utf8'));
let dir: string;
let corpus: HostileManifestEntry[];
let model: NodeSparseViTModel;

beforeAll(async () => {
  dir = await tempDir('hostile');
  corpus = await buildCorpus(join(dir, 'corpus'));
  model = await loadModel({ weights: CHECKPOINT, config });
}, 120_000);
afterAll(() => model?.dispose());

const cases = () => corpus;
const configArgs = (c: HostileManifestEntry) => (c.config === 'tiny' ? ['--config', TINY_CONFIG] : []);

async function libraryOutcome(c: HostileManifestEntry): Promise<{ code: string; length: number }> {
  try {
    if (c.kind === 'weights') await (await loadModel({ weights: c.path, config: c.config === 'tiny' ? config : undefined })).dispose();
    else await model.detect(c.path);
    return { code: 'ok', length: 0 };
  } catch (error) {
    const e = error as { name?: string; code?: string; message?: string };
    if (e?.name !== 'SparseViTError' || typeof e.code !== 'string') return { code: `untyped: ${String(e?.message).slice(0, 200)}`, length: 0 };
    return { code: e.code, length: String(e.message).length };
  }
}

describe('the hostile corpus', () => {
  it('has every case the corpus script builds', () => {
    expect(cases().length).toBeGreaterThanOrEqual(25);
  });

  it('through the library: each case ends in its typed error, with a message under 2,000 characters', async () => {
    for (const c of cases()) {
      const outcome = await libraryOutcome(c);
      expect(outcome.code, `${c.name}: ${c.about}`).toBe(c.expect.load);
      expect(outcome.length, c.name).toBeGreaterThan(0);
      expect(outcome.length, c.name).toBeLessThan(2000);
    }
  }, 300_000);

  it('through the CLI: convert refuses each weights case with one short typed line, and writes nothing', async () => {
    for (const c of cases().filter((x) => x.kind === 'weights')) {
      const out = join(dir, `${c.name}.safetensors`);
      const run = await runCli(['convert', c.path, out, ...configArgs(c)]);
      expect(run.code, `${c.name}: ${run.stderr.slice(0, 300)}`).toBe(1);
      const lines = run.stderr.trim().split('\n');
      expect(lines, c.name).toHaveLength(1);
      expect(lines[0], c.name).toMatch(new RegExp(`^sparsevit: ${c.expect.load}: `));
      expect(run.stderr.length, c.name).toBeLessThan(2000);
      expect(existsSync(out), `${c.name} wrote an output`).toBe(false);
    }
  }, 300_000);

  it('through the CLI: detect refuses a weights file whose metadata config is out of bounds, before any image', async () => {
    const image = cases().find((c) => c.kind === 'image')!.path;
    for (const c of cases().filter((x) => x.kind === 'weights' && x.config === 'file')) {
      const run = await runCli(['detect', image, '--weights', c.path, '--out', join(dir, `out-${c.name}`)]);
      expect(run.code, c.name).toBe(1);
      expect(run.stderr, c.name).toMatch(new RegExp(`^sparsevit: ${c.expect.load}: `));
      expect(run.stderr.length, c.name).toBeLessThan(2000);
    }
  }, 120_000);

  it('through the CLI: detect records each image case as its typed error row, in one batch with summary.json', async () => {
    const images = cases().filter((c) => c.kind === 'image');
    const out = join(dir, 'detect-images');
    const run = await runCli(['detect', ...images.map((c) => c.path), '--weights', CHECKPOINT, '--config', TINY_CONFIG, '--out', out]);
    expect(run.code).toBe(1);
    const summary = await readJson(join(out, 'summary.json'));
    expect(summary.counts).toMatchObject({ inputs: images.length, failed: images.length, notRun: 0 });
    for (const [i, c] of images.entries()) {
      const entry = summary.entries[i];
      expect(entry.input).toBe(c.path);
      expect(entry.error.code, `${c.name}: ${entry.error.message}`).toBe(c.expect.load);
      expect(entry.error.message.length).toBeLessThan(2000);
    }
    for (const line of run.stderr.trim().split('\n')) expect(line.length).toBeLessThan(2000);
  }, 120_000);
});
