import { sparsevitVitestConfig } from '@sparsevit/vitest-config';

// Each file starts its own server or redis-server on a free loopback port; run them one at a
// time so the two cores are not shared between a benchmark-free test and another's model.
export default sparsevitVitestConfig({ fileParallelism: false });
