// Test-only helpers (Node): load a parity case and its image. Kept out of `*.test.ts` so several
// test files share it; nothing outside tests imports this file.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { fixturePath } from '@sparsevit/fixtures';
import type { RawImage } from './raw-image';

export interface ReferenceTensor {
  shape: number[];
  data: Float32Array;
}

export interface ReferenceCase {
  image: string;
  tensors: Map<string, ReferenceTensor>;
}

/**
 * A minimal safetensors reader for the fixtures (8-byte LE header length, JSON header, F32 data),
 * local so these tests do not depend on the SDK's own reader.
 */
export function readReferenceCase(name: string): ReferenceCase {
  const buf = readFileSync(fixturePath('sparsevit-tiny', `${name}.safetensors`));
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  const base = 8 + headerLen;
  const tensors = new Map<string, ReferenceTensor>();
  let image = '';
  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      const meta = value as Record<string, string>;
      image = meta.image ?? Object.values(meta).find((v) => v.endsWith('.png')) ?? '';
      continue;
    }
    const t = value as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (t.dtype !== 'F32') continue;
    const [start, end] = t.data_offsets;
    const data = new Float32Array(bytes.slice(base + start, base + end).buffer);
    tensors.set(key, { shape: t.shape, data });
  }
  return { image, tensors };
}

export function tensor(c: ReferenceCase, key: string): ReferenceTensor {
  const t = c.tensors.get(key);
  if (!t) throw new Error(`fixture has no tensor ${key}`);
  return t;
}

/** Decodes a fixture PNG keeping its stored channels (sharp expands gray to RGB unless told). */
export async function loadFixtureImage(file: string): Promise<RawImage> {
  const path = fixturePath('sparsevit-tiny', 'images', file);
  const meta = await sharp(path).metadata();
  let pipeline = sharp(path);
  if (meta.channels === 1) pipeline = pipeline.toColourspace('b-w');
  else if (meta.channels === 2) pipeline = pipeline.toColourspace('b-w').ensureAlpha();
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== meta.channels) throw new Error(`sharp gave ${info.channels} channels for a ${meta.channels}-channel PNG`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: info.channels as 1 | 2 | 3 | 4,
  };
}
