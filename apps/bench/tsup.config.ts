import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/bench.ts', 'src/bench-worker.ts', 'src/wasm-gemm-roofline.ts', 'src/train-bench.ts', 'src/q8-accuracy.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
