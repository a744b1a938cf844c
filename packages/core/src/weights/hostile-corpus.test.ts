import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// The corpus is built by tooling/hostile/corpus.mjs (see its README); every weights case runs here
// through the library, every case through the CLI in apps/cli/test/hostile.test.ts.
import { HOSTILE_CASES, TINY_CONFIG, buildCase, type HostileCase } from '../../../../tooling/hostile/corpus.mjs';
import { resolveConfig } from '../config/resolve-config';
import { SparseViTError } from '../errors';
import { prepareGraphWeights, validateStateDict } from '../graph/prepare-graph-weights';
import { readWeights } from './load-weights';

const tinyConfig = JSON.parse(readFileSync(TINY_CONFIG, 'utf8')) as Record<string, unknown>;

/** The library's whole path from bytes to graph weights, as `@sparsevit/onnx`'s readModelSource takes it. */
async function loadAsModel(bytes: Uint8Array, c: HostileCase): Promise<void> {
  const explicit = c.config === 'tiny' ? tinyConfig : undefined;
  const store = await readWeights(bytes, undefined, {
    checkTensors: (tensors, metadata) => validateStateDict({ tensors }, resolveConfig(explicit, metadata)),
  });
  prepareGraphWeights(store, resolveConfig(explicit, store.metadata));
}

async function outcome(action: Promise<unknown>): Promise<{ code: string; length: number }> {
  try {
    await action;
    return { code: 'ok', length: 0 };
  } catch (error) {
    if (!(error instanceof SparseViTError)) return { code: `untyped ${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`, length: 0 };
    return { code: error.code, length: error.message.length };
  }
}

describe('the hostile corpus through the library', () => {
  const weights = HOSTILE_CASES.filter((c) => c.kind === 'weights');

  it.each(weights.map((c) => [c.name, c] as const))('%s ends in its typed error, with a short message', async (_name, c) => {
    const bytes = await buildCase(c);
    if (c.expect.read !== undefined) {
      const read = await outcome(readWeights(bytes));
      expect(read.code, c.about).toBe(c.expect.read);
      expect(read.length).toBeLessThan(2000);
    }
    const load = await outcome(loadAsModel(bytes, c));
    expect(load.code, c.about).toBe(c.expect.load);
    expect(load.length).toBeGreaterThan(0);
    expect(load.length).toBeLessThan(2000);
  });
});
