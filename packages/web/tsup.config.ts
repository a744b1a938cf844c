import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The browser library and its worker: ESM, code shared between them in chunks. The worker is
    // its own file (`dist/worker.js`), found by `new URL('./worker.js', import.meta.url)`, which
    // Vite, webpack 5 and Parcel follow when they bundle the app.
    entry: { index: 'src/index.ts', worker: 'src/worker.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: false,
    splitting: true,
    target: 'es2022',
    platform: 'browser',
    external: ['onnxruntime-web', '@sparsevit/core', '@sparsevit/onnx'],
  },
  {
    // The Vite plugin runs in Node.
    entry: { vite: 'src/vite.ts' },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    external: ['vite'],
  },
]);
