import { seededRandom } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { convertStore, float32Tensor, toFloat32 } from './convert';
import {
  bf16BitsToF32,
  f16BitsToF32,
  f16BytesToFloat32,
  f32ToBf16Bits,
  f32ToF16Bits,
  float32ToF16Bytes,
} from './half';
import type { TensorStore, WeightTensor } from './tensor';

const fround = Math.fround;

function isNaN16(h: number): boolean {
  return (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
}

/** All positive finite binary16 values in increasing order, by construction from the definition. */
const positives: number[] = [];
for (let h = 0; h < 0x7c00; h++) positives.push(h < 0x400 ? h * 2 ** -24 : (1 + (h & 0x3ff) / 1024) * 2 ** ((h >> 10) - 15));

/** Brute-force reference: nearest binary16, ties to the even bit pattern, overflow to infinity. */
function referenceF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  // 65520 = 65504 + half an ulp: from there on IEEE rounding overflows.
  if (a >= 65520) return sign | 0x7c00;
  let lo = 0;
  let hi = positives.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (positives[mid]! <= a) lo = mid;
    else hi = mid - 1;
  }
  if (lo === positives.length - 1) return sign | lo;
  const dLo = a - positives[lo]!;
  const dHi = positives[lo + 1]! - a;
  if (dLo < dHi) return sign | lo;
  if (dHi < dLo) return sign | (lo + 1);
  return sign | (lo % 2 === 0 ? lo : lo + 1);
}


describe('binary16', () => {
  it('decodes edge patterns', () => {
    expect(Object.is(f16BitsToF32(0x0000), 0)).toBe(true);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x0400)).toBe(2 ** -14);
    expect(f16BitsToF32(0x3c00)).toBe(1);
    expect(f16BitsToF32(0xc000)).toBe(-2);
    expect(f16BitsToF32(0x3555)).toBe(0.333251953125);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
    expect(f16BitsToF32(0xfd01)).toBeNaN();
  });

  it('round-trips every pattern (NaNs stay NaN, made quiet)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const back = f32ToF16Bits(f16BitsToF32(h));
      if (isNaN16(h)) {
        expect(isNaN16(back)).toBe(true);
        expect(back & 0x8000).toBe(h & 0x8000);
      } else if (back !== h) {
        throw new Error(`0x${h.toString(16)} -> ${f16BitsToF32(h)} -> 0x${back.toString(16)}`);
      }
    }
  });

  it('encodes edge values exactly', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [fround(65519.99), 0x7bff],
      [65520, 0x7c00], // tie between 65504 (odd mantissa) and 65536 -> even, i.e. infinity
      [1e10, 0x7c00],
      [-1e10, 0xfc00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // tie between 0 and 2^-24 -> even (0)
      [fround(2 ** -25 * 1.0000001), 0x0001],
      [-(2 ** -25), 0x8000],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 units -> even (2)
      [5 * 2 ** -25, 0x0002], // tie between 2 and 3 units -> even (2)
      [2 ** -26, 0x0000],
      [1.401298464324817e-45, 0x0000], // float32 subnormal
      [1023.5 * 2 ** -24, 0x0400], // tie at the subnormal/normal boundary -> 0x400
      [1022.5 * 2 ** -24, 0x03fe],
      [2 ** -14, 0x0400],
      [1 + 2 ** -11, 0x3c00], // tie -> even
      [1 + 3 * 2 ** -11, 0x3c02], // tie -> even
      [fround(1 + 2 ** -11 + 2 ** -20), 0x3c01], // just above the tie
      [fround(2047 / 1024 + 2 ** -11), 0x4000], // rounds up into the next binade
    ];
    for (const [x, h] of cases) {
      expect(f32ToF16Bits(x).toString(16), String(x)).toBe(h.toString(16));
      expect(referenceF16(x).toString(16), `reference ${x}`).toBe(h.toString(16));
    }
    expect(isNaN16(f32ToF16Bits(NaN))).toBe(true);
    // a NaN whose payload is only in the low bits must not become infinity
    const lowPayloadNaN = new Float32Array(new Uint32Array([0x7f800001]).buffer)[0]!;
    expect(isNaN16(f32ToF16Bits(lowPayloadNaN))).toBe(true);
  });

  it('matches a brute-force nearest-even reference on random float32 values', () => {
    const rand = seededRandom(1234);
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    for (let i = 0; i < 50_000; i++) {
      // exponents concentrated around half's range, including subnormals and overflow
      const exp = 127 - 27 + Math.floor(rand() * 46);
      bits[0] = ((rand() < 0.5 ? 1 : 0) << 31) | (exp << 23) | Math.floor(rand() * 0x800000);
      const x = f[0]!;
      const got = f32ToF16Bits(x);
      const want = referenceF16(x);
      if (got !== want) throw new Error(`${x}: got 0x${got.toString(16)}, want 0x${want.toString(16)}`);
    }
  });

  it('converts arrays both ways', () => {
    const values = new Float32Array([0, -0, 1, -1.5, 65504, 2 ** -24, Infinity]);
    const back = f16BytesToFloat32(float32ToF16Bytes(values));
    expect([...back]).toEqual([...values]);
  });
});

describe('bfloat16', () => {
  it('decodes and rounds', () => {
    expect(bf16BitsToF32(0x3f80)).toBe(1);
    expect(bf16BitsToF32(0xc000)).toBe(-2);
    expect(bf16BitsToF32(0x7f80)).toBe(Infinity);
    expect(bf16BitsToF32(0x7fc0)).toBeNaN();
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie -> even
    expect(f32ToBf16Bits(fround(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81);
    expect(f32ToBf16Bits(3.4028234663852886e38)).toBe(0x7f80); // rounds to infinity
    expect(bf16BitsToF32(f32ToBf16Bits(NaN))).toBeNaN();
  });
});

function tensor(dtype: WeightTensor['dtype'], shape: number[], bytes: number[]): WeightTensor {
  return { dtype, shape, data: Uint8Array.from(bytes) };
}

describe('toFloat32 and convertStore', () => {
  it('widens every dtype', () => {
    expect([...toFloat32(tensor('F16', [2], [0x00, 0x3c, 0x00, 0xc0]))]).toEqual([1, -2]);
    expect([...toFloat32(tensor('BF16', [1], [0x80, 0x3f]))]).toEqual([1]);
    const f64 = new Uint8Array(new Float64Array([0.5, -3]).buffer);
    expect([...toFloat32({ dtype: 'F64', shape: [2], data: f64 })]).toEqual([0.5, -3]);
    const i64 = new Uint8Array(new BigInt64Array([5n, -7n]).buffer);
    expect([...toFloat32({ dtype: 'I64', shape: [2], data: i64 })]).toEqual([5, -7]);
    expect([...toFloat32(tensor('I32', [1], [0xff, 0xff, 0xff, 0xff]))]).toEqual([-1]);
    expect([...toFloat32(tensor('I16', [1], [0x00, 0x80]))]).toEqual([-32768]);
    expect([...toFloat32(tensor('I8', [2], [0xff, 0x7f]))]).toEqual([-1, 127]);
    expect([...toFloat32(tensor('U8', [2], [0xff, 0x01]))]).toEqual([255, 1]);
    expect([...toFloat32(tensor('BOOL', [2], [0, 1]))]).toEqual([0, 1]);
  });

  it('reads float32 bytes at an unaligned offset', () => {
    const buf = new Uint8Array(9);
    buf.set(new Uint8Array(new Float32Array([1.25, -8]).buffer), 1);
    expect([...toFloat32({ dtype: 'F32', shape: [2], data: buf.subarray(1) })]).toEqual([1.25, -8]);
  });

  it('converts floating tensors only', () => {
    const store: TensorStore = {
      tensors: new Map<string, WeightTensor>([
        ['w', float32Tensor([2], new Float32Array([1, 0.1]))],
        ['n', { dtype: 'I64', shape: [], data: new Uint8Array(new BigInt64Array([3n]).buffer) }],
        ['b', tensor('BF16', [1], [0x80, 0x3f])],
      ]),
      metadata: { a: 'b' },
    };
    const half = convertStore(store, 'F16');
    expect(half.tensors.get('w')!.dtype).toBe('F16');
    expect([...toFloat32(half.tensors.get('w')!)]).toEqual([1, f16BitsToF32(f32ToF16Bits(0.1))]);
    expect(half.tensors.get('n')).toBe(store.tensors.get('n'));
    expect(half.tensors.get('b')!.dtype).toBe('F16');
    expect(half.metadata).toEqual({ a: 'b' });
    const full = convertStore(half, 'F32');
    expect(full.tensors.get('w')!.dtype).toBe('F32');
    expect(full.tensors.get('n')!.dtype).toBe('I64');
    expect([...toFloat32(full.tensors.get('b')!)]).toEqual([1]);
  });
});
