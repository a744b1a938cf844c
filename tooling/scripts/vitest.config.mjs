import { sparsevitVitestConfig } from '@sparsevit/vitest-config';

export default sparsevitVitestConfig({ include: ['lib/**/*.test.mjs'] });
