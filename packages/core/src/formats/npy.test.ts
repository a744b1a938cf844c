import { describe, expect, it } from 'vitest';
import { isSparseViTError } from '../errors';
import { decodeNpy, encodeNpy } from './npy';

const fromBase64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** `numpy.save` output (numpy 2.4.6) for small arrays, base64. */
const NUMPY = {
  // np.arange(6, dtype='<f4').reshape(2, 3) * 0.5 - 1
  f32_2x3:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAIC/AAAAvwAAAAAAAAA/AACAPwAAwD8=',
  // np.array([0, 1, 255, 7], dtype=np.uint8)
  u8_4:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAf8H',
  // np.array(3.5, dtype='<f4')  (0-d: no growth padding)
  f32_scalar:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAGBA',
  // np.arange(24, dtype='u1').reshape(2, 3, 4)
  u8_2x3x4:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhc=',
  // np.zeros((12345678901, 0), dtype='<f4')  (long first axis: less growth padding)
  f32_long_empty:
    'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDEyMzQ1Njc4OTAxLCAwKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAo=',
};

describe('encodeNpy', () => {
  it('writes the same bytes as numpy.save', () => {
    expect(encodeNpy(new Float32Array([-1, -0.5, 0, 0.5, 1, 1.5]), [2, 3])).toEqual(fromBase64(NUMPY.f32_2x3));
    expect(encodeNpy(new Uint8Array([0, 1, 255, 7]), [4])).toEqual(fromBase64(NUMPY.u8_4));
    expect(encodeNpy(new Float32Array([3.5]), [])).toEqual(fromBase64(NUMPY.f32_scalar));
    expect(encodeNpy(Uint8Array.from({ length: 24 }, (_, i) => i), [2, 3, 4])).toEqual(fromBase64(NUMPY.u8_2x3x4));
    expect(encodeNpy(new Float32Array(0), [12345678901, 0])).toEqual(fromBase64(NUMPY.f32_long_empty));
  });

  it('aligns the data to 64 bytes and ends the header with a newline', () => {
    for (const shape of [[1], [512, 512], [1, 3, 512, 512], [7, 11, 13]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const bytes = encodeNpy(new Float32Array(n), shape);
      const headerLen = bytes[8] | (bytes[9] << 8);
      expect((10 + headerLen) % 64).toBe(0);
      expect(bytes[10 + headerLen - 1]).toBe(0x0a);
      expect(bytes.length).toBe(10 + headerLen + 4 * n);
    }
  });

  it('writes a subarray view, not its whole buffer', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const decoded = decodeNpy(encodeNpy(big.subarray(1, 3), [2]));
    expect([...decoded.data]).toEqual([1, 2]);
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => encodeNpy(new Float32Array(0), [-1])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('decodeNpy', () => {
  it('reads numpy files', () => {
    const a = decodeNpy(fromBase64(NUMPY.f32_2x3));
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([2, 3]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect([...a.data]).toEqual([-1, -0.5, 0, 0.5, 1, 1.5]);
    const b = decodeNpy(fromBase64(NUMPY.u8_2x3x4));
    expect(b.dtype).toBe('|u1');
    expect(b.shape).toEqual([2, 3, 4]);
    expect([...b.data]).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const s = decodeNpy(fromBase64(NUMPY.f32_scalar));
    expect(s.shape).toEqual([]);
    expect([...s.data]).toEqual([3.5]);
  });

  it('round-trips float32 and uint8 arrays of any shape', () => {
    const f = Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => Math.sin(i) * 1e3);
    const rf = decodeNpy(encodeNpy(f, [3, 5, 7]));
    expect(rf.shape).toEqual([3, 5, 7]);
    expect(rf.data).toEqual(f);
    const u = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
    const ru = decodeNpy(encodeNpy(u, [300]));
    expect(ru.data).toEqual(u);
  });

  it('reads from an unaligned offset', () => {
    const file = encodeNpy(new Float32Array([1, 2, 3]), [3]);
    const padded = new Uint8Array(file.length + 1);
    padded.set(file, 1);
    expect([...decodeNpy(padded.subarray(1)).data]).toEqual([1, 2, 3]);
  });

  it('rejects malformed and truncated files', () => {
    const good = fromBase64(NUMPY.f32_2x3);
    const code = (bytes: Uint8Array) => {
      try {
        decodeNpy(bytes);
      } catch (err) {
        return isSparseViTError(err) ? err.code : 'other';
      }
      return 'none';
    };
    expect(code(good)).toBe('none');
    expect(code(new Uint8Array(0))).toBe('INVALID_ARGUMENT');
    expect(code(good.subarray(0, 9))).toBe('INVALID_ARGUMENT');
    expect(code(good.subarray(0, 60))).toBe('INVALID_ARGUMENT'); // header cut
    expect(code(good.subarray(0, good.length - 1))).toBe('INVALID_ARGUMENT'); // data cut
    const badMagic = good.slice();
    badMagic[1] = 0x4f;
    expect(code(badMagic)).toBe('INVALID_ARGUMENT');
    const hugeHeader = good.slice();
    hugeHeader[8] = 0xff;
    hugeHeader[9] = 0xff;
    expect(code(hugeHeader)).toBe('INVALID_ARGUMENT');
  });

  it('reports other dtypes and Fortran order as unsupported', () => {
    const withHeader = (header: string, dataBytes: number) => {
      const text = header.padEnd(118, ' ') + '\n';
      const out = new Uint8Array(10 + text.length + dataBytes);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 255, text.length >> 8]);
      for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
      return out;
    };
    expect(() => decodeNpy(withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }),
    );
    expect(() => decodeNpy(withHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }),
    );
    expect(() => decodeNpy(withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16))).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_FORMAT' }),
    );
    expect(decodeNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8)).shape).toEqual([2]);
  });
});
