// Runs the built demo in a real headless Chromium (playwright-core driving /usr/bin/chromium):
// parity of the whole browser pipeline with the authors' PyTorch outputs on WASM and WebGPU (ONNX
// Runtime, in a worker) and on TensorFlow.js WebGL (main thread),
// pixel-exact PNG decoding, a responsive page while the worker infers, cached weights, aborts,
// no request leaving localhost, and a screenshot of the demo.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, toFloat32 } from '@sparsevit/core';
import { compareMaps, fixturePath } from '@sparsevit/fixtures';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStaticServer, type StaticServer } from './static-server';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');
const outputDir = join(here, '..', 'test-output');
const CHROMIUM = process.env.SPARSEVIT_CHROMIUM ?? '/usr/bin/chromium';
const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
const cases = JSON.parse(readFileSync(tiny('fixture.json'), 'utf8')).cases as Array<{ name: string; image: string; width: number; height: number }>;

let server: StaticServer;
let browser: Browser;
const offending: string[] = [];

function isLocal(url: string): boolean {
  if (url.startsWith('blob:') || url.startsWith('data:')) return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

async function newPage(): Promise<{ context: BrowserContext; page: Page; requests: string[] }> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const requests: string[] = [];
  // Context-wide: the page's requests and those of its workers (ONNX Runtime's included).
  ctx.on('request', (request) => {
    requests.push(request.url());
    if (!isLocal(request.url())) offending.push(request.url());
  });
  const page = await ctx.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${server.url}/index.html`);
  await page.waitForFunction(() => '__sparsevit' in globalThis);
  return { context: ctx, page, requests };
}

const b64ToF32 = (s: string) => {
  const bytes = Buffer.from(s, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};

/**
 * Runs `globalThis[modelKey].detect` on a fixture image inside the page, with a 10 ms
 * main-thread timer ticking alongside (how responsive the page stayed), and brings the maps
 * back.
 */
async function detectFixtureInPage(page: Page, modelKey: string, image: string) {
  const out = await page.evaluate(
    async ([key, name]) => {
      const model = (globalThis as any)[key];
      const blob = await (await fetch(`/__fixtures/images/${name}`)).blob();
      let ticks = 0;
      let last = performance.now();
      let maxGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        ticks++;
      }, 10);
      const t0 = performance.now();
      const result = await model.detect(blob);
      const ms = performance.now() - t0;
      clearInterval(timer);
      const b64 = (u: Uint8Array) => {
        let s = '';
        for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
        return btoa(s);
      };
      return {
        width: result.width,
        height: result.height,
        probability: b64(new Uint8Array(result.probability.buffer, result.probability.byteOffset, result.probability.byteLength)),
        mask: b64(result.mask),
        ticks,
        maxGap,
        ms,
        inferenceMs: result.timings.inferenceMs as number,
      };
    },
    [modelKey, image] as const,
  );
  return { ...out, probability: b64ToF32(out.probability), mask: Buffer.from(out.mask, 'base64') };
}

/**
 * The browser bounds against the fixture's `prob_full`: mean abs <= 1e-3 and 0.5-mask
 * agreement >= 99.5%; the returned mask must be that threshold of the returned map. Logs the
 * figures and returns them.
 */
async function parityWithReference(label: string, c: (typeof cases)[number], out: Awaited<ReturnType<typeof detectFixtureInPage>>) {
  expect([out.width, out.height]).toEqual([c.width, c.height]);
  const reference = toFloat32((await readSafetensors(readFileSync(tiny(`${c.name}.safetensors`)))).tensors.get('prob_full')!);
  const d = compareMaps(out.probability, reference);
  console.log(
    `${label} ${c.name} ${c.image}: mean |Δ| ${d.mean.toExponential(2)}, max |Δ| ${d.max.toExponential(2)}, mask agreement ${(100 * d.agreement).toFixed(3)}%, ` +
      `detect ${out.ms.toFixed(0)} ms (inference ${out.inferenceMs.toFixed(0)} ms), main-thread ticks ${out.ticks}, longest gap ${out.maxGap.toFixed(0)} ms`,
  );
  expect(d.mean, c.name).toBeLessThanOrEqual(1e-3);
  expect(d.agreement, c.name).toBeGreaterThanOrEqual(0.995);
  expect(out.mask.every((m, i) => m === (out.probability[i] > 0.5 ? 1 : 0)), `${c.name}: mask = probability > 0.5`).toBe(true);
  return d;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests need a system Chromium: on Debian/Ubuntu run ` +
        '`apt-get update && apt-get install -y chromium` (or set SPARSEVIT_CHROMIUM to a Chromium/Chrome binary). No browser is downloaded.',
    );
  }
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`the demo is not built (${dist} is missing): run \`pnpm --filter @sparsevit/web-demo build\` first`);
  server = await startStaticServer({ '/__fixtures/': tiny(), '/__pil/': fixturePath('pil-decode'), '/': dist });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  mkdirSync(outputDir, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the browser decoder', () => {
  it('decodes the fixture PNGs to exactly the pixels PIL (and sharp) give, and preprocesses to the reference input', async () => {
    const { page, context } = await newPage();
    try {
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      for (const c of cases) {
        const got = await page.evaluate(async (name) => {
          const api = (globalThis as any).__sparsevit;
          const blob = await (await fetch(`/__fixtures/images/${name}`)).blob();
          const raw = await api.decodeImage(blob);
          const input = new Float32Array(3 * 512 * 512);
          api.preprocess(raw, 512, input, 0);
          const b64 = (u: Uint8Array) => {
            let s = '';
            for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
            return btoa(s);
          };
          return { width: raw.width, height: raw.height, channels: raw.channels, pixels: b64(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength)), input: b64(new Uint8Array(input.buffer)) };
        }, c.image);
        expect([got.width, got.height, got.channels]).toEqual([c.width, c.height, 4]);
        // sharp decodes PNG losslessly like PIL; expand gray to RGB and add opaque alpha like a canvas.
        const { data } = await sharp(tiny('images', c.image)).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        const pixels = Buffer.from(got.pixels, 'base64');
        let differing = 0;
        for (let i = 0; i < data.length; i++) if (pixels[i] !== data[i]) differing++;
        expect(differing, `${c.image}: pixels differing from the PNG's stored values`).toBe(0);
        const reference = toFloat32((await readSafetensors(readFileSync(tiny(`${c.name}.safetensors`)))).tensors.get('input')!);
        const input = b64ToF32(got.input);
        let max = 0;
        for (let i = 0; i < reference.length; i++) max = Math.max(max, Math.abs(input[i] - reference[i]));
        expect(max, `${c.image}: preprocessed input vs the reference tensor`).toBeLessThanOrEqual(1e-5);
      }
    } finally {
      await context.close();
    }
  });

  it('decodes JPEGs as PIL does, except CMYK by one level and EXIF orientation, which Chromium applies', async () => {
    // PIL's decodings of these files: tooling/fixtures/pil-decode (Pillow 9.4, libjpeg-turbo).
    // Bounds: RGB and gray bit-exact (measured: exact); CMYK within one level (measured: max 1,
    // on 48% of values: Skia rounds its CMYK conversion differently).
    const bounds: Record<string, number> = { 'rgb_q90_420.jpg': 0, 'rgb_q85_422.jpg': 0, 'rgb_q95_444.jpg': 0, 'rgb_q80_progressive.jpg': 0, 'gray_q90.jpg': 0, 'cmyk_q90.jpg': 1 };
    const { page, context } = await newPage();
    const decode = (name: string) =>
      page.evaluate(async (file) => {
        const raw = await (globalThis as any).__sparsevit.decodeImage(await (await fetch(`/__pil/${file}`)).blob());
        return { width: raw.width as number, height: raw.height as number, pixels: Array.from(raw.data as Uint8Array) };
      }, name);
    try {
      for (const [file, bound] of Object.entries(bounds)) {
        const got = await decode(file);
        const pil = await sharp(fixturePath('pil-decode', file.replace('.jpg', '.pil.png'))).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        expect([got.width, got.height]).toEqual([pil.info.width, pil.info.height]);
        let max = 0;
        let differing = 0;
        for (let i = 0; i < pil.data.length; i++) {
          if ((i & 3) === 3) continue; // the canvas's alpha
          const d = Math.abs(got.pixels[i] - pil.data[i]);
          max = Math.max(max, d);
          if (d) differing++;
        }
        console.log(`[jpeg] ${file}: ${((100 * differing) / ((pil.data.length / 4) * 3)).toFixed(2)}% of values differ from PIL, max ${max}`);
        expect(max, file).toBeLessThanOrEqual(bound);
      }
      // Stored 257x193 with orientation 6: PIL keeps 257x193, Chromium turns it upright even with
      // imageOrientation 'none' (documented in the README).
      const rotated = await decode('rgb_q90_exif_orientation6.jpg');
      expect([rotated.width, rotated.height]).toEqual([193, 257]);
    } finally {
      await context.close();
    }
  });
});

for (const device of ['wasm', 'webgpu'] as const) {
  describe(`the tiny model on ${device}, in a worker`, () => {
    // WebGPU on SwiftShader (CI, no GPU) runs ~30-60 s per image.
    it('matches the PyTorch reference on every fixture image and keeps the page responsive', { timeout: 900_000 }, async () => {
      const { page, context } = await newPage();
      try {
        const loaded = await page.evaluate(async (device) => {
          const api = (globalThis as any).__sparsevit;
          const t0 = performance.now();
          const model = await api.loadModel({ weights: api.untrained.fp32, device, cache: false });
          (globalThis as any).__model = model;
          return { device: model.device, backend: model.backend, inWorker: model.inWorker, ms: performance.now() - t0 };
        }, device);
        expect(loaded).toMatchObject({ device, backend: 'onnxruntime-web', inWorker: true });
        for (const c of cases) {
          const out = await detectFixtureInPage(page, '__model', c.image);
          const d = await parityWithReference(`[${device}]`, c, out);
          expect(d.max, c.name).toBeLessThanOrEqual(0.02);
          // The page kept running while the model ran.
          expect(out.ticks, `${c.name}: main-thread timer ticks during detect`).toBeGreaterThanOrEqual(Math.min(5, Math.floor(out.ms / 20)));
          expect(out.ticks).toBeGreaterThanOrEqual(3);
        }
        // Errors cross the worker boundary with their code.
        const error = await page.evaluate(async () => {
          const model = (globalThis as any).__model;
          try {
            await model.detect(new Blob(['definitely not an image'], { type: 'image/png' }));
            return null;
          } catch (e) {
            return { name: (e as Error).name, code: (e as any).code };
          }
        });
        expect(error).toEqual({ name: 'SparseViTError', code: 'INVALID_IMAGE' });
        await page.evaluate(() => (globalThis as any).__model.dispose());
      } finally {
        await context.close();
      }
    });
  });
}

// TensorFlow.js (@sparsevit/tfjs), the demo's secondary backends, on the page's own thread. On
// SwiftShader (no GPU) the first image takes ~20 s on WebGL (shader compilation) and ~30 s on
// WebGPU, the next ~2 s and ~15 s: two images each, ~75 s in all.
const TFJS_BACKENDS = ['webgl', 'webgpu'] as const;
const TFJS_CASES = ['case0', 'case3']; // an RGB photo-like splice, and RGBA (straight alpha, dropped as PIL's convert('RGB'))

for (const backend of TFJS_BACKENDS) {
  describe(`the tiny model on TensorFlow.js ${backend}, on the main thread`, () => {
    it('matches the PyTorch reference, with images decoded by @sparsevit/web', { timeout: 600_000 }, async () => {
      const { page, context } = await newPage();
      try {
        const loaded = await page.evaluate(async (backend) => {
          const api = (globalThis as any).__sparsevit;
          const t0 = performance.now();
          const model = await api.loadTfjsModel({ weights: api.untrained.fp32, backend, cache: false });
          (globalThis as any).__tfjsModel = model;
          return { backend: model.backend, device: model.device, inWorker: model.inWorker, info: await api.tfjsInfo(), ms: performance.now() - t0 };
        }, backend);
        console.log(`[tfjs-${backend}] loaded in ${loaded.ms.toFixed(0)} ms, ${JSON.stringify(loaded.info)}`);
        expect(loaded).toMatchObject({ backend: 'tfjs', device: backend, inWorker: false, info: { backend } });
        // float32 all the way (a float16 WebGL texture would be a precision problem, not a bug to hide).
        if (backend === 'webgl') expect(loaded.info).toMatchObject({ float32: true, float16Textures: false });
        for (const c of cases.filter((c) => TFJS_CASES.includes(c.name))) {
          await parityWithReference(`[tfjs-${backend}]`, c, await detectFixtureInPage(page, '__tfjsModel', c.image));
        }
        await page.evaluate(() => (globalThis as any).__tfjsModel.dispose());
      } finally {
        await context.close();
      }
    });
  });
}

describe('TensorFlow.js in the demo UI', () => {
  it('says .onnx is not supported on TensorFlow.js, and runs the bundled model on tfjs WebGL from the page', async () => {
    const { page, context } = await newPage();
    try {
      expect(await page.isVisible('#engine-note')).toBe(false);
      expect(await page.getAttribute('#weights-file', 'accept')).toContain('.onnx');
      await page.selectOption('#device', 'tfjs-webgl');
      expect(await page.isVisible('#engine-note')).toBe(true);
      expect(await page.textContent('#engine-note')).toMatch(/not \.onnx/);
      expect(await page.textContent('#engine-note')).toMatch(/freeze/);
      expect(await page.getAttribute('#weights-file', 'accept')).not.toContain('.onnx');
      // A local .onnx file (by name), and one renamed (by its first bytes), through the UI and the hook.
      await page.check('input[name=source][value=file]');
      await page.setInputFiles('#weights-file', { name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from([0x08, 0x07, 0x12, 0x04]) });
      await page.click('#load');
      await page.waitForSelector('#model-status[data-kind=error]');
      expect(await page.textContent('#model-status')).toMatch(/\.onnx.*ONNX Runtime/);
      const renamed = await page.evaluate(async () => {
        const api = (globalThis as any).__sparsevit;
        // An ONNX ModelProto's first bytes: ir_version (field 1), then producer_name (field 2).
        const bytes = new Uint8Array([0x08, 0x07, 0x12, 0x07, ...new TextEncoder().encode('pytorch'), 0x1a, 0x03, 0x32, 0x2e, 0x31]);
        try {
          await api.loadTfjsModel({ weights: new File([bytes], 'weights.bin'), backend: 'webgl' });
          return 'loaded';
        } catch (e) {
          return `${(e as any).code}: ${(e as Error).message}`;
        }
      });
      expect(renamed).toMatch(/^UNSUPPORTED_FORMAT: .*\.onnx/);
      // The bundled weights through the page's controls.
      await page.check('input[name=source][value=bundled]');
      await page.click('#load');
      await page.waitForSelector('#model-status[data-kind=ok]', { timeout: 120_000 });
      expect(await page.textContent('#model-status')).toMatch(/^Ready on TensorFlow\.js WebGL \(main thread\)/);
      await page.click('[data-sample="samples/gray_257x333.png"]');
      await page.waitForSelector('body[data-result=ready]', { timeout: 120_000 });
      expect(await page.textContent('#size')).toBe('257 × 333');
      expect(await page.textContent('#runs-on')).toBe('TensorFlow.js WebGL · main thread');
    } finally {
      await context.close();
    }
  });
});

describe('other weights, and worker: false', () => {
  it("reads the authors' .pth from a File, and runs on the page's own thread with worker: false", async () => {
    const { page, context } = await newPage();
    try {
      const config = JSON.parse(readFileSync(tiny('config.json'), 'utf8'));
      const c = cases[1];
      const out = await page.evaluate(
        async ({ config, image }) => {
          const api = (globalThis as any).__sparsevit;
          const bytes = await (await fetch('/__fixtures/checkpoint.pth')).arrayBuffer();
          const file = new File([bytes], 'checkpoint.pth');
          const model = await api.loadModel({ weights: file, config, device: 'wasm', worker: false });
          const result = await model.detect(await (await fetch(`/__fixtures/images/${image}`)).blob());
          await model.dispose();
          const u = new Uint8Array(result.probability.buffer);
          let s = '';
          for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
          return { inWorker: model.inWorker, probability: btoa(s) };
        },
        { config, image: c.image },
      );
      expect(out.inWorker).toBe(false);
      const reference = toFloat32((await readSafetensors(readFileSync(tiny(`${c.name}.safetensors`)))).tensors.get('prob_full')!);
      const probability = b64ToF32(out.probability);
      let sum = 0;
      for (let i = 0; i < reference.length; i++) sum += Math.abs(probability[i] - reference[i]);
      expect(sum / reference.length).toBeLessThanOrEqual(1e-3);
    } finally {
      await context.close();
    }
  });
});

describe('weights download, cache and abort', () => {
  it('serves the second load from the Cache API, without the network', async () => {
    const { page, context, requests } = await newPage();
    try {
      const weightsPath = '/models/sparsevit-tiny-untrained.safetensors';
      const first = await page.evaluate(async () => {
        const api = (globalThis as any).__sparsevit;
        await api.clearWeightsCache();
        const phases: string[] = [];
        let lastLoaded = 0;
        let total = 0;
        const model = await api.loadModel({ weights: api.untrained.fp32, device: 'wasm', onProgress: (p: any) => { phases.push(p.phase); if (p.phase === 'download') { lastLoaded = p.loaded; total = p.total; } } });
        await model.dispose();
        return { phases: [...new Set(phases)], lastLoaded, total, cached: await api.isWeightsCached(new URL(api.untrained.fp32, document.baseURI).href) };
      });
      expect(first.phases).toEqual(['download', 'build', 'session']);
      expect(first.total).toBeGreaterThan(1_000_000);
      expect(first.lastLoaded).toBe(first.total);
      expect(first.cached).toBe(true);
      expect(requests.filter((u) => u.endsWith(weightsPath))).toHaveLength(1);

      // Second visit: reload, and make the weights URL unreachable.
      await context.route(`**${weightsPath}`, (route) => route.abort('internetdisconnected'));
      requests.length = 0;
      await page.reload();
      await page.waitForFunction(() => '__sparsevit' in globalThis);
      const second = await page.evaluate(async () => {
        const api = (globalThis as any).__sparsevit;
        const phases: string[] = [];
        const model = await api.loadModel({ weights: api.untrained.fp32, device: 'wasm', onProgress: (p: any) => phases.push(p.phase) });
        const result = await model.detect(await (await fetch('/__fixtures/images/gray_257x333.png')).blob());
        await model.dispose();
        return { phases: [...new Set(phases)], width: result.width };
      });
      expect(second).toEqual({ phases: ['cache', 'build', 'session'], width: 257 });
      expect(requests.filter((u) => u.endsWith(weightsPath))).toHaveLength(0);
    } finally {
      await context.close();
    }
  });

  it('aborts a load with an AbortSignal', async () => {
    const { page, context } = await newPage();
    try {
      const outcome = await page.evaluate(async () => {
        const api = (globalThis as any).__sparsevit;
        const controller = new AbortController();
        try {
          await api.loadModel({
            weights: api.untrained.fp32,
            device: 'wasm',
            cache: false,
            signal: controller.signal,
            onProgress: (p: any) => p.phase === 'download' && p.loaded > 0 && controller.abort(),
          });
          return 'loaded';
        } catch (e) {
          return `${(e as any).code}: ${(e as Error).message}`;
        }
      });
      expect(outcome).toMatch(/aborted/);
      // Aborting while the worker builds the session stops it too.
      const late = await page.evaluate(async () => {
        const api = (globalThis as any).__sparsevit;
        const controller = new AbortController();
        try {
          await api.loadModel({ weights: api.untrained.fp32, device: 'wasm', cache: false, signal: controller.signal, onProgress: (p: any) => p.phase === 'build' && controller.abort() });
          return 'loaded';
        } catch (e) {
          return (e as Error).message;
        }
      });
      expect(late).toMatch(/aborted/);
    } finally {
      await context.close();
    }
  });
});

describe('the demo page', () => {
  it('loads the default model, runs a sample image and shows the result (screenshot in test-output/)', async () => {
    const { page, context } = await newPage();
    try {
      // WASM: WebGPU on a CPU-emulated adapter (SwiftShader, as on CI) takes ~a minute per image.
      await page.selectOption('#device', 'wasm');
      await page.click('#load');
      await page.waitForSelector('#model-status[data-kind=ok]');
      await page.click('[data-sample="samples/synth-0002-splice.png"]');
      await page.waitForSelector('body[data-result=ready]');
      expect(await page.textContent('#size')).toBe('512 × 385');
      expect(await page.textContent('#model-status')).toMatch(/default model, trained on synthetic manipulations/);
      await page.screenshot({ path: join(outputDir, 'demo.png'), fullPage: true });
      await page.click('[data-view=mask]');
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: join(outputDir, 'demo-phone.png'), fullPage: true });
      const download = page.waitForEvent('download');
      await page.click('#download');
      const png = await (await download).path();
      const meta = await sharp(png!).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 512, 385]);
    } finally {
      await context.close();
    }
  });

  it('made no request outside localhost', () => {
    expect(offending).toEqual([]);
  });
});
