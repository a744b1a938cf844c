// Shared vitest settings. Model tests run real inference on two cores, so they get long
// timeouts; they run in forked processes so a native crash (onnxruntime, sharp) fails one file
// instead of the whole run.
import { defineConfig } from 'vitest/config';

export function sparsevitVitestConfig(overrides = {}) {
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
      reporters: process.env.CI ? ['default'] : ['default'],
      ...overrides,
    },
  });
}
