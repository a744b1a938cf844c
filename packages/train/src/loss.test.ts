import { beforeAll, describe, expect, it } from 'vitest';
import { bceWithLogitsLoss, diceLoss, DICE_SMOOTH, imageScoreLoss, trainingLoss } from './loss';
import { Random } from './random';
import { tf } from './test-helpers.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/** The losses in float64 plain JS, written from their definitions (logits already at mask size). */
function reference(z: Float64Array, y: Float64Array, b: number): { bce: number; dice: number; image: number } {
  const n = z.length / b;
  let bce = 0;
  let dice = 0;
  let image = 0;
  for (let i = 0; i < b; i++) {
    let overlap = 0;
    let total = 0;
    let zMax = -Infinity;
    let label = 0;
    for (let j = i * n; j < (i + 1) * n; j++) {
      zMax = Math.max(zMax, z[j]);
      label = Math.max(label, y[j]);
      const p = 1 / (1 + Math.exp(-z[j]));
      bce += -(y[j] * Math.log(p) + (1 - y[j]) * Math.log(1 - p));
      overlap += p * y[j];
      total += p + y[j];
    }
    dice += 1 - (2 * overlap + DICE_SMOOTH) / (total + DICE_SMOOTH);
    const s = 1 / (1 + Math.exp(-zMax));
    image += -(label * Math.log(s) + (1 - label) * Math.log(1 - s));
  }
  return { bce: bce / z.length, dice: dice / b, image: image / b };
}

describe('training losses', () => {
  const b = 3;
  const side = 6;
  const random = new Random(11);
  const z = Float64Array.from({ length: b * side * side }, () => random.uniform(-3, 3));
  // Image 0 half marked, image 1 a corner, image 2 authentic (empty mask).
  const y = Float64Array.from({ length: b * side * side }, (_, k) => {
    const i = Math.floor(k / (side * side));
    const r = Math.floor((k % (side * side)) / side);
    const c = k % side;
    return i === 0 ? (c < side / 2 ? 1 : 0) : i === 1 ? (r < 2 && c < 2 ? 1 : 0) : 0;
  });
  const logits = () => tf.tensor4d(Float32Array.from(z), [b, 1, side, side]);
  const masks = () => tf.tensor4d(Float32Array.from(y), [b, 1, side, side]);

  it('BCE and Dice equal their definitions (float64 reference, <= 1e-6)', () => {
    const ref = reference(z, y, b);
    // Upsampling to the same size with half-pixel centres is the identity, so the reference
    // needs no resize.
    expect(Math.abs(bceWithLogitsLoss(tf as never, logits(), masks()).dataSync()[0] - ref.bce)).toBeLessThan(1e-6);
    expect(Math.abs(diceLoss(tf as never, logits(), masks()).dataSync()[0] - ref.dice)).toBeLessThan(1e-6);
    expect(Math.abs(trainingLoss(tf as never, 'bce+dice', logits(), masks()).dataSync()[0] - (ref.bce + ref.dice))).toBeLessThan(1e-6);
    expect(trainingLoss(tf as never, 'bce', logits(), masks()).dataSync()[0]).toBeCloseTo(ref.bce, 6);
    expect(Math.abs(imageScoreLoss(tf as never, logits(), masks()).dataSync()[0] - ref.image)).toBeLessThan(1e-6);
    expect(Math.abs(trainingLoss(tf as never, 'bce+dice+image', logits(), masks()).dataSync()[0] - (ref.bce + ref.dice + ref.image))).toBeLessThan(1e-6);
  });

  it('the gradient of BCE + Dice + image score matches central differences of the reference (relative <= 1e-3)', () => {
    // Uniform draws have no tied maxima, so the maximum is differentiable at these logits.
    const grad = tf.grad((t: tf.Tensor) => trainingLoss(tf as never, 'bce+dice+image', t as never, masks()))(logits() as never) as unknown as { dataSync(): Float32Array };
    const g = grad.dataSync();
    const h = 1e-5;
    let worst = 0;
    let scale = 0;
    for (let k = 0; k < z.length; k++) scale = Math.max(scale, Math.abs(g[k]));
    for (let k = 0; k < z.length; k++) {
      const plus = Float64Array.from(z);
      const minus = Float64Array.from(z);
      plus[k] += h;
      minus[k] -= h;
      const total = (r: ReturnType<typeof reference>) => r.bce + r.dice + r.image;
      const numeric = (total(reference(plus, y, b)) - total(reference(minus, y, b))) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - g[k]) / scale);
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it("splits the image score's gradient equally among tied maxima", () => {
    // One authentic 2x2 image whose largest logit (2) appears twice: d/dz of BCE(max z, 0) is
    // sigmoid(2), halved between the two.
    const values = tf.tensor4d([2, -1, 2, 0.5], [1, 1, 2, 2]);
    const empty = tf.zeros([1, 1, 2, 2]);
    const g = (tf.grad((t: tf.Tensor) => imageScoreLoss(tf as never, t as never, empty as never))(values as never) as unknown as { dataSync(): Float32Array }).dataSync();
    const half = 1 / (1 + Math.exp(-2)) / 2;
    expect(Array.from(g).map((v) => Number(v.toFixed(6)))).toEqual([half, 0, half, 0].map((v) => Number(v.toFixed(6))));
  });

  it('the gradient of BCE + Dice with respect to the logits matches central differences of the reference (relative <= 1e-3)', () => {
    const grad = tf.grad((t: tf.Tensor) => trainingLoss(tf as never, 'bce+dice', t as never, masks()))(logits() as never) as unknown as { dataSync(): Float32Array };
    const g = grad.dataSync();
    const h = 1e-5;
    let worst = 0;
    let scale = 0;
    for (let k = 0; k < z.length; k++) scale = Math.max(scale, Math.abs(g[k]));
    for (let k = 0; k < z.length; k++) {
      const plus = Float64Array.from(z);
      const minus = Float64Array.from(z);
      plus[k] += h;
      minus[k] -= h;
      const fp = reference(plus, y, b);
      const fm = reference(minus, y, b);
      const numeric = (fp.bce + fp.dice - fm.bce - fm.dice) / (2 * h);
      worst = Math.max(worst, Math.abs(numeric - g[k]) / scale);
    }
    expect(worst).toBeLessThan(1e-3);
  });

  it('Dice scores a perfect prediction near 0, an empty prediction of a marked image near 1', () => {
    const perfect = Float32Array.from(y, (v) => (v ? 20 : -20));
    const empty = Float32Array.from(y, () => -20);
    const d = (values: Float32Array) => diceLoss(tf as never, tf.tensor4d(values, [b, 1, side, side]), masks()).dataSync()[0];
    expect(d(perfect)).toBeLessThan(1e-6);
    // With the smoothing term 1: image 0 (18 marked pixels) loses 1 - 1/19, image 1 (4) 1 - 1/5,
    // the authentic image 0.
    expect(d(empty)).toBeCloseTo((1 - 1 / 19 + (1 - 1 / 5)) / 3, 5);
  });
});
