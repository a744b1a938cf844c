import { libraryConfig } from '@sparsevit/tsup-config';

export default libraryConfig();
