import { brightnessContrast, createRaster, resample, type Raster } from './raster';
import { pickWeighted, type Random } from './random';
import { planShape, type ShapeKind } from './shapes';

/**
 * The three manipulations, each on an RGB raster, returning the manipulated image and its exact
 * mask (1 = manipulated). The rule for the mask: a pixel is manipulated when the pasted (or
 * filled) layer's alpha there is >= 0.5. Hard-edged layers have alpha 0 or 1, so the mask is
 * exactly the set of pixels taken from the layer; feathered layers blend over a few pixels at the
 * edge, and the mask is the feathered alpha thresholded at 0.5 (the pixels that are more pasted
 * than original). Pixels with alpha 0 are never touched.
 */
export interface ManipulationOptions {
  /** Manipulated area as a fraction of the image, drawn log-uniformly. Default [0.02, 0.35]. */
  areaRange?: [number, number];
}

export interface ManipulationInfo {
  shape: ShapeKind;
  /** Drawn target area (fraction of the image); the mask's own fraction is in the sample. */
  targetArea: number;
  /** Rotation of the pasted layer in degrees (splice, copy-move). */
  rotation?: number;
  /** Scale of the pasted content relative to the host (splice, copy-move). */
  scale?: number;
  /** Feather radius in pixels, 0 for a hard edge. */
  feather: number;
  /** How a removal filled the region. */
  fill?: 'diffusion' | 'patch';
  /** Whether a splice's layer had its brightness/contrast changed to blend in. */
  colorAdjusted?: boolean;
}

export interface ManipulationResult {
  rgb: Raster;
  /** One channel, 0/1. */
  mask: Raster;
  info: ManipulationInfo;
}

const SHAPES: ShapeKind[] = ['polygon', 'blob', 'object'];
const SHAPE_WEIGHTS = [0.3, 0.35, 0.35];

function drawArea(random: Random, host: Raster, options: ManipulationOptions): number {
  const [lo, hi] = options.areaRange ?? [0.02, 0.35];
  return random.logRange(lo, hi);
}

/**
 * A feather radius (0: hard edge) with probability `p`: 1 to 3 pixels per 256 pixels of image
 * side, and at most a fifteenth of the region's side, so a small region keeps its core.
 */
function drawFeather(random: Random, host: Raster, p: number, areaFraction: number): number {
  if (!random.chance(p)) return 0;
  const imageScale = Math.max(1, Math.round(Math.min(host.width, host.height) / 256));
  const regionSide = Math.sqrt(areaFraction * host.width * host.height);
  return random.intRange(1, Math.max(1, Math.min(3 * imageScale, Math.round(regionSide / 15))));
}

/**
 * One box blur of radius r along one axis of a w x h float field (`dx`, `dy`: the axis), outside
 * counting as 0, normalised by the full window so that alpha falls off towards the edge.
 */
function boxBlurAxis(src: Float32Array, w: number, h: number, r: number, dx: 0 | 1, dy: 0 | 1): Float32Array {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) {
        const xx = x + k * dx;
        const yy = y + k * dy;
        if (xx >= 0 && xx < w && yy >= 0 && yy < h) acc += src[yy * w + xx];
      }
      out[y * w + x] = acc / (2 * r + 1);
    }
  }
  return out;
}

/** Two passes of a box blur of radius r over `alpha` (w x h floats): a tent of half-width 2r. */
function featherAlpha(alpha: Float32Array, w: number, h: number, r: number): Float32Array {
  let src: Float32Array = alpha;
  for (let pass = 0; pass < 2; pass++) src = boxBlurAxis(boxBlurAxis(src, w, h, r, 1, 0), w, h, r, 0, 1);
  return src;
}

interface Layer {
  /** Content, `width` x `height` RGB, in the layer's own frame. */
  patch: Raster;
  /** 0/1 over the same frame. */
  shape: Raster;
  /** Center of the layer on the host, in pixels. */
  cx: number;
  cy: number;
  /** Rotation in radians (counter-clockwise on screen is negative y-up; we use image axes). */
  angle: number;
  feather: number;
}

/** Half extents of a w x h box rotated by `angle`. */
function rotatedExtents(w: number, h: number, angle: number): [number, number] {
  const c = Math.abs(Math.cos(angle));
  const s = Math.abs(Math.sin(angle));
  return [(w * c + h * s) / 2, (w * s + h * c) / 2];
}

/** A center for a box of half extents (ex, ey) that keeps it inside the host when it fits. */
function drawCenter(random: Random, host: Raster, ex: number, ey: number): [number, number] {
  const cx = ex * 2 <= host.width ? random.range(ex, host.width - ex) : host.width / 2;
  const cy = ey * 2 <= host.height ? random.range(ey, host.height - ey) : host.height / 2;
  return [cx, cy];
}

/**
 * Composites `layer` over `host`: each host pixel maps back into the layer's frame (inverse
 * rotation), takes the layer's colour by bilinear interpolation (clamped at its edges) and its
 * alpha from the shape by nearest neighbour, feathered when asked. Mask = alpha >= 0.5.
 */
function composite(host: Raster, layer: Layer): { rgb: Raster; mask: Raster } {
  const { patch, shape, cx, cy, angle, feather } = layer;
  const pw = patch.width;
  const ph = patch.height;
  const [ex, ey] = rotatedExtents(pw, ph, angle);
  const pad = feather * 2 + 1;
  const x0 = Math.max(0, Math.floor(cx - ex) - pad);
  const y0 = Math.max(0, Math.floor(cy - ey) - pad);
  const x1 = Math.min(host.width, Math.ceil(cx + ex) + pad);
  const y1 = Math.min(host.height, Math.ceil(cy + ey) + pad);
  const bw = Math.max(0, x1 - x0);
  const bh = Math.max(0, y1 - y0);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  let alpha: Float32Array = new Float32Array(bw * bh);
  const colour = new Float32Array(bw * bh * 3);
  const pd = patch.data;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const dx = x0 + x + 0.5 - cx;
      const dy = y0 + y + 0.5 - cy;
      // Inverse rotation into the layer's frame (origin at its top-left corner).
      const u = cos * dx + sin * dy + pw / 2;
      const v = -sin * dx + cos * dy + ph / 2;
      const i = y * bw + x;
      if (u >= 0 && u < pw && v >= 0 && v < ph) alpha[i] = shape.data[Math.floor(v) * pw + Math.floor(u)];
      // Colour is needed wherever a feathered alpha can reach, so it is sampled everywhere.
      const fu = Math.min(pw - 1, Math.max(0, u - 0.5));
      const fv = Math.min(ph - 1, Math.max(0, v - 0.5));
      const ix = Math.min(pw - 2, Math.floor(fu));
      const iy = Math.min(ph - 2, Math.floor(fv));
      const ax = pw === 1 ? 0 : fu - ix;
      const ay = ph === 1 ? 0 : fv - iy;
      const i00 = (Math.max(0, iy) * pw + Math.max(0, ix)) * 3;
      const i01 = (Math.max(0, iy) * pw + Math.min(pw - 1, ix + 1)) * 3;
      const i10 = (Math.min(ph - 1, iy + 1) * pw + Math.max(0, ix)) * 3;
      const i11 = (Math.min(ph - 1, iy + 1) * pw + Math.min(pw - 1, ix + 1)) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = pd[i00 + ch] * (1 - ax) + pd[i01 + ch] * ax;
        const bottom = pd[i10 + ch] * (1 - ax) + pd[i11 + ch] * ax;
        colour[i * 3 + ch] = top * (1 - ay) + bottom * ay;
      }
    }
  }
  if (feather > 0) alpha = featherAlpha(alpha, bw, bh, feather);
  const rgb = { data: host.data.slice(), width: host.width, height: host.height, channels: 3 };
  const mask = createRaster(host.width, host.height, 1);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const a = alpha[y * bw + x];
      if (a <= 0) continue;
      const p = (y0 + y) * host.width + x0 + x;
      for (let ch = 0; ch < 3; ch++) {
        const v = a * colour[(y * bw + x) * 3 + ch] + (1 - a) * host.data[p * 3 + ch];
        rgb.data[p * 3 + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
      if (a >= 0.5) mask.data[p] = 1;
    }
  }
  return { rgb, mask };
}

function drawShapeKind(random: Random): ShapeKind {
  return SHAPES[pickWeighted(random, SHAPE_WEIGHTS)];
}

/**
 * Splice: a region of `donor` pasted onto `host`, scaled (0.6-1.6x relative to the host's content
 * scale `donorScale`, i.e. host pixels per donor pixel) and, half of the time, rotated by up to
 * 45 degrees; feathered a third of the time; colour-adjusted a third of the time.
 */
export function splice(host: Raster, donor: Raster, donorScale: number, random: Random, options: ManipulationOptions = {}): ManipulationResult {
  const targetArea = drawArea(random, host, options);
  const kind = drawShapeKind(random);
  const plan = planShape(random, kind, targetArea * host.width * host.height, host.width * 0.9, host.height * 0.9);
  const angle = random.chance(0.5) ? random.range(-Math.PI / 4, Math.PI / 4) : 0;
  // The donor region must fit in the donor: the scale has a floor.
  const minScale = Math.max(plan.width / donor.width, plan.height / donor.height) / donorScale;
  const scale = Math.max(random.logRange(0.6, 1.6), minScale * 1.001);
  const k = donorScale * scale;
  const rw = plan.width / k;
  const rh = plan.height / k;
  const rx = random.range(0, Math.max(0, donor.width - rw));
  const ry = random.range(0, Math.max(0, donor.height - rh));
  let patch = resample(donor, plan.width, plan.height, { x: rx, y: ry, width: rw, height: rh });
  const shape = plan.render(patch);
  const colorAdjusted = random.chance(1 / 3);
  if (colorAdjusted) patch = brightnessContrast(patch, random.range(0.85, 1.15), random.range(-0.08, 0.08));
  const feather = drawFeather(random, host, 1 / 3, targetArea);
  const [ex, ey] = rotatedExtents(plan.width, plan.height, angle);
  const [cx, cy] = drawCenter(random, host, ex, ey);
  const { rgb, mask } = composite(host, { patch, shape, cx, cy, angle, feather });
  return { rgb, mask, info: { shape: kind, targetArea, rotation: (angle * 180) / Math.PI, scale, feather, colorAdjusted } };
}

/**
 * Copy-move: a region of the host pasted elsewhere on itself, scaled 0.75-1.33x and, 30% of the
 * time, rotated by up to 30 degrees; the source is kept apart from the destination (centers at
 * least 0.6 box sizes apart when the image allows it).
 */
export function copyMove(host: Raster, random: Random, options: ManipulationOptions = {}): ManipulationResult {
  const targetArea = drawArea(random, host, options);
  const kind = drawShapeKind(random);
  const plan = planShape(random, kind, targetArea * host.width * host.height, host.width * 0.7, host.height * 0.7);
  const angle = random.chance(0.3) ? random.range(-Math.PI / 6, Math.PI / 6) : 0;
  const minScale = Math.max(plan.width / host.width, plan.height / host.height);
  const scale = Math.max(random.logRange(0.75, 1.33), minScale * 1.001);
  const rw = plan.width / scale;
  const rh = plan.height / scale;
  const [ex, ey] = rotatedExtents(plan.width, plan.height, angle);
  const [cx, cy] = drawCenter(random, host, ex, ey);
  const apart = 0.6 * Math.max(plan.width, plan.height);
  let best: [number, number] = [0, 0];
  let bestDistance = -1;
  for (let attempt = 0; attempt < 20; attempt++) {
    const sx = random.range(0, Math.max(0, host.width - rw));
    const sy = random.range(0, Math.max(0, host.height - rh));
    const d = Math.hypot(sx + rw / 2 - cx, sy + rh / 2 - cy);
    if (d > bestDistance) {
      best = [sx, sy];
      bestDistance = d;
    }
    if (d >= apart) break;
  }
  const patch = resample(host, plan.width, plan.height, { x: best[0], y: best[1], width: rw, height: rh });
  const shape = plan.render(patch);
  const feather = drawFeather(random, host, 1 / 3, targetArea);
  const { rgb, mask } = composite(host, { patch, shape, cx, cy, angle, feather });
  return { rgb, mask, info: { shape: kind, targetArea, rotation: (angle * 180) / Math.PI, scale, feather } };
}

/**
 * Removal: a region filled from its surroundings, either by diffusion (the region's colours solve
 * Laplace's equation with the surrounding pixels as boundary, coarse to fine, then get noise at
 * the level of the surrounding texture half of the time) or by a patch copied from beside the
 * region, like a clone stamp.
 */
export function removal(host: Raster, random: Random, options: ManipulationOptions = {}): ManipulationResult {
  const targetArea = drawArea(random, host, options);
  const kind = drawShapeKind(random);
  const plan = planShape(random, kind, targetArea * host.width * host.height, host.width * 0.8, host.height * 0.8);
  const x0 = random.intRange(0, Math.max(0, host.width - plan.width));
  const y0 = random.intRange(0, Math.max(0, host.height - plan.height));
  const region = resample(host, plan.width, plan.height, { x: x0, y: y0, width: plan.width, height: plan.height });
  const shape = plan.render(region);
  const cx = x0 + plan.width / 2;
  const cy = y0 + plan.height / 2;
  // Clone-stamp sources beside the region that fit in the image.
  const gap = Math.max(2, Math.round(Math.min(plan.width, plan.height) * 0.1));
  const sources = [
    [x0 - plan.width - gap, y0],
    [x0 + plan.width + gap, y0],
    [x0, y0 - plan.height - gap],
    [x0, y0 + plan.height + gap],
  ].filter(([sx, sy]) => sx >= 0 && sy >= 0 && sx + plan.width <= host.width && sy + plan.height <= host.height);
  if (sources.length > 0 && random.chance(0.5)) {
    const [sx, sy] = random.pick(sources);
    const patch = resample(host, plan.width, plan.height, { x: sx, y: sy, width: plan.width, height: plan.height });
    const feather = drawFeather(random, host, 0.5, targetArea);
    const { rgb, mask } = composite(host, { patch, shape, cx, cy, angle: 0, feather });
    return { rgb, mask, info: { shape: kind, targetArea, feather, fill: 'patch' } };
  }
  const rgb = diffusionFill(host, shape, x0, y0, random.chance(0.5) ? random : null);
  const mask = createRaster(host.width, host.height, 1);
  for (let y = 0; y < plan.height; y++) {
    for (let x = 0; x < plan.width; x++) {
      if (shape.data[y * plan.width + x] && y0 + y < host.height && x0 + x < host.width) mask.data[(y0 + y) * host.width + x0 + x] = 1;
    }
  }
  return { rgb, mask, info: { shape: kind, targetArea, feather: 0, fill: 'diffusion' } };
}

/**
 * Gauss-Seidel relaxation of the hole pixels of a (w x h x 3) float field towards the mean of
 * their in-bounds 4-neighbours; known pixels stay fixed.
 */
function relax(field: Float32Array, hole: Uint8Array, w: number, h: number, iterations: number): void {
  for (let it = 0; it < iterations; it++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        if (!hole[p]) continue;
        let n = 0;
        let r = 0;
        let g = 0;
        let b = 0;
        const add = (q: number) => {
          r += field[q * 3];
          g += field[q * 3 + 1];
          b += field[q * 3 + 2];
          n++;
        };
        if (x > 0) add(p - 1);
        if (x < w - 1) add(p + 1);
        if (y > 0) add(p - w);
        if (y < h - 1) add(p + w);
        field[p * 3] = r / n;
        field[p * 3 + 1] = g / n;
        field[p * 3 + 2] = b / n;
      }
    }
  }
}

/**
 * Fills the hole pixels coarse to fine: the field is halved (a coarse pixel is known when any of
 * its children is, with their mean) until it is small, solved there, and each finer level starts
 * from the coarser solution and relaxes a few times.
 */
function solveHole(field: Float32Array, hole: Uint8Array, w: number, h: number): void {
  if (Math.max(w, h) <= 24) {
    let n = 0;
    const mean = [0, 0, 0];
    for (let p = 0; p < w * h; p++) {
      if (hole[p]) continue;
      for (let ch = 0; ch < 3; ch++) mean[ch] += field[p * 3 + ch];
      n++;
    }
    for (let p = 0; p < w * h; p++) if (hole[p]) for (let ch = 0; ch < 3; ch++) field[p * 3 + ch] = n > 0 ? mean[ch] / n : 128;
    relax(field, hole, w, h, 60);
    return;
  }
  const cw = Math.ceil(w / 2);
  const chh = Math.ceil(h / 2);
  const coarse = new Float32Array(cw * chh * 3);
  const coarseHole = new Uint8Array(cw * chh);
  for (let y = 0; y < chh; y++) {
    for (let x = 0; x < cw; x++) {
      let n = 0;
      const acc = [0, 0, 0];
      for (let dy = 0; dy < 2; dy++) {
        for (let dx = 0; dx < 2; dx++) {
          const fx = x * 2 + dx;
          const fy = y * 2 + dy;
          if (fx >= w || fy >= h) continue;
          const p = fy * w + fx;
          if (hole[p]) continue;
          for (let ch = 0; ch < 3; ch++) acc[ch] += field[p * 3 + ch];
          n++;
        }
      }
      const q = y * cw + x;
      if (n === 0) coarseHole[q] = 1;
      else for (let ch = 0; ch < 3; ch++) coarse[q * 3 + ch] = acc[ch] / n;
    }
  }
  solveHole(coarse, coarseHole, cw, chh);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!hole[p]) continue;
      const q = (y >> 1) * cw + (x >> 1);
      for (let ch = 0; ch < 3; ch++) field[p * 3 + ch] = coarse[q * 3 + ch];
    }
  }
  relax(field, hole, w, h, 8);
}

/** Diffusion fill of `shape` (placed at x0, y0) on `host`, optionally with texture noise from `noise`. */
function diffusionFill(host: Raster, shape: Raster, x0: number, y0: number, noise: Random | null): Raster {
  const margin = 3;
  const bx0 = Math.max(0, x0 - margin);
  const by0 = Math.max(0, y0 - margin);
  const bx1 = Math.min(host.width, x0 + shape.width + margin);
  const by1 = Math.min(host.height, y0 + shape.height + margin);
  const w = bx1 - bx0;
  const h = by1 - by0;
  const field = new Float32Array(w * h * 3);
  const hole = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const hp = ((by0 + y) * host.width + bx0 + x) * 3;
      for (let ch = 0; ch < 3; ch++) field[(y * w + x) * 3 + ch] = host.data[hp + ch];
      const sx = bx0 + x - x0;
      const sy = by0 + y - y0;
      if (sx >= 0 && sy >= 0 && sx < shape.width && sy < shape.height && shape.data[sy * shape.width + sx]) hole[y * w + x] = 1;
    }
  }
  solveHole(field, hole, w, h);
  let sigma = 0;
  if (noise) {
    // The surrounding texture's noise level: horizontal differences of known pixels / sqrt(2).
    let n = 0;
    let acc = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x + 1 < w; x++) {
        const p = y * w + x;
        if (hole[p] || hole[p + 1]) continue;
        for (let ch = 0; ch < 3; ch++) acc += (field[p * 3 + ch] - field[(p + 1) * 3 + ch]) ** 2;
        n += 3;
      }
    }
    sigma = n > 0 ? Math.sqrt(acc / n / 2) * 0.6 : 0;
  }
  const out = { data: host.data.slice(), width: host.width, height: host.height, channels: 3 };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (!hole[p]) continue;
      const grain = noise && sigma > 0 ? noise.normal() * sigma : 0;
      const hp = ((by0 + y) * host.width + bx0 + x) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const v = field[p * 3 + ch] + grain;
        out.data[hp + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
    }
  }
  return out;
}
