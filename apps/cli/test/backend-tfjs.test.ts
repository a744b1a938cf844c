import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES, CHECKPOINT, CONFIG, diff, readJson, readNpy, referenceProb, runCli, tempDir, tiny } from './helpers';

// `--backend tfjs` runs the same model on TensorFlow.js (wasm in Node) and writes the same files;
// the maps match the PyTorch reference within the bounds of the ONNX path.
describe('sparsevit detect --backend tfjs', () => {
  it('writes maps that match the reference, and records the backend', async () => {
    const out = await tempDir('detect-tfjs');
    const c = CASES[0];
    const run = await runCli(['detect', tiny('images', c.image), '--weights', CHECKPOINT, '--config', CONFIG, '--out', out, '--backend', 'tfjs']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const d = diff((await readNpy(join(out, `${c.stem}.prob.npy`))).data, await referenceProb(c.name));
    expect(d.mean).toBeLessThanOrEqual(1e-3);
    expect(d.max).toBeLessThanOrEqual(0.02);
    const json = (await readJson(join(out, `${c.stem}.json`))) as { backend: string; device: string };
    expect([json.backend, json.device]).toEqual(['tfjs', 'wasm']);
  });

  it('refuses a device the backend does not have (usage error, exit 2)', async () => {
    const out = await tempDir('detect-tfjs-usage');
    const run = await runCli(['detect', tiny('images', CASES[0].image), '--weights', CHECKPOINT, '--out', out, '--backend', 'tfjs', '--device', 'cuda']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--device for --backend tfjs must be one of wasm, cpu/);
    const bad = await runCli(['detect', tiny('images', CASES[0].image), '--weights', CHECKPOINT, '--out', out, '--backend', 'torch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--backend must be one of onnx, tfjs/);
  });
});
