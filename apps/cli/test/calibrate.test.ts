import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, readSafetensors, type ConfigInput, type DetectionResult } from '@sparsevit/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, CONFIG, runCli, tempDir, tiny, writeCasesFolder } from './helpers';
import { nearest, readBinaryMask } from './reference-metrics';

/**
 * `sparsevit calibrate` end to end on the tiny model. The threshold it must choose is found here
 * by counting pixels at each threshold (not with core's sweep), and the calibrated weights are
 * run through ONNX Runtime to check what the shift does to the logits.
 */

const WEIGHTS = tiny('weights.safetensors');
const logit = (p: number) => Math.log(p / (1 - p));

let root: string;
let folder: string;
let config: ConfigInput;
const original = new Map<string, DetectionResult>();
/** Each image's ground truth at the network's size (the imdlbenco protocol: nearest). */
const truth = new Map<string, Uint8Array>();

beforeAll(async () => {
  root = await tempDir('calibrate');
  folder = await writeCasesFolder(join(root, 'val'));
  config = JSON.parse(await readFile(CONFIG, 'utf8'));
  const model = await loadModel({ weights: WEIGHTS, config });
  try {
    for (const c of CASES) {
      const r = await model.detect(tiny('images', c.image));
      original.set(c.stem, r);
      const mask = await readBinaryMask(tiny('images', `${c.stem}_gt.png`));
      truth.set(c.stem, nearest(mask.data, mask.width, mask.height, r.networkSize, r.networkSize));
    }
  } finally {
    await model.dispose();
  }
});

/** Mean pixel F1 over the four images at `prob > t`, counted pixel by pixel (IMDLBenCo epsilons). */
function meanF1(t: number): number {
  let sum = 0;
  for (const c of CASES) {
    const p = original.get(c.stem)!.networkProbability;
    const g = truth.get(c.stem)!;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < g.length; i++) {
      const on = p[i] > t;
      if (on && g[i]) tp++;
      else if (on) fp++;
      else if (g[i]) fn++;
    }
    const precision = tp / (tp + fp + 1e-8);
    const recall = tp / (tp + fn + 1e-8);
    sum += (2 * precision * recall) / (precision + recall + 1e-8);
  }
  return sum / CASES.length;
}

describe('sparsevit calibrate', () => {
  it('chooses the threshold of the best mean pixel F1 and writes weights whose 0.5 is that threshold', async () => {
    const out = join(root, 'calibrated.safetensors');
    const run = await runCli(['calibrate', folder, '--weights', WEIGHTS, '--config', CONFIG, '--out', out]);
    expect(run.stderr).not.toMatch(/INTERNAL/);
    expect(run.code).toBe(0);

    let bestT = 0;
    let bestF1 = -1;
    for (let k = 1; k <= 99; k++) {
      const f1 = meanF1(k / 100);
      // Ties go to the threshold nearest 0.5, as documented.
      if (f1 > bestF1 || (f1 === bestF1 && Math.abs(k / 100 - 0.5) < Math.abs(bestT - 0.5))) [bestT, bestF1] = [k / 100, f1];
    }
    const store = await readSafetensors(await readFile(out));
    const record = JSON.parse(store.metadata['sparsevit.calibration']);
    expect(record.threshold).toBeCloseTo(bestT, 9);
    expect(record.pixelF1).toBeCloseTo(bestF1, 9);
    expect(record.pixelF1Before).toBeCloseTo(meanF1(0.5), 9);
    expect(record).toMatchObject({ images: 4, manipulated: 4, failed: 0, protocol: 'imdlbenco', data: folder });
    expect(run.stdout).toContain(`threshold ${bestT.toFixed(2)} gives pixel F1 ${bestF1.toFixed(4)}`);
    // The config travels in the file, as convert writes it.
    expect(JSON.parse(store.metadata['sparsevit.config'])).toEqual(config);

    // Run through ONNX Runtime: every logit moved by the shift, and the mask at 0.5 is the old one at t.
    const shift = Math.log((1 - bestT) / bestT);
    const model = await loadModel({ weights: out });
    try {
      for (const c of CASES) {
        const before = original.get(c.stem)!.networkProbability;
        const after = (await model.detect(tiny('images', c.image))).networkProbability;
        let maxError = 0;
        let agree = 0;
        let checked = 0;
        for (let i = 0; i < before.length; i++) {
          if (before[i] > 1e-4 && before[i] < 1 - 1e-4 && after[i] > 1e-4 && after[i] < 1 - 1e-4) {
            maxError = Math.max(maxError, Math.abs(logit(after[i]) - logit(before[i]) - shift));
            checked++;
          }
          if (after[i] > 0.5 === before[i] > bestT) agree++;
        }
        // float32 weights and probabilities: the logits recovered from them agree to ~1e-4.
        expect(maxError).toBeLessThan(1e-3);
        expect(checked).toBeGreaterThan(before.length / 2);
        expect(agree / before.length).toBeGreaterThan(0.999);
      }
    } finally {
      await model.dispose();
    }
  });

  it('counts an unreadable image and still writes the file (exit 1), and needs a manipulated image', async () => {
    const broken = join(root, 'broken');
    await mkdir(join(broken, 'Tp'), { recursive: true });
    await mkdir(join(broken, 'Gt'), { recursive: true });
    await copyFile(tiny('images', 'splice_640x480.png'), join(broken, 'Tp', 'a.png'));
    await copyFile(tiny('images', 'splice_640x480_gt.png'), join(broken, 'Gt', 'a_gt.png'));
    await writeFile(join(broken, 'Tp', 'b.png'), Buffer.from('not a png'));
    await copyFile(tiny('images', 'splice_640x480_gt.png'), join(broken, 'Gt', 'b_gt.png'));
    const out = join(root, 'from-broken.safetensors');
    const run = await runCli(['calibrate', broken, '--weights', WEIGHTS, '--config', CONFIG, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Tp\/b\.png: INVALID_IMAGE/);
    expect(run.stdout).toMatch(/1 images \(1 manipulated\), 1 failed/);
    expect(JSON.parse((await readSafetensors(await readFile(out))).metadata['sparsevit.calibration']).failed).toBe(1);

    const authentic = join(root, 'authentic.json');
    await writeFile(authentic, JSON.stringify([[tiny('images', 'splice_640x480.png'), 'Negative']]));
    const none = await runCli(['calibrate', authentic, '--weights', WEIGHTS, '--config', CONFIG, '--out', join(root, 'none.safetensors')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/INVALID_ARGUMENT: .*no image .* has a manipulated pixel/);
  });

  it('refuses what cannot be calibrated with a usage error (exit 2)', async () => {
    const cases: [string[], RegExp][] = [
      [['--out', join(root, 'x.safetensors'), '--threshold', '0.3'], /--threshold does not apply/],
      [['--out', join(root, 'x.onnx')], /must end in \.safetensors/],
      [['--out', WEIGHTS], /must not be the --weights file/],
      [['--out', join(root, 'x.safetensors'), '--weights', join(root, 'model.onnx')], /give the \.safetensors or \.pth/],
      [['--out', join(root, 'x.safetensors'), '--protocol', 'other'], /--protocol must be one of/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(['calibrate', folder, '--weights', WEIGHTS, '--config', CONFIG, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
