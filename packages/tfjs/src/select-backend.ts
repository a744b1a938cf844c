import { SparseViTError } from '@sparsevit/core';
import { importByName } from './import-by-name';
import type { Tfjs } from './tfjs-tensor-ops';

/** The TensorFlow.js backends the SDK knows how to load. Any other registered name works too. */
export type TfjsBackendName = 'wasm' | 'cpu' | 'webgl' | 'webgpu';

export interface WasmOptions {
  /**
   * Where the `.wasm` binaries are served from (`setWasmPaths` of `@tensorflow/tfjs-backend-wasm`):
   * a URL prefix ending in `/`, or a map from file name to URL. Needed in browsers when the bundler
   * does not serve `node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm`. Not needed in Node.
   */
  paths?: string | Record<string, string>;
  /** Threads for the threaded-SIMD build (browsers with cross-origin isolation). */
  threads?: number;
}

const PACKAGES: Record<TfjsBackendName, string> = {
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
};

interface WasmModule {
  setWasmPaths?: (paths: string | Record<string, string>, usePlatformFetch?: boolean) => void;
  setThreadsCount?: (n: number) => void;
}

/**
 * Makes `name` the current backend of `tf`: imports its package when it is not registered yet
 * (`wasm`, `cpu`, `webgl`, `webgpu`), applies the wasm options, then `setBackend` + `ready`.
 * Throws `BACKEND_UNAVAILABLE` with the reason when it cannot start.
 */
export async function selectBackend(tf: Tfjs, name: string, wasm: WasmOptions = {}): Promise<void> {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SparseViTError('INVALID_ARGUMENT', `backend must be a backend name (${Object.keys(PACKAGES).join(', ')}), got ${String(name)}`);
  }
  const pkg = PACKAGES[name as TfjsBackendName] as string | undefined;
  let module: WasmModule | undefined;
  if (pkg && (!tf.findBackendFactory(name) || name === 'wasm')) {
    try {
      module = (await importByName(pkg)) as WasmModule;
    } catch (error) {
      if (!tf.findBackendFactory(name)) {
        throw new SparseViTError(
          'BACKEND_UNAVAILABLE',
          `the TensorFlow.js "${name}" backend is not registered and ${pkg} could not be imported (${(error as Error).message}). ` +
            `Install it (npm install ${pkg}) and, in a bundled app, import it before loading the model: import '${pkg}';`,
          { cause: error },
        );
      }
    }
  }
  if (!tf.findBackendFactory(name)) {
    const known = Object.keys(tf.engine().registryFactory).join(', ') || 'none';
    throw new SparseViTError(
      'BACKEND_UNAVAILABLE',
      `the TensorFlow.js backend "${name}" is not registered with this tfjs instance (registered: ${known}). ` +
        (pkg ? `Import '${pkg}' from the same tfjs installation as the tf you pass.` : 'Register it before loading the model.'),
    );
  }
  if (name === 'wasm' && tf.getBackend() !== 'wasm') {
    // Both must be set before the wasm backend initialises; harmless when it already has.
    if (wasm.paths !== undefined) module?.setWasmPaths?.(wasm.paths);
    if (wasm.threads !== undefined) module?.setThreadsCount?.(wasm.threads);
  }
  let ok: boolean;
  let cause: unknown;
  try {
    ok = await tf.setBackend(name);
    if (ok) await tf.ready();
  } catch (error) {
    ok = false;
    cause = error;
  }
  if (!ok || tf.getBackend() !== name) {
    const hint =
      name === 'webgpu'
        ? ' WebGPU needs a browser with navigator.gpu (Chrome/Edge 113+, Safari 26+) and a usable adapter.'
        : name === 'webgl'
          ? ' WebGL needs a browser (or a WebGL 2 context); in Node use "wasm" or "cpu", or bring tfjs-node.'
          : name === 'wasm'
            ? ' Check that the .wasm files are reachable (the wasm.paths option).'
            : '';
    throw new SparseViTError(
      'BACKEND_UNAVAILABLE',
      `the TensorFlow.js "${name}" backend could not start here${cause ? `: ${(cause as Error).message ?? String(cause)}` : ''}.${hint}`,
      { cause },
    );
  }
}
