/**
 * `import()` of a module named at run time, hidden from bundlers: they neither pull every
 * optional module (tfjs backends, `node:fs`) into a browser bundle nor fail on the ones an app
 * did not install. Where bare names do not resolve at run time (a bundled browser app) the import
 * rejects and the caller explains what to do instead.
 */
export function importByName(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}
