// The build every published library shares: ESM + CJS + type declarations for both, source
// maps, ES2022 (Node 20 and current browsers). A package adds only what differs.
import { defineConfig } from 'tsup';

export function libraryConfig(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    ...overrides,
  });
}
