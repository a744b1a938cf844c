import pkg from '../package.json';

/** This package's version (bundled into `dist/bin.js` from package.json). */
export const version: string = pkg.version;
