// TensorFlow.js (WebGL / WebGPU) through @sparsevit/tfjs, the demo's secondary backends.
//
// Loaded on demand (`import('./tfjs-model')`), so the ONNX Runtime path never downloads
// TensorFlow.js, and each tfjs backend is its own chunk. Unlike @sparsevit/web this runs on the
// page's own thread: while the network's ops are issued (and, on the first image, its shaders
// compiled) the page can pause. Images are decoded by @sparsevit/web's `decodeImage`, the same
// PIL-exact decoder the ONNX Runtime path uses, so both see the same pixels.
import { loadModel, SparseViTError, type SparseViTModel, type Tfjs } from '@sparsevit/tfjs';
import { decodeImage, fetchWeights, type LoadProgress, type WebImageInput } from '@sparsevit/web';
import * as tf from '@tensorflow/tfjs-core';

export type TfjsDevice = 'webgl' | 'webgpu';

export interface LoadTfjsOptions {
  /** A `.safetensors` / `.pth` URL (fetched with progress, cached like the ONNX Runtime path) or a File/Blob. */
  weights: string | Blob;
  /** File name, to refuse `.onnx` before reading a byte. */
  name?: string;
  backend: TfjsDevice;
  config?: object;
  /** Cache API cache for downloaded weights; `false` for none. Default: @sparsevit/web's cache. */
  cache?: string | false;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress | { phase: 'tfjs'; backend: TfjsDevice }) => void;
}

/** A @sparsevit/tfjs model as the demo shows it (the same fields as `WebSparseViTModel`). */
export interface TfjsDemoModel extends SparseViTModel<WebImageInput> {
  readonly device: TfjsDevice;
  readonly fp16: false;
  readonly inWorker: false;
}

const ONNX_REFUSED =
  'TensorFlow.js runs SparseViT from its weights (.safetensors or .pth); an .onnx file is a compiled ONNX Runtime graph. Pick an ONNX Runtime backend for it.';

export const isOnnxName = (name: string) => /\.onnx$/i.test(name.split(/[?#]/)[0]);

/** Imports the chosen tfjs backend (registering it with tfjs-core); only that one is downloaded. */
async function registerBackend(backend: TfjsDevice): Promise<void> {
  if (backend === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
  else await import('@tensorflow/tfjs-backend-webgpu');
}

export async function loadTfjsModel(options: LoadTfjsOptions): Promise<TfjsDemoModel> {
  const { signal } = options;
  const name = options.name ?? (typeof options.weights === 'string' ? options.weights : '');
  if (isOnnxName(name)) throw new SparseViTError('UNSUPPORTED_FORMAT', ONNX_REFUSED);
  const [weights] = await Promise.all([
    typeof options.weights === 'string'
      ? fetchWeights(new URL(options.weights, document.baseURI).href, { cache: options.cache, signal, onProgress: options.onProgress }).then((w) => w.blob)
      : options.weights,
    registerBackend(options.backend),
  ]);
  signal?.throwIfAborted();
  options.onProgress?.({ phase: 'tfjs', backend: options.backend });
  let model: SparseViTModel<WebImageInput>;
  try {
    model = await loadModel<WebImageInput>({
      weights,
      backend: options.backend,
      tf: tf as unknown as Tfjs,
      config: options.config as never,
      decode: (input, { maxPixels }) => decodeImage(input, { maxPixels }),
    });
  } catch (error) {
    // The format is also checked from the file's first bytes (a renamed .onnx).
    if ((error as SparseViTError).code === 'UNSUPPORTED_FORMAT' && /onnx/i.test((error as Error).message)) throw new SparseViTError('UNSUPPORTED_FORMAT', ONNX_REFUSED, { cause: error });
    throw error;
  }
  if (signal?.aborted) {
    await model.dispose();
    signal.throwIfAborted();
  }
  return Object.assign(model, { device: options.backend, fp16: false as const, inWorker: false as const });
}

/** tfjs's own view of the running backend: float32 textures (WebGL) and the like, for the status line and tests. */
export function tfjsInfo(): { backend: string; float32: boolean | undefined; float16Textures: boolean | undefined } {
  const backend = tf.getBackend();
  const env = tf.env();
  const flag = (f: string) => {
    try {
      return Boolean(env.get(f));
    } catch {
      return undefined;
    }
  };
  return {
    backend,
    float32: backend === 'webgl' ? flag('WEBGL_RENDER_FLOAT32_CAPABLE') && flag('WEBGL_RENDER_FLOAT32_ENABLED') : backend === 'webgpu' ? true : undefined,
    float16Textures: backend === 'webgl' ? flag('WEBGL_FORCE_F16_TEXTURES') : undefined,
  };
}
