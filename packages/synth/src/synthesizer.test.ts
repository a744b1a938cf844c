import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSparseViTError, SparseViTError } from '@sparsevit/core';
import { createSynthesizer, MANIPULATION_KINDS, type SynthSample } from './synthesizer';
import { corruptPhoto, flatPhoto, tempDir, texturedPhoto } from './test-photos.test-helper';

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];

let dir: string;
let flat: string[];
let textured: string[];

beforeAll(async () => {
  dir = tempDir();
  flat = [await flatPhoto(dir, 'red.png', RED), await flatPhoto(dir, 'green.png', GREEN), await flatPhoto(dir, 'blue.png', BLUE)];
  textured = [await texturedPhoto(dir, 'a.png', 1), await texturedPhoto(dir, 'b.png', 2), await texturedPhoto(dir, 'c.png', 3, 150, 220)];
});

function pixel(s: SynthSample, p: number): [number, number, number] {
  return [s.rgb[p * 3], s.rgb[p * 3 + 1], s.rgb[p * 3 + 2]];
}

/** The most frequent colour among the pixels where `select` holds. */
function modeColour(s: SynthSample, select: (p: number) => boolean): [number, number, number] {
  const counts = new Map<number, number>();
  for (let p = 0; p < s.width * s.height; p++) {
    if (!select(p)) continue;
    const key = (s.rgb[p * 3] << 16) | (s.rgb[p * 3 + 1] << 8) | s.rgb[p * 3 + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const [key] = [...counts].sort((a, b) => b[1] - a[1])[0];
  return [key >> 16, (key >> 8) & 255, key & 255];
}

/** The masked pixel colour farthest from `host`. */
function farthestColour(s: SynthSample, host: number[]): [number, number, number] {
  let best: [number, number, number] = [0, 0, 0];
  let bestDistance = -1;
  for (let p = 0; p < s.width * s.height; p++) {
    if (!s.mask[p]) continue;
    const c = pixel(s, p);
    const d = (c[0] - host[0]) ** 2 + (c[1] - host[1]) ** 2 + (c[2] - host[2]) ** 2;
    if (d > bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** Where a pixel lies between host colour h (0) and donor colour d (1). */
function blendPosition(p: [number, number, number], h: number[], d: number[]): number {
  let num = 0;
  let den = 0;
  for (let c = 0; c < 3; c++) {
    num += (p[c] - h[c]) * (d[c] - h[c]);
    den += (d[c] - h[c]) ** 2;
  }
  return num / den;
}

describe('createSynthesizer', () => {
  it('is a pure function of (seed, index): same bytes in any order and from another instance', async () => {
    const a = await createSynthesizer({ photos: textured, seed: 5, size: 64 });
    const b = await createSynthesizer({ photos: textured, seed: 5, size: 64 });
    const forward: SynthSample[] = [];
    for (let i = 0; i < 8; i++) forward.push(await a.sample(i));
    for (let i = 7; i >= 0; i--) {
      const again = await b.sample(i);
      expect(Buffer.from(again.rgb).equals(Buffer.from(forward[i].rgb))).toBe(true);
      expect(Buffer.from(again.mask).equals(Buffer.from(forward[i].mask))).toBe(true);
      expect(again.kind).toBe(forward[i].kind);
      expect(again.index).toBe(i);
    }
    // Different indices and different seeds give different images.
    expect(Buffer.from(forward[0].rgb).equals(Buffer.from(forward[1].rgb))).toBe(false);
    const other = await createSynthesizer({ photos: textured, seed: 6, size: 64 });
    expect(Buffer.from((await other.sample(0)).rgb).equals(Buffer.from(forward[0].rgb))).toBe(false);
    await Promise.all([a.close(), b.close(), other.close()]);
  });

  it('splice without post-processing: the mask is exactly the pixels more pasted than original (alpha >= 0.5), nothing else changes', async () => {
    const synth = await createSynthesizer({ photos: flat, seed: 11, size: 96, kinds: { splice: 1 }, postprocess: false });
    let feathered = 0;
    let hard = 0;
    let undecidable = 0;
    let masked = 0;
    for (let i = 0; i < 30; i++) {
      const s = await synth.sample(i);
      expect(s.kind).toBe('splice');
      const n = s.width * s.height;
      // Host: the colour of most unmasked pixels (an untouched flat photo); donor: of masked ones.
      const host = modeColour(s, (p) => s.mask[p] === 0);
      // Donor: the masked colour farthest from the host (every blend lies between the two).
      const donor = farthestColour(s, host);
      expect([RED, GREEN, BLUE].map(String)).toContain(String(host));
      expect(String(donor)).not.toBe(String(host));
      for (let p = 0; p < n; p++) {
        const t = blendPosition(pixel(s, p), host, donor);
        // 8-bit rounding blurs t by < 0.01; a feathered alpha that close to one half is a pixel
        // equally host and donor, which the pixels cannot place on either side.
        if (Math.abs(t - 0.5) < 0.01) {
          undecidable++;
          continue;
        }
        expect(s.mask[p]).toBe(t >= 0.5 ? 1 : 0);
      }
      if (s.manipulation!.feather === 0) {
        hard++;
        // Hard edge: every pixel is either the host's colour or the layer's, and the mask is which.
        for (let p = 0; p < n; p++) expect(String(pixel(s, p))).toBe(String(s.mask[p] ? donor : host));
      } else feathered++;
      expect(s.maskFraction).toBeGreaterThan(0.005);
      masked += s.maskFraction * n;
    }
    expect(undecidable).toBeLessThan(masked * 0.01);
    expect(feathered).toBeGreaterThan(0);
    expect(hard).toBeGreaterThan(0);
    await synth.close();
  });

  it('copy-move and removal without post-processing leave every pixel outside the (feathered) layer untouched', async () => {
    const reference = await createSynthesizer({ photos: [textured[0]], seed: 3, size: 80, kinds: { authentic: 1 }, postprocess: false });
    const synth = await createSynthesizer({ photos: [textured[0]], seed: 3, size: 80, kinds: { 'copy-move': 1, removal: 1 }, postprocess: false });
    const seen = new Set<string>();
    for (let i = 0; i < 24; i++) {
      // The kind is drawn apart from the crop, so the authentic sample of the same index is the host.
      const s = await synth.sample(i);
      const base = await reference.sample(i);
      seen.add(s.kind);
      const reach = (s.manipulation!.feather ?? 0) * 2 + 1;
      let changedInside = 0;
      let changedNear = 0;
      let changedFar = 0;
      for (let y = 0; y < s.height; y++) {
        for (let x = 0; x < s.width; x++) {
          const p = y * s.width + x;
          const changed = String(pixel(s, p)) !== String(pixel(base, p));
          let nearMask = false;
          for (let dy = -reach; dy <= reach && !nearMask; dy++) {
            for (let dx = -reach; dx <= reach && !nearMask; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if (yy >= 0 && xx >= 0 && yy < s.height && xx < s.width && s.mask[yy * s.width + xx]) nearMask = true;
            }
          }
          // Hard edge: only mask pixels change. Feathered: pixels with alpha in (0, 0.5) change
          // too, next to the mask (a thin part of the shape can stay below 0.5 altogether).
          if (changed && !s.mask[p]) (nearMask ? changedNear++ : changedFar++);
          if (changed && s.mask[p]) changedInside++;
        }
      }
      let ones = 0;
      for (const v of s.mask) ones += v;
      if (s.manipulation!.feather === 0) expect(changedNear + changedFar).toBe(0);
      else expect(changedFar).toBeLessThanOrEqual(0.02 * (changedNear + changedFar + changedInside));
      // A textured photo: most of the manipulated region really changed.
      expect(changedInside).toBeGreaterThan(ones * 0.5);
    }
    expect(seen).toEqual(new Set(['copy-move', 'removal']));
    await Promise.all([synth.close(), reference.close()]);
  });

  it('authentic samples have an all-zero mask, with and without post-processing', async () => {
    for (const postprocess of [true, false]) {
      const synth = await createSynthesizer({ photos: textured, seed: 2, size: 48, kinds: { authentic: 1 }, postprocess });
      for (let i = 0; i < 10; i++) {
        const s = await synth.sample(i);
        expect(s.kind).toBe('authentic');
        expect(s.mask.every((v) => v === 0)).toBe(true);
        expect(s.maskFraction).toBe(0);
      }
      await synth.close();
    }
  });

  it('draws the kinds in the configured proportions', async () => {
    const synth = await createSynthesizer({ photos: textured, seed: 9, size: 32 });
    const n = 400;
    const counts = Object.fromEntries(MANIPULATION_KINDS.map((k) => [k, 0]));
    for (let i = 0; i < n; i++) counts[(await synth.sample(i)).kind]++;
    // Binomial standard deviation at n = 400 is <= 0.025; allow 3.2 of them.
    const expected = { splice: 0.4, 'copy-move': 0.2, removal: 0.15, authentic: 0.25 };
    for (const k of MANIPULATION_KINDS) expect(Math.abs(counts[k] / n - expected[k])).toBeLessThan(0.08);
    await synth.close();
    const only = await createSynthesizer({ photos: textured, seed: 9, size: 32, kinds: { splice: 1, removal: 3 } });
    const seen = new Map<string, number>();
    for (let i = 0; i < 80; i++) {
      const k = (await only.sample(i)).kind;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(['removal', 'splice']);
    expect(seen.get('removal')!).toBeGreaterThan(seen.get('splice')!);
    await only.close();
  });

  it('makes size x size samples, or photo-shaped ones with the long side <= maxSide; masks are 0/1 and non-empty when manipulated', async () => {
    const square = await createSynthesizer({ photos: textured, seed: 4, size: 72 });
    const shaped = await createSynthesizer({ photos: textured, seed: 4, maxSide: 100 });
    for (let i = 0; i < 16; i++) {
      const s = await square.sample(i);
      expect([s.width, s.height]).toEqual([72, 72]);
      const t = await shaped.sample(i);
      expect(Math.max(t.width, t.height)).toBeLessThanOrEqual(100);
      expect(Math.min(t.width, t.height)).toBeGreaterThan(30);
      for (const x of [s, t]) {
        expect(x.rgb.length).toBe(x.width * x.height * 3);
        expect(x.mask.length).toBe(x.width * x.height);
        expect(x.mask.every((v) => v === 0 || v === 1)).toBe(true);
        if (x.kind !== 'authentic') expect(x.maskFraction).toBeGreaterThan(0);
      }
    }
    await Promise.all([square.close(), shaped.close()]);
  });

  it('keeps mask and image aligned through flips, quarter turns and rescaling', async () => {
    const synth = await createSynthesizer({ photos: flat, seed: 21, size: 96, kinds: { splice: 1 } });
    const steps = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const s = await synth.sample(i);
      for (const step of s.steps) steps.add(step.split(':')[0] === 'rot90' ? step : step.split(':')[0]);
      const host = modeColour(s, (p) => s.mask[p] === 0);
      const donor = farthestColour(s, host);
      let inside = 0;
      let insideDonor = 0;
      let outside = 0;
      let outsideHost = 0;
      for (let p = 0; p < s.width * s.height; p++) {
        const nearerDonor = blendPosition(pixel(s, p), host, donor) >= 0.5;
        if (s.mask[p]) {
          inside++;
          if (nearerDonor) insideDonor++;
        } else {
          outside++;
          if (!nearerDonor) outsideHost++;
        }
      }
      // Resampling, blur and JPEG blur the edge by a pixel or two; a misaligned mask fails by far.
      expect(insideDonor / inside).toBeGreaterThan(0.75);
      expect(outsideHost / outside).toBeGreaterThan(0.97);
    }
    for (const step of ['hflip', 'vflip', 'rot90:1', 'rot90:2', 'rot90:3', 'scale']) expect(steps).toContain(step);
    await synth.close();
  });

  it('overriding the kind keeps the rest of the draw', async () => {
    const synth = await createSynthesizer({ photos: textured, seed: 8, size: 40 });
    for (let i = 0; i < 6; i++) {
      const drawn = await synth.sample(i);
      const authentic = await synth.sample(i, { kind: 'authentic' });
      expect(authentic.kind).toBe('authentic');
      expect(authentic.photo).toBe(drawn.photo);
      if (drawn.kind === 'authentic') expect(Buffer.from(authentic.rgb).equals(Buffer.from(drawn.rgb))).toBe(true);
    }
    await synth.close();
  });

  it('skips unreadable and corrupt photos with a typed error, and never samples them', async () => {
    const broken = await corruptPhoto(dir, 'broken.jpg');
    const missing = join(dir, 'missing.jpg');
    const synth = await createSynthesizer({ photos: [broken, textured[0], missing, textured[1]], seed: 1, size: 32 });
    expect(synth.photos).toEqual([textured[0], textured[1]]);
    expect(synth.skipped.map((s) => [s.path, s.error.code])).toEqual([
      [broken, 'INVALID_IMAGE'],
      [missing, 'IO_ERROR'],
    ]);
    for (const s of synth.skipped) expect(s.error).toBeInstanceOf(SparseViTError);
    for (let i = 0; i < 20; i++) {
      const s = await synth.sample(i);
      expect(textured).toContain(s.photo);
      if (s.donor !== undefined) expect(textured).toContain(s.donor);
    }
    await synth.close();
    const error = await createSynthesizer({ photos: [broken, missing], seed: 1 }).catch((e: unknown) => e);
    expect(isSparseViTError(error, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('rejects bad options and indices with INVALID_ARGUMENT, and use after close with DISPOSED', async () => {
    const bad = [
      { photos: [], seed: 1 },
      { photos: textured, seed: -1 },
      { photos: textured, seed: 1, size: 3 },
      { photos: textured, seed: 1, kinds: { splice: -1 } },
      { photos: textured, seed: 1, kinds: { nonsense: 1 } as never },
      { photos: textured, seed: 1, kinds: { splice: 0 } },
      { photos: textured, seed: 1, areaRange: [0.5, 0.2] as [number, number] },
    ];
    for (const options of bad) {
      const error = await createSynthesizer(options).catch((e: unknown) => e);
      expect(isSparseViTError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    const synth = await createSynthesizer({ photos: textured, seed: 1, size: 32 });
    expect(isSparseViTError(await synth.sample(-1).catch((e: unknown) => e), 'INVALID_ARGUMENT')).toBe(true);
    expect(isSparseViTError(await synth.sample(1.5).catch((e: unknown) => e), 'INVALID_ARGUMENT')).toBe(true);
    await synth.close();
    expect(isSparseViTError(await synth.sample(0).catch((e: unknown) => e), 'DISPOSED')).toBe(true);
  });
});
