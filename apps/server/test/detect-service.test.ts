import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadModel, renderHeatmap, renderOverlay, type DetectionResult, type NodeSparseViTModel } from '@sparsevit/node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index';
import { bombPng, fixtureImage, maskDifferences, startTestServer, TINY_WEIGHTS, tinyConfigObject } from './helpers';
import { openApiChecker } from './openapi-check';

// The service against the SDK called directly in this process, on the same tiny model and the
// same bytes: what comes back over HTTP must be what `detect` returns. The model is the same
// ONNX graph on the same CPU, so scores agree to float32 rounding (bound 1e-6, measured 0).

const KEY = 'test-key-7f3a9c';
const auth = { authorization: `Bearer ${KEY}` };
const image = fixtureImage('splice_640x480.png');

let server: RunningServer;
let url: string;
let logs: string[];
let direct: NodeSparseViTModel;
let expected: DetectionResult;
let checkDocumented: ReturnType<typeof openApiChecker>;

beforeAll(async () => {
  ({ server, url, logs } = await startTestServer({ apiKeys: ['another-key', KEY], corsOrigins: ['https://app.example.test'] }));
  direct = await loadModel({ weights: TINY_WEIGHTS, config: tinyConfigObject() });
  expected = await direct.detect(image, { returnImage: true });
  checkDocumented = openApiChecker(await (await fetch(`${url}/docs/json`)).json());
});
afterAll(async () => {
  await server?.close();
  await direct?.dispose();
});

/** POSTs to /v1/detect and checks the response against the published OpenAPI document. */
async function detect(body: BodyInit | Uint8Array | undefined, options: { query?: string; headers?: Record<string, string | undefined> } = {}) {
  // A header given as undefined is left out (a FormData body then sets its own content-type).
  const headers = Object.entries({ 'content-type': 'image/png', ...auth, ...options.headers }).filter(([, v]) => v !== undefined);
  const response = await fetch(`${url}/v1/detect${options.query ?? ''}`, { method: 'POST', body: body as BodyInit, headers });
  const type = response.headers.get('content-type') ?? '';
  const payload = type.startsWith('application/json') ? await response.json() : Buffer.from(await response.arrayBuffer());
  if (type.startsWith('application/json')) checkDocumented('/v1/detect', 'POST', response.status, type, payload);
  return { response, status: response.status, body: payload as Record<string, any> };
}

describe('POST /v1/detect', () => {
  it('returns the score, size, threshold and model of a raw PNG body, as detect gives them', async () => {
    const { status, body } = await detect(image);
    expect(status).toBe(200);
    expect(body.width).toBe(640);
    expect(body.height).toBe(480);
    expect(body.threshold).toBe(0.5);
    expect(Math.abs(body.score - expected.score)).toBeLessThanOrEqual(1e-6);
    const fraction = expected.mask.reduce((n, m) => n + m, 0) / expected.mask.length;
    expect(Math.abs(body.maskFraction - fraction)).toBeLessThanOrEqual(1e-6);
    expect(body.model.sha256).toBe(createHash('sha256').update(readFileSync(TINY_WEIGHTS)).digest('hex'));
    expect(body.model).toMatchObject({ weights: 'weights.safetensors', backend: 'onnxruntime-node', device: 'cpu', imgSize: 512 });
    for (const step of ['queueMs', 'decodeMs', 'preprocessMs', 'inferenceMs', 'postprocessMs', 'renderMs', 'totalMs']) expect(body.timings[step]).toBeGreaterThanOrEqual(0);
    expect(body.mask).toBeUndefined();
  });

  it('takes a multipart upload the same way', async () => {
    const form = new FormData();
    form.append('image', new Blob([image], { type: 'image/png' }), 'photo.png');
    const response = await fetch(`${url}/v1/detect`, { method: 'POST', body: form, headers: auth });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(Math.abs(body.score - expected.score)).toBeLessThanOrEqual(1e-6);
    expect([body.width, body.height]).toEqual([640, 480]);
  });

  it('returns the mask, heatmap and overlay as base64 PNGs that are the SDK renderers of the same maps', async () => {
    const { status, body } = await detect(image, { query: '?include=mask,heatmap,overlay' });
    expect(status).toBe(200);
    expect(await maskDifferences(body.mask, expected.mask, 'base64')).toBe(0);
    // The pictures are RGB: the SDK's RGBA renderings without their (opaque) alpha. A level of
    // difference could only come from a probability on a rounding edge (bound: 1 level).
    for (const [name, rgba] of [['heatmap', renderHeatmap(expected.probability, 640, 480)], ['overlay', renderOverlay(expected.image!, expected.probability, { threshold: expected.threshold, outline: true })]] as const) {
      const { data, info } = await sharp(Buffer.from(body[name], 'base64')).raw().toBuffer({ resolveWithObject: true });
      expect(info.channels, name).toBe(3);
      let worst = 0;
      for (let p = 0; p < 640 * 480; p++) for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(data[p * 3 + c] - rgba[p * 4 + c]));
      expect(worst, name).toBeLessThanOrEqual(1);
    }
  });

  it('answers the PNG itself with Accept: image/png, the figures in headers; a threshold changes the mask', async () => {
    const { response, status, body } = await detect(image, { query: '?threshold=0.9', headers: { accept: 'image/png' } });
    expect(status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(Math.abs(Number(response.headers.get('x-sparsevit-score')) - expected.score)).toBeLessThanOrEqual(1e-6);
    expect(response.headers.get('x-sparsevit-threshold')).toBe('0.9');
    const at90 = await direct.detect(image, { threshold: 0.9 });
    expect(await maskDifferences(body as unknown as Buffer, at90.mask)).toBe(0);
    expect(at90.mask.reduce((n, m) => n + m, 0)).toBeLessThan(expected.mask.reduce((n, m) => n + m, 0));
  });
});

describe('bad input: each gets its 4xx and typed code, and the server stays up', () => {
  const truncatedJpeg = readFileSync(new URL('../../../tooling/fixtures/pil-decode/rgb_q90_420.jpg', import.meta.url)).subarray(0, 2000);
  const cases: Array<[string, () => Promise<{ status: number; body: Record<string, any>; response: Response }>, number, string]> = [
    ['zero bytes', () => detect(new Uint8Array(0)), 422, 'INVALID_IMAGE'],
    ['a non-image', () => detect('this is a text file, not a picture'), 422, 'INVALID_IMAGE'],
    ['a truncated JPEG', () => detect(truncatedJpeg, { headers: { 'content-type': 'image/jpeg' } }), 422, 'INVALID_IMAGE'],
    ['a 30000x30000 PNG', () => detect(bombPng(30000, 30000)), 413, 'IMAGE_TOO_LARGE'],
    ['the wrong content-type (JSON)', () => detect(JSON.stringify({ image: 'x' }), { headers: { 'content-type': 'application/json' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['the wrong content-type (text)', () => detect(image, { headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['an oversized body', () => detect(Buffer.alloc(2 * 2 ** 20 + 1, 1)), 413, 'PAYLOAD_TOO_LARGE'],
    ['an oversized multipart file', () => {
      const form = new FormData();
      form.append('image', new Blob([Buffer.alloc(2 * 2 ** 20 + 1, 1)]), 'big.png');
      return detect(form, { headers: { 'content-type': undefined } });
    }, 413, 'PAYLOAD_TOO_LARGE'],
    ['a missing API key', () => detect(image, { headers: { authorization: '' } }), 401, 'UNAUTHORIZED'],
    ['a wrong API key', () => detect(image, { headers: { authorization: `Bearer ${KEY}x` } }), 401, 'UNAUTHORIZED'],
    ['a threshold out of range', () => detect(image, { query: '?threshold=2' }), 400, 'INVALID_ARGUMENT'],
    ['an unknown picture', () => detect(image, { query: '?include=mask,xray' }), 400, 'INVALID_ARGUMENT'],
    ['a misspelt query parameter', () => detect(image, { query: '?treshold=0.3' }), 400, 'INVALID_ARGUMENT'],
    ['two pictures as one PNG', () => detect(image, { query: '?include=mask,overlay', headers: { accept: 'image/png' } }), 400, 'INVALID_ARGUMENT'],
    ['an Accept the route cannot give', () => detect(image, { headers: { accept: 'text/html' } }), 406, 'NOT_ACCEPTABLE'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const { status: got, body } = await send();
    expect(got).toBe(status);
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
    expect(body.error.code).toBe(code);
    // No stack trace, no source path, no library internals.
    expect(body.error.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d|\.js:\d/);
    if (status === 401) expect((await send()).response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('still detects after all of them, and logged none of the image bytes nor the key', async () => {
    const { status, body } = await detect(image);
    expect(status).toBe(200);
    expect(Math.abs(body.score - expected.score)).toBeLessThanOrEqual(1e-6);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const text = logs.join('');
    expect(logs.length).toBeGreaterThan(20);
    for (const piece of [image.subarray(1000, 1048), image.subarray(20000, 20048)]) {
      expect(text.includes(piece.toString('base64'))).toBe(false);
      expect(text.includes(piece.toString('latin1'))).toBe(false);
      expect(text.includes(piece.toString('hex'))).toBe(false);
    }
    expect(text.includes(KEY)).toBe(false);
  });

  it('answers an unknown route with 404 NOT_FOUND in the same shape', async () => {
    const response = await fetch(`${url}/v2/everything`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /v2/everything' } });
  });
});

describe('operations', () => {
  it('answers /healthz and /readyz (with the model), and /v1/model only with a key', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await (await fetch(`${url}/readyz`)).json();
    expect(ready.status).toBe('ready');
    expect(ready.model.weights).toBe('weights.safetensors');
    expect((await fetch(`${url}/v1/model`)).status).toBe(401);
    const model = await (await fetch(`${url}/v1/model`, { headers: auth })).json();
    expect(model.config).toEqual(tinyConfigObject());
  });

  it('exports Prometheus metrics: requests by route and status, latency, queue, model steps, rejections', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const value = (line: string) => Number(text.split('\n').find((l) => l.startsWith(line))?.slice(line.length).trim());
    expect(value('sparsevit_http_requests_total{route="/v1/detect",method="POST",status="200"}')).toBeGreaterThanOrEqual(5);
    expect(value('sparsevit_http_requests_total{route="/v1/detect",method="POST",status="422"}')).toBeGreaterThanOrEqual(3);
    expect(value('sparsevit_rejections_total{reason="IMAGE_TOO_LARGE"}')).toBe(1);
    expect(value('sparsevit_rejections_total{reason="UNAUTHORIZED"}')).toBeGreaterThanOrEqual(2);
    expect(value('sparsevit_queue_depth')).toBe(0);
    expect(value('sparsevit_queue_capacity{limit="queue"}')).toBe(8);
    expect(value('sparsevit_detect_step_seconds_count{step="inference"}')).toBeGreaterThanOrEqual(5);
    expect(text).toMatch(/^sparsevit_http_request_duration_seconds_bucket\{le="0.5",route="\/v1\/detect"/m);
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('serves the OpenAPI document (routes, bodies, security) and its UI at /docs', async () => {
    const spec = await (await fetch(`${url}/docs/json`)).json();
    expect(Object.keys(spec.paths).sort()).toEqual(['/healthz', '/metrics', '/readyz', '/v1/detect', '/v1/model']);
    expect(Object.keys(spec.paths['/v1/detect'].post.requestBody.content).sort()).toEqual(['application/octet-stream', 'image/*', 'multipart/form-data']);
    expect(spec.components.securitySchemes.bearer.scheme).toBe('bearer');
    const ui = await fetch(`${url}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('answers CORS preflights for the configured origin only, without a key', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/v1/detect`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    const allowed = await preflight('https://app.example.test');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.test');
    const other = await preflight('https://elsewhere.example.test');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const { response } = await detect(image, { headers: { origin: 'https://app.example.test' } });
    expect(response.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
  });
});
