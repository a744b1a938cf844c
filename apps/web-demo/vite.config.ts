import { readFileSync } from 'node:fs';
import { CONFIG_METADATA_KEY, convertStore, readSafetensors, writeSafetensors } from '@sparsevit/core';
import { DEFAULT_MODEL } from '@sparsevit/default-model';
import { fixturePath } from '@sparsevit/fixtures';
import { sparsevitWeb } from '@sparsevit/web/vite';
import { defineConfig, type Plugin } from 'vite';

/**
 * The demo's bundled assets, made at build (and served in dev): the SDK's trained default model
 * (`@sparsevit/default-model`, float16 as shipped, and a float32 copy for the engines that want
 * it), the sample images of `tooling/samples` (synthetic manipulations of held-out photos), and
 * the tiny fixture model's untrained weights, which the browser tests use as a pipeline check.
 */
/** `tooling/samples/Tp`: what the page offers as samples, with the default model. */
const SAMPLE_IMAGES = ['synth-0002-splice.png', 'synth-0001-splice.png', 'synth-0004-copy-move.png'];

function demoAssets(): Plugin {
  const tiny = (...p: string[]) => fixturePath('sparsevit-tiny', ...p);
  const files = new Map<string, () => Promise<Uint8Array>>();
  const withConfig = async (dtype: 'F32' | 'F16') => {
    const store = await readSafetensors(readFileSync(tiny('weights.safetensors')));
    const config = readFileSync(tiny('config.json'), 'utf8');
    const out = dtype === 'F16' ? convertStore(store, 'F16') : store;
    return writeSafetensors({ tensors: out.tensors, metadata: { ...store.metadata, [CONFIG_METADATA_KEY]: JSON.stringify(JSON.parse(config)) } });
  };
  files.set('models/sparsevit-tiny-untrained.safetensors', () => withConfig('F32'));
  files.set('models/sparsevit-tiny-untrained.f16.safetensors', () => withConfig('F16'));
  files.set('models/sparsevit-small-synth.f16.safetensors', async () => readFileSync(DEFAULT_MODEL.file));
  files.set('models/sparsevit-small-synth.safetensors', async () => {
    const store = await readSafetensors(readFileSync(DEFAULT_MODEL.file));
    return writeSafetensors({ tensors: convertStore(store, 'F32').tensors, metadata: store.metadata });
  });
  for (const name of SAMPLE_IMAGES) files.set(`samples/${name}`, async () => readFileSync(new URL(`../../tooling/samples/Tp/${name}`, import.meta.url)));
  files.set('samples/splice_640x480.png', async () => readFileSync(tiny('images', 'splice_640x480.png')));
  files.set('samples/gray_257x333.png', async () => readFileSync(tiny('images', 'gray_257x333.png')));
  const cache = new Map<string, Uint8Array>();
  const get = async (name: string) => {
    if (!cache.has(name)) cache.set(name, await files.get(name)!());
    return cache.get(name)!;
  };
  return {
    name: 'sparsevit-demo-assets',
    configureServer(server) {
      server.middlewares.use(async (req, res, next) => {
        const name = (req.url ?? '').split('?')[0].replace(/^\/+/, '');
        if (!files.has(name)) return next();
        const bytes = await get(name);
        res.setHeader('Content-Type', name.endsWith('.png') ? 'image/png' : 'application/octet-stream');
        res.setHeader('Content-Length', String(bytes.byteLength));
        res.end(bytes);
      });
    },
    async generateBundle() {
      for (const name of files.keys()) this.emitFile({ type: 'asset', fileName: name, source: await get(name) });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [sparsevitWeb(), demoAssets()],
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
