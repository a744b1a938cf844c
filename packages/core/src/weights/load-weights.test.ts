import { readFileSync } from 'node:fs';
import { fixturePath, seededRandom } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { SparseViTError } from '../errors';
import type { ByteSource } from './byte-source';
import { detectWeightsFormat, readWeights } from './load-weights';
import { readPyTorchCheckpoint } from './pytorch-checkpoint';
import { readSafetensors } from './safetensors';
import { openZip } from './zip';

const checkpoint = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth')));
const safetensors = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('detectWeightsFormat', () => {
  it('recognizes the fixtures and the other formats', () => {
    expect(detectWeightsFormat(checkpoint.subarray(0, 16))).toBe('pytorch');
    expect(detectWeightsFormat(safetensors.subarray(0, 16))).toBe('safetensors');
    // ONNX ModelProto: field 1 (ir_version), varint
    expect(detectWeightsFormat(Uint8Array.from([0x08, 0x07, 0x12, 0x07]))).toBe('onnx');
    expect(detectWeightsFormat(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46]))).toBe('pytorch');
    expect(detectWeightsFormat(new TextEncoder().encode('GIF89a....'))).toBe('unknown');
    expect(detectWeightsFormat(new Uint8Array(0))).toBe('unknown');
    // "{" at byte 8 but an absurd length is not safetensors
    const absurd = new Uint8Array(16);
    new DataView(absurd.buffer).setBigUint64(0, 1n << 40n, true);
    absurd[8] = 0x7b;
    expect(detectWeightsFormat(absurd)).toBe('unknown');
  });
});

describe('readWeights', () => {
  it('dispatches to both readers and they agree', async () => {
    const a = await readWeights(checkpoint);
    const b = await readWeights(safetensors);
    expect(a.metadata.format).toBe('pytorch');
    expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort());
    await expect(readWeights(safetensors, 'safetensors')).resolves.toBeDefined();
  });

  it('sends .onnx to an adapter and rejects unknown or empty files', async () => {
    const onnx = await rejection(readWeights(Uint8Array.from([0x08, 0x07, 0x12, 0x00])));
    expect((onnx as SparseViTError).code).toBe('UNSUPPORTED_FORMAT');
    expect((onnx as Error).message).toMatch(/@sparsevit\/node/);
    const unknown = await rejection(readWeights(new TextEncoder().encode('hello')));
    expect((unknown as SparseViTError).code).toBe('UNSUPPORTED_FORMAT');
    const empty = await rejection(readWeights(new Uint8Array(0)));
    expect((empty as SparseViTError).code).toBe('CORRUPT_WEIGHTS');
    const forced = await rejection(readWeights(checkpoint, 'safetensors'));
    expect((forced as SparseViTError).code).toBe('CORRUPT_WEIGHTS');
  });
});


/** A source that records (instead of serving) any read outside its bytes. */
function strictSource(bytes: Uint8Array, violations: string[]): ByteSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
        violations.push(`${length}@${offset}`);
        throw new Error('out of bounds');
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

const ALLOWED_CODES = new Set(['CORRUPT_WEIGHTS', 'UNSUPPORTED_FORMAT', 'UNSAFE_CHECKPOINT']);

/**
 * Mutates `base` in the regions a reader parses (plus anywhere, rarely): byte flips, runs of
 * random bytes, 0x00/0xff fills, truncation and splices.
 */
function mutate(base: Uint8Array, rand: () => number, regions: readonly [number, number][]): Uint8Array {
  const pick = (): number => {
    if (rand() < 0.1) return Math.floor(rand() * base.length);
    const [s, e] = regions[Math.floor(rand() * regions.length)]!;
    return s + Math.floor(rand() * (e - s));
  };
  let out: Uint8Array = base.slice();
  const kind = rand();
  if (kind < 0.5) {
    const n = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < n; i++) out[pick()] = Math.floor(rand() * 256);
  } else if (kind < 0.7) {
    const at = pick();
    const fill = rand() < 0.5 ? 0xff : 0x00;
    out.fill(fill, at, Math.min(out.length, at + 1 + Math.floor(rand() * 8)));
  } else if (kind < 0.85) {
    out = out.slice(0, pick());
  } else {
    // splice: duplicate or delete a run, shifting everything after it
    const at = pick();
    const len = 1 + Math.floor(rand() * 64);
    out = rand() < 0.5
      ? concat(out.subarray(0, at), out.subarray(at, at + len), out.subarray(at))
      : concat(out.subarray(0, at), out.subarray(at + len));
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('fuzzing the readers with mutated real files', () => {
  it('the PyTorch reader only ever throws SparseViTError and reads inside the file', async () => {
    const zip = await openZip(checkpoint);
    const cdStart = zip.entries.reduce((m, e) => Math.max(m, e.localHeaderOffset), 0);
    const pklEnd = 64 + zip.entries[0]!.size + 64;
    // data.pkl (pickle VM), the first local headers, the central directory and end records
    const regions: [number, number][] = [
      [0, pklEnd],
      [pklEnd, pklEnd + 4096],
      [cdStart, checkpoint.length],
      [checkpoint.length - 200, checkpoint.length],
    ];
    const rand = seededRandom(20250101);
    const codes = new Map<string, number>();
    let ok = 0;
    const started = Date.now();
    for (let i = 0; i < 300; i++) {
      const bytes = mutate(checkpoint, rand, regions);
      const violations: string[] = [];
      // half the runs skip the CRC check so mutated pickles reach the interpreter
      const verifyCrc = i % 2 === 0;
      const err = await rejection(readPyTorchCheckpoint(strictSource(bytes, violations), { verifyCrc }));
      expect(violations, `iteration ${i}`).toEqual([]);
      if (err === undefined) {
        ok++;
        continue;
      }
      if (!(err instanceof SparseViTError)) throw new Error(`iteration ${i}: escaped ${String(err)}`, { cause: err });
      expect(ALLOWED_CODES.has(err.code), `iteration ${i}: ${err.code} ${err.message}`).toBe(true);
      codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
    }
    // the fuzz must actually reach error paths, and some mutations are harmless
    expect(codes.get('CORRUPT_WEIGHTS') ?? 0).toBeGreaterThan(50);
    expect(ok).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('the safetensors reader only ever throws SparseViTError and reads inside the file', async () => {
    const headerEnd = 8 + Number(new DataView(safetensors.buffer, safetensors.byteOffset).getBigUint64(0, true));
    const regions: [number, number][] = [
      [0, 8],
      [8, headerEnd],
      [headerEnd - 64, headerEnd + 64],
      [safetensors.length - 64, safetensors.length],
    ];
    const rand = seededRandom(7);
    let failures = 0;
    for (let i = 0; i < 300; i++) {
      const bytes = mutate(safetensors, rand, regions);
      const violations: string[] = [];
      const err = await rejection(readSafetensors(strictSource(bytes, violations)));
      expect(violations, `iteration ${i}`).toEqual([]);
      if (err === undefined) continue;
      if (!(err instanceof SparseViTError)) throw new Error(`iteration ${i}: escaped ${String(err)}`, { cause: err });
      expect(ALLOWED_CODES.has(err.code), `iteration ${i}: ${err.code} ${err.message}`).toBe(true);
      failures++;
    }
    expect(failures).toBeGreaterThan(100);
  });

  it('random garbage of every small length through readWeights', async () => {
    const rand = seededRandom(99);
    for (let i = 0; i < 300; i++) {
      const bytes = Uint8Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256));
      // make some look like each format so the readers go deeper than detection
      if (i % 3 === 0 && bytes.length >= 4) bytes.set([0x50, 0x4b, 0x03, 0x04]);
      if (i % 3 === 1 && bytes.length >= 9) {
        new DataView(bytes.buffer).setBigUint64(0, BigInt(Math.floor(rand() * bytes.length)), true);
        bytes[8] = 0x7b;
      }
      const violations: string[] = [];
      const err = await rejection(readWeights(strictSource(bytes, violations)));
      expect(violations).toEqual([]);
      if (err !== undefined && !(err instanceof SparseViTError)) throw new Error(`escaped ${String(err)}`, { cause: err });
    }
  });
});
