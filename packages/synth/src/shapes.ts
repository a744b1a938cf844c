import { createRaster, type Raster } from './raster';
import type { Random } from './random';

/**
 * Region shapes for manipulations, as binary masks (1 inside) over a box: star-shaped polygons,
 * smooth blobs, and "object-like" regions grown over similar colours of an image, whose edges
 * follow the image's own edges the way a cut-out object's do.
 */
export type ShapeKind = 'polygon' | 'blob' | 'object';

/** A shape in unit coordinates: `inside(u, v)` for u, v in [-1, 1]. */
type UnitShape = (u: number, v: number) => boolean;

/**
 * Star-shaped polygon: 3-10 vertices at jittered, evenly spread angles (so the polygon holds its
 * center and is never a sliver) and radii 0.45-1.
 */
function polygonShape(random: Random): UnitShape {
  const n = random.intRange(3, 10);
  const offset = random.range(0, 2 * Math.PI);
  const angles = Array.from({ length: n }, (_, i) => offset + ((i + random.range(-0.3, 0.3)) * 2 * Math.PI) / n);
  const radii = angles.map(() => random.range(0.45, 1));
  const xs = angles.map((a, i) => Math.cos(a) * radii[i]);
  const ys = angles.map((a, i) => Math.sin(a) * radii[i]);
  return (u, v) => {
    // Even-odd rule.
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      if (ys[i] > v !== ys[j] > v && u < ((xs[j] - xs[i]) * (v - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
    }
    return inside;
  };
}

/** Smooth blob: a circle whose radius varies with a few low harmonics of the angle. */
function blobShape(random: Random): UnitShape {
  const harmonics = Array.from({ length: 4 }, (_, i) => ({ k: i + 2, a: random.range(0, 0.32 / (i + 1)), phase: random.range(0, 2 * Math.PI) }));
  const peak = 1 + harmonics.reduce((s, h) => s + h.a, 0);
  return (u, v) => {
    const d = Math.hypot(u, v);
    if (d > 1) return false;
    const t = Math.atan2(v, u);
    let r = 1;
    for (const h of harmonics) r += h.a * Math.cos(h.k * t + h.phase);
    return d * peak <= r;
  };
}

function rasterizeUnit(shape: UnitShape, width: number, height: number): Raster {
  const out = createRaster(width, height, 1);
  for (let y = 0; y < height; y++) {
    const v = ((y + 0.5) / height) * 2 - 1;
    for (let x = 0; x < width; x++) if (shape(((x + 0.5) / width) * 2 - 1, v)) out.data[y * width + x] = 1;
  }
  return out;
}

/** Fraction of its box a unit shape fills, measured on a 48x48 grid. */
function fillFraction(shape: UnitShape): number {
  const r = rasterizeUnit(shape, 48, 48);
  let n = 0;
  for (const v of r.data) n += v;
  return Math.max(n / r.data.length, 0.05);
}

export interface ShapePlan {
  kind: ShapeKind;
  /** Box size in pixels. */
  width: number;
  height: number;
  /** Renders the mask over the box; `image` (the box's pixels) is what an object shape grows over. */
  render(image?: Raster): Raster;
}

/**
 * Plans a shape of about `area` pixels whose box fits in `maxWidth` x `maxHeight`, with an aspect
 * ratio of 0.5-2. An object shape grows over the image given to `render`, and falls back to a
 * blob when the colours let it grow to less than a third of the area.
 */
export function planShape(random: Random, kind: ShapeKind, area: number, maxWidth: number, maxHeight: number): ShapePlan {
  const aspect = random.logRange(0.5, 2);
  const unit = kind === 'polygon' ? polygonShape(random) : blobShape(random);
  // An object region fills about half of its box.
  const fill = kind === 'object' ? 0.5 : fillFraction(unit);
  let width = Math.sqrt((area / fill) * aspect);
  let height = width / aspect;
  const shrink = Math.min(1, maxWidth / width, maxHeight / height);
  width = Math.max(4, Math.round(width * shrink));
  height = Math.max(4, Math.round(height * shrink));
  const seedU = random.range(0.3, 0.7);
  const seedV = random.range(0.3, 0.7);
  const target = Math.min(area, width * height * 0.9);
  return {
    kind,
    width,
    height,
    render(image?: Raster): Raster {
      if (kind !== 'object' || !image) return rasterizeUnit(unit, width, height);
      const grown = growRegion(image, Math.floor(seedU * width), Math.floor(seedV * height), target);
      return grown ?? rasterizeUnit(blobShape(random), width, height);
    },
  };
}

/**
 * Grows a 4-connected region from (sx, sy) over pixels whose colour is within a tolerance of the
 * region's mean, widening the tolerance when the region stops short of `target` pixels; then
 * smooths it with two 3x3 majority passes. `null` when it reaches less than a third of `target`.
 */
function growRegion(image: Raster, sx: number, sy: number, target: number): Raster | null {
  const { width: w, height: h, data } = image;
  const inside = new Uint8Array(w * h);
  const queued = new Uint8Array(w * h);
  // A FIFO over one array: pixels are read at `head` and appended at the end.
  let queue: number[] = [sy * w + sx];
  let head = 0;
  queued[sy * w + sx] = 1;
  let sr = 0;
  let sg = 0;
  let sb = 0;
  let count = 0;
  let tolerance = 18;
  while (count < target && tolerance <= 140) {
    const rejected: number[] = [];
    while (head < queue.length && count < target) {
      const p = queue[head++];
      const r = data[p * 3];
      const g = data[p * 3 + 1];
      const b = data[p * 3 + 2];
      if (count > 0) {
        const dr = r - sr / count;
        const dg = g - sg / count;
        const db = b - sb / count;
        if (dr * dr + dg * dg + db * db > tolerance * tolerance) {
          rejected.push(p);
          continue;
        }
      }
      inside[p] = 1;
      sr += r;
      sg += g;
      sb += b;
      count++;
      const x = p % w;
      const y = (p - x) / w;
      if (x > 0 && !queued[p - 1]) (queued[p - 1] = 1), queue.push(p - 1);
      if (x < w - 1 && !queued[p + 1]) (queued[p + 1] = 1), queue.push(p + 1);
      if (y > 0 && !queued[p - w]) (queued[p - w] = 1), queue.push(p - w);
      if (y < h - 1 && !queued[p + w]) (queued[p + w] = 1), queue.push(p + w);
    }
    // Rejected pixels get another chance at the wider tolerance.
    queue = queue.slice(head).concat(rejected);
    head = 0;
    tolerance *= 1.35;
  }
  if (count < target / 3) return null;
  // Closing (dilate, then erode, radius 2) fills the speckle a textured region leaves, then
  // majority passes smooth the outline.
  let mask = erode(dilate(inside, w, h, 2), w, h, 2);
  for (let pass = 0; pass < 2; pass++) {
    const next = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let n = 0;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx >= 0 && xx < w) n += mask[yy * w + xx];
          }
        }
        next[y * w + x] = n >= 5 ? 1 : 0;
      }
    }
    mask = next;
  }
  return { data: mask, width: w, height: h, channels: 1 };
}

/** Binary dilation by a (2r+1) square, separable. */
function dilate(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  return morph(mask, w, h, r, 1);
}

/** Binary erosion by a (2r+1) square, separable; outside the box counts as set (no edge erosion). */
function erode(mask: Uint8Array, w: number, h: number, r: number): Uint8Array {
  return morph(mask, w, h, r, 0);
}

/** `hit` 1: a pixel is set when any neighbour is (dilation); 0: cleared when any is clear (erosion). */
function morph(mask: Uint8Array, w: number, h: number, r: number, hit: 0 | 1): Uint8Array {
  const pass = (src: Uint8Array, horizontal: boolean): Uint8Array => {
    const out = new Uint8Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let v = 1 - hit;
        for (let k = -r; k <= r && v !== hit; k++) {
          const xx = horizontal ? x + k : x;
          const yy = horizontal ? y : y + k;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          if (src[yy * w + xx] === hit) v = hit;
        }
        out[y * w + x] = v;
      }
    }
    return out;
  };
  return pass(pass(mask, true), false);
}
