/**
 * IEEE 754 binary16 (F16) and bfloat16 (BF16) bit conversions. Float32 -> half rounds to nearest,
 * ties to even, like numpy's `astype(float16)` and PyTorch's `.half()`, so that weights converted
 * here are bit-identical to weights converted there.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits (0..0xffff) nearest to `value` (round half to even; overflow -> infinity). */
export function f32ToF16Bits(value: number): number {
  f32[0] = value;
  return f32BitsToF16Bits(u32[0]!);
}

function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // Infinity stays infinity; NaN keeps the top payload bits and is forced quiet so that a
    // payload living only in the low 13 bits does not turn into infinity.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e16 = exp - 127 + 15;
  if (e16 >= 0x1f) return sign | 0x7c00;
  if (e16 >= 1) {
    // Normal result. A carry out of the mantissa bumps the exponent, and from exponent 30 it
    // lands exactly on 0x7c00 (infinity), which is the correct rounding of >= 65520.
    let h = (e16 << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  // Subnormal (or zero) result: the value is m * 2^(exp - 150) and a half subnormal counts units
  // of 2^-24, so the unit count is m >> (126 - exp) before rounding. Float32 subnormals (exp 0)
  // are far below half's smallest subnormal and round to zero.
  if (exp === 0) return sign;
  const shift = 126 - exp; // >= 14
  if (shift > 24) return sign; // below half of the smallest subnormal
  const m = mant | 0x800000;
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) q += 1; // q = 0x400 is the smallest normal
  return sign | q;
}

/** The float value of binary16 bits. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals; exact in float32
  if (exp === 0x1f) {
    if (mant === 0) return sign * Infinity;
    u32[0] = ((h & 0x8000) << 16) | 0x7f800000 | (mant << 13);
    return f32[0]!;
  }
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** The float value of bfloat16 bits (the top half of a float32). */
export function bf16BitsToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** The bfloat16 bits nearest to `value` (round half to even, NaN stays NaN). */
export function f32ToBf16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into the exponent
  // rounds up to the next binade or to infinity, both correct.
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Converts float32 values to little-endian binary16 bytes. */
export function float32ToF16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32BitsToF16Bits(bits[i]!), true);
  return out;
}

/** Converts little-endian binary16 bytes to float32 values. */
export function f16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 1;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) out[i] = f16BitsToF32(view.getUint16(i * 2, true));
  return out;
}

/** Converts little-endian bfloat16 bytes to float32 values (exact: bf16 is truncated f32). */
export function bf16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 1;
  const out = new Float32Array(n);
  const outBits = new Uint32Array(out.buffer);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
  return out;
}

/** Converts float32 values to little-endian bfloat16 bytes (round half to even). */
export function float32ToBf16Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint16(i * 2, f32ToBf16Bits(values[i]!), true);
  return out;
}

/** True on little-endian hosts (all current browsers and Node targets); typed-array fast paths need it. */
export const hostIsLittleEndian = littleEndian;
