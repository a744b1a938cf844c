/** Types of corpus.mjs (the hostile-input corpus), for the TypeScript tests that run it. */
export interface HostileCase {
  readonly name: string;
  /** What the case attacks. */
  readonly about: string;
  /** File name; the extension tells the CLI the format. */
  readonly file: string;
  /** `weights`: read and loaded as a model; `image`: run through detect. */
  readonly kind: 'weights' | 'image';
  /** `tiny`: run with the tiny fixture's config; `file`: with what the file carries. */
  readonly config: 'tiny' | 'file';
  /** `read`: the code `readWeights` alone ends in, or `ok`; `load`: the code of loading it as a model (or detecting on the image). */
  readonly expect: { readonly read?: string; readonly load: string };
  readonly build: () => Uint8Array | Promise<Uint8Array>;
}
export interface HostileManifestEntry extends Omit<HostileCase, 'build'> {
  readonly path: string;
  readonly bytes: number;
}
export const TINY_CONFIG: string;
export const HOSTILE_CASES: readonly HostileCase[];
export function buildCase(hostileCase: HostileCase): Promise<Uint8Array>;
export function buildCorpus(dir: string, only?: readonly string[]): Promise<HostileManifestEntry[]>;
