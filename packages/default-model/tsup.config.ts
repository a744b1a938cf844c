import { libraryConfig } from '@sparsevit/tsup-config';

// `shims` gives the CJS build an `import.meta.url`, which locates the model file.
export default libraryConfig({ shims: true });
