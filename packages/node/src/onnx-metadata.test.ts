import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { CONFIG_METADATA_KEY, prepareGraphWeights, readSafetensors } from '@sparsevit/core';
import { lowerToOnnx } from '@sparsevit/onnx';
import { describe, expect, it } from 'vitest';
import { loadModel } from './load-model';

const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
const config = JSON.parse(readFileSync(tiny('config.json'), 'utf8'));

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let i = 0; ; i++) {
    value += (bytes[at + i]! & 0x7f) * 2 ** (7 * i);
    if ((bytes[at + i]! & 0x80) === 0) return [value, at + i + 1];
  }
}

/** The model with its `sparsevit.config` metadata replaced by `metadata` (ModelProto field 14). */
function withMetadataConfig(model: Uint8Array, metadata: string): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let pos = 0;
  while (pos < model.length) {
    const start = pos;
    const [tag, afterTag] = readVarint(model, pos);
    const wire = tag & 7;
    if (wire === 0) pos = readVarint(model, afterTag)[1];
    else if (wire === 1) pos = afterTag + 8;
    else if (wire === 5) pos = afterTag + 4;
    else {
      const [length, body] = readVarint(model, afterTag);
      pos = body + length;
      if (tag >>> 3 === 14 && new TextDecoder().decode(model.subarray(body, body + length)).includes(CONFIG_METADATA_KEY)) {
        const key = enc.encode(CONFIG_METADATA_KEY);
        const value = enc.encode(metadata);
        const entry = [0x0a, ...varint(key.length), ...key, 0x12, ...varint(value.length), ...value];
        parts.push(Uint8Array.from([0x72, ...varint(entry.length), ...entry]));
        continue;
      }
    }
    parts.push(model.subarray(start, pos));
  }
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('an .onnx file whose metadata disagrees with its graph', () => {
  it('is refused at load with CORRUPT_WEIGHTS, not BACKEND_UNAVAILABLE on every image', async () => {
    const store = await readSafetensors(readFileSync(tiny('weights.safetensors')));
    const onnx = lowerToOnnx(config, prepareGraphWeights(store, config));
    // A valid config, but not the graph's: the graph takes 512 x 512 inputs.
    const lying = withMetadataConfig(onnx, JSON.stringify({ ...config, img_size: 1024 }));
    const error = await loadModel({ weights: lying }).then(
      async (model) => {
        try {
          return await model.detect(tiny('images', 'splice_300x500.png')).then(() => undefined, (e: unknown) => e);
        } finally {
          await model.dispose();
        }
      },
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'SparseViTError', code: 'CORRUPT_WEIGHTS' });
    expect((error as Error).message).toMatch(/input is 512 x 512 but its config \(sparsevit\.config metadata\) says img_size 1024/);

    // The same file with its own config loads and runs.
    const honest = await loadModel({ weights: withMetadataConfig(onnx, JSON.stringify(config)) });
    try {
      expect((await honest.detect(tiny('images', 'splice_300x500.png'))).width).toBe(300);
    } finally {
      await honest.dispose();
    }
  });
});
