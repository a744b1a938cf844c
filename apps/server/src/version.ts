import pkg from '../package.json';

/** This package's version (bundled from package.json). */
export const version: string = pkg.version;
