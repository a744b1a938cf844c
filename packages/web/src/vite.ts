// `@sparsevit/web/vite`: serve ONNX Runtime Web's runtime files from your own origin (no CDN) and
// send the cross-origin isolation headers that WASM threads need.
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/** The runtime files the default `onnxruntime-web` build loads: WASM and WebGPU (JSEP) in one. */
export const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'] as const;

export interface SparsevitWebPluginOptions {
  /** Folder under the app's base URL for the runtime files. Default `ort` (the library's default `wasmPaths`). */
  ortDir?: string;
  /** Send COOP/COEP (and CORP) from the dev and preview servers, so WASM threads work. Default true. */
  crossOriginIsolation?: boolean;
}

const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** Where `onnxruntime-web`'s `dist/` is, as `@sparsevit/web` resolves it. */
export function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  // `package.json` is not exported; the runtime files are, and they live in `dist/`.
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm'));
}

/**
 * Vite plugin for apps using `@sparsevit/web`:
 * - copies `ort-wasm-simd-threaded.jsep.{mjs,wasm}` to `<base>/ort/` at build and serves them in
 *   dev, which is where `loadModel` looks by default (`wasmPaths`);
 * - resolves `onnxruntime-web` to its build that loads those files (rather than the bundle that
 *   makes Vite emit a second copy of the 28 MB `.wasm` and cannot start WASM threads from a bundle);
 * - keeps both packages out of dependency pre-bundling (their worker and `.wasm` URLs are relative
 *   to their own files) and builds workers as ES modules;
 * - sends COOP/COEP headers from `vite` and `vite preview`.
 */
export function sparsevitWeb(options: SparsevitWebPluginOptions = {}): Plugin {
  const ortDir = (options.ortDir ?? 'ort').replace(/^\/+|\/+$/g, '');
  const isolate = options.crossOriginIsolation ?? true;
  const dist = ortDistDir();
  let base = '/';
  const middleware = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    if (isolate) for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
    const path = (req.url ?? '').split('?')[0];
    const prefix = `${base}${ortDir}/`;
    const file = path.startsWith(prefix) ? path.slice(prefix.length) : '';
    if ((ORT_RUNTIME_FILES as readonly string[]).includes(file)) {
      res.setHeader('Content-Type', file.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
      createReadStream(join(dist, file)).pipe(res);
      return;
    }
    next();
  };
  return {
    name: 'sparsevit-web',
    config() {
      return {
        optimizeDeps: { exclude: ['@sparsevit/web', 'onnxruntime-web'] },
        worker: { format: 'es' },
        resolve: { alias: [{ find: /^onnxruntime-web$/, replacement: join(dist, 'ort.min.mjs') }] },
      };
    },
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
      if (!base.startsWith('/')) base = '/'; // relative bases: files still land under `ortDir`
    },
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
    generateBundle() {
      for (const file of ORT_RUNTIME_FILES) {
        this.emitFile({ type: 'asset', fileName: `${ortDir}/${file}`, source: readFileSync(join(dist, file)) });
      }
    },
  };
}
