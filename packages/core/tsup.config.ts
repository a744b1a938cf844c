import { libraryConfig } from '@sparsevit/tsup-config';

export default libraryConfig({ entry: ['src/index.ts', 'src/testing.ts'] });
