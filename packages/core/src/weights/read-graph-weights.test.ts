import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../config/sparsevit-config';
import { bytesSource, type ByteSource } from './byte-source';
import { readGraphWeights } from './read-graph-weights';
import { readSafetensors, writeSafetensors } from './safetensors';

const config = validateConfig(JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8')));
const pth = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth')));
const safetensors = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));

/** A source that counts the bytes read from it. */
function countingSource(bytes: Uint8Array): ByteSource & { bytesRead: number } {
  const inner = bytesSource(bytes);
  const counter = {
    size: inner.size,
    bytesRead: 0,
    async read(offset: number, length: number) {
      counter.bytesRead += length;
      return inner.read(offset, length);
    },
  };
  return counter;
}

describe('readGraphWeights', () => {
  it('gives the same prepared weights from the .pth and the .safetensors of one model', async () => {
    const a = await readGraphWeights(bytesSource(pth), { config });
    const b = await readGraphWeights(bytesSource(safetensors), { config });
    expect(a.format).toBe('pytorch');
    expect(b.format).toBe('safetensors');
    expect(a.config).toEqual(config);
    expect([...a.weights.keys()]).toEqual([...b.weights.keys()]);
    let maxDiff = 0;
    for (const [name, w] of a.weights) {
      const v = b.weights.get(name)!;
      expect(v.shape).toEqual(w.shape);
      for (let i = 0; i < w.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w.data[i] - v.data[i]));
    }
    // The two files hold the same float32 values: preparation is exact on both paths.
    expect(maxDiff).toBe(0);
  });

  it('refuses a wrong-shaped tensor from the header, before reading any tensor data', async () => {
    const store = await readSafetensors(bytesSource(safetensors));
    const [name, tensor] = [...store.tensors].find(([, t]) => t.shape.length === 2)!;
    const rows = tensor.shape[0] + 1;
    store.tensors.set(name, { dtype: 'F32', shape: [rows, tensor.shape[1]], data: new Uint8Array(rows * tensor.shape[1] * 4) });
    const bytes = writeSafetensors(store);
    const headerBytes = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const source = countingSource(bytes);
    await expect(readGraphWeights(source, { config })).rejects.toMatchObject({ code: 'WEIGHTS_MISMATCH' });
    expect(source.bytesRead).toBeLessThanOrEqual(headerBytes + 16);
  });

  it('refuses empty files and .onnx files with typed errors', async () => {
    await expect(readGraphWeights(bytesSource(new Uint8Array(0)))).rejects.toMatchObject({ code: 'CORRUPT_WEIGHTS' });
    const onnx = readGraphWeights(bytesSource(Uint8Array.from([0x08, 0x07, 0x12, 0x00])));
    await expect(onnx).rejects.toMatchObject({ code: 'UNSUPPORTED_FORMAT', message: expect.stringMatching(/@sparsevit\/node/) });
  });
});
