import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { decodeImage, nearestSourceIndices, type RawImage } from '@sparsevit/node';
import { describe, expect, it } from 'vitest';
import { applyPerturbation, type Perturbation } from './perturb';

// IMDLBenCo's robustness perturbations and mask resizing run through OpenCV (via albumentations).
// The fixtures hold OpenCV 4.6's output on the same pixels
// (`tooling/fixtures/opencv/make_opencv_fixtures.py`). Bound: every byte equal (measured: equal).
const cv = (...p: string[]) => fixturePath('opencv', ...p);

function differingBytes(a: RawImage, b: RawImage): number {
  expect([a.width, a.height, a.channels]).toEqual([b.width, b.height, b.channels]);
  let n = 0;
  for (let i = 0; i < b.data.length; i++) if (a.data[i] !== b.data[i]) n++;
  return n;
}

const perturb = async (source: string, kind: Perturbation['kind'], strength: number) =>
  applyPerturbation(await decodeImage(cv(source)), { kind, strength, name: `${kind}:${strength}` }, 'key', 0);

describe('perturbations against OpenCV', () => {
  it.each([3, 7, 9, 11, 15, 31])('blur:%i is cv2.GaussianBlur((k, k), 0), fixed-point rounding included', async (k) => {
    expect(differingBytes(await perturb('source.png', 'blur', k), await decodeImage(cv(`blur_k${k}.png`)))).toBe(0);
  });

  it.each([3, 7, 15])('blur:%i on a 5x4 image, the kernel wider than the image', async (k) => {
    expect(differingBytes(await perturb('tiny_source.png', 'blur', k), await decodeImage(cv(`tiny_blur_k${k}.png`)))).toBe(0);
  });

  it.each([30, 50, 75, 90, 100])("jpeg:%i is albumentations' JpegCompression (cv2.imencode of the RGB array)", async (q) => {
    expect(differingBytes(await perturb('source.png', 'jpeg', q), await decodeImage(cv(`jpeg_q${q}.png`)))).toBe(0);
  });
});

describe('nearest mask resize against cv2.resize(INTER_NEAREST)', () => {
  const reference = JSON.parse(readFileSync(cv('nearest.json'), 'utf8')) as Record<string, number[]>;
  it.each(Object.keys(reference))('%s picks the same source indices', (pair) => {
    const [from, to] = pair.split('->').map(Number);
    expect(Array.from(nearestSourceIndices(from, to))).toEqual(reference[pair]);
  });
});
