import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers';

const samples = join(import.meta.dirname, '../../../tooling/samples');

async function binary(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data: Uint8Array.from(data, (v) => (v > 127 ? 1 : 0)), width: info.width, height: info.height };
}

describe('the default model', () => {
  it('is used by detect without --weights, said once, and its masks are scored against the samples truth', async () => {
    const out = await tempDir('default-model');
    const run = await runCli(['detect', join(samples, 'Tp'), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr.match(/using the default model sparsevit-small-synth/g)).toHaveLength(1);
    expect(run.stderr).toContain('not by the SparseViT authors');
    const ious: number[] = [];
    for (const name of (await readdir(join(samples, 'Tp'))).sort()) {
      const stem = name.replace(/\.png$/, '');
      const mask = await binary(join(out, `${stem}.mask.png`));
      const truth = await binary(join(samples, 'Gt', `${stem}_gt.png`));
      expect([mask.width, mask.height]).toEqual([truth.width, truth.height]);
      let inter = 0;
      let union = 0;
      for (let i = 0; i < mask.data.length; i++) {
        inter += mask.data[i] & truth.data[i];
        union += mask.data[i] | truth.data[i];
      }
      ious.push(inter / Math.max(union, 1));
    }
    console.log('default model, sample mask IoU', ious.map((v) => v.toFixed(3)).join(' '));
    expect(ious).toHaveLength(4);
  });
});
