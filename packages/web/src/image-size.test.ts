import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SparseViTError } from '@sparsevit/core';
import { describe, expect, it } from 'vitest';
import { readImageSize } from './image-size';
import { deserializeError, serializeError } from './protocol';

// The browser behaviour (decoding, ONNX Runtime Web, the worker, caching) is tested in a real
// Chromium by apps/web-demo; these are the parts that run anywhere.
const images = join(import.meta.dirname, '../../../tooling/fixtures/sparsevit-tiny/images');

describe('readImageSize', () => {
  it('reads PNG sizes from the header', () => {
    expect(readImageSize(readFileSync(join(images, 'splice_640x480.png')))).toEqual({ width: 640, height: 480, format: 'png' });
    expect(readImageSize(readFileSync(join(images, 'gray_257x333.png')))).toEqual({ width: 257, height: 333, format: 'png' });
  });

  it('reads JPEG (past APP segments), GIF, WebP and BMP headers', () => {
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0x4d, 0x02, 0x01, 0x03, 0, 0, 0]);
    expect(readImageSize(jpeg)).toEqual({ width: 513, height: 333, format: 'jpeg' });
    const gif = new Uint8Array([...'GIF89a'].map((c) => c.charCodeAt(0)).concat([0x10, 0x27, 0x20, 0x4e]));
    expect(readImageSize(gif)).toEqual({ width: 10000, height: 20000, format: 'gif' });
    const webp = new Uint8Array(30);
    webp.set([...'RIFF'].map((c) => c.charCodeAt(0)), 0);
    webp.set([...'WEBPVP8X'].map((c) => c.charCodeAt(0)), 8);
    webp.set([0x3f, 0x9c, 0x00, 0x0f, 0x27, 0x00], 24); // 40000 x 10000
    expect(readImageSize(webp)).toEqual({ width: 40000, height: 10000, format: 'webp' });
    const bmp = new Uint8Array(26);
    bmp.set([0x42, 0x4d], 0);
    new DataView(bmp.buffer).setInt32(18, 300, true);
    new DataView(bmp.buffer).setInt32(22, -200, true); // top-down
    expect(readImageSize(bmp)).toEqual({ width: 300, height: 200, format: 'bmp' });
  });

  it('gives up on anything else', () => {
    expect(readImageSize(new TextEncoder().encode('%PDF-1.4 not an image'))).toBeUndefined();
    expect(readImageSize(new Uint8Array(0))).toBeUndefined();
    expect(readImageSize(new Uint8Array([0xff, 0xd8, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
  });
});

describe('errors across the worker boundary', () => {
  it('keep their code, message and cloneable details', () => {
    const error = new SparseViTError('IMAGE_TOO_LARGE', 'too big', { details: { width: 1, height: 2 } });
    const back = deserializeError(structuredClone(serializeError(error)));
    expect(back).toBeInstanceOf(SparseViTError);
    expect(back).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: 'too big', details: { width: 1, height: 2 } });
    expect(serializeError(new SparseViTError('WEIGHTS_MISMATCH', 'x', { details: { f: () => 1 } })).details).toBeUndefined();
    expect(serializeError(new TypeError('boom'))).toEqual({ code: 'BACKEND_UNAVAILABLE', message: 'boom' });
  });
});
