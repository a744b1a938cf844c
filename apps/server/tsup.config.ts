import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    commands: 'src/commands/commands.ts',
    'bin/serve': 'src/bin/serve.ts',
    'bin/scan': 'src/bin/scan.ts',
    'bin/worker': 'src/bin/worker.ts',
    'bench/load': 'bench/load.ts',
    'bench/scale-out': 'bench/scale-out.ts',
    'bench/sdk-loop': 'bench/sdk-loop.ts',
    'bench/bare-upload-server': 'bench/bare-upload-server.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', commands: 'src/commands/commands.ts' } },
  banner: { js: '#!/usr/bin/env node' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'node',
  // Dev-only imports of the benchmarks (autocannon, the fixtures) stay imports, like the dependencies.
  skipNodeModulesBundle: true,
});
