import { sparsevitVitestConfig } from '@sparsevit/vitest-config';

export default sparsevitVitestConfig();
