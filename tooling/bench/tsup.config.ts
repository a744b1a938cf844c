import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/bench.ts', 'src/bench-worker.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'es2022',
});
