import { sparsevitVitestConfig } from '@sparsevit/vitest-config';

// The browser tests drive the built demo (`pnpm build` first; turbo's `test` depends on `build`).
export default sparsevitVitestConfig({ include: ['test/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 });
