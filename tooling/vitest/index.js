// Shared vitest settings. Model tests run real inference on two cores, so they get long
// timeouts; they run in forked processes so a native crash (onnxruntime, sharp) fails one file
// instead of the whole run.
import { defineConfig } from 'vitest/config';

// vitest 5's reporter calls Map.groupBy (Node 21+) when it prints failures; on Node 20 the
// report of a failing test would itself crash and hide the failure. The config is loaded in the
// process that reports, so the polyfill goes here.
if (typeof Map.groupBy !== 'function') {
  Map.groupBy = function groupBy(items, keyOf) {
    const groups = new Map();
    let index = 0;
    for (const item of items) {
      const key = keyOf(item, index++);
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
    return groups;
  };
}

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
