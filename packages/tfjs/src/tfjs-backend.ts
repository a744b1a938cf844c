import {
  FEATURE_NAMES,
  SparseViTError,
  sparseViTGraph,
  type FeatureName,
  type GraphWeights,
  type InferenceBackend,
  type SparseViTConfig,
  type SparseViTGraphOptions,
  type SparseViTGraphOutputs,
} from '@sparsevit/core';
import type * as tfc from '@tensorflow/tfjs-core';
import { planReleases, type ReleasePlan } from './release-plan';
import { TfjsTensorOps, type Tfjs } from './tfjs-tensor-ops';

/** Everything a forward pass can return, read back to the CPU. */
export interface TfjsForwardData {
  /** `[batch, 1, img/16, img/16]` logits of the fusion head. */
  logits: Float32Array;
  /** `[batch, 1, img, img]` probability maps. */
  probability: Float32Array;
  /** The six backbone features (NCHW), when asked for. */
  features?: Record<FeatureName, Float32Array>;
}

/** Core's `InferenceBackend` on TensorFlow.js, plus lower-level access for parity checks and research. */
export interface TfjsBackend extends InferenceBackend {
  readonly tf: Tfjs;
  readonly config: SparseViTConfig;
  /** The eager op set holding the weights. */
  readonly ops: TfjsTensorOps;
  /**
   * The graph on an NCHW input tensor `[batch, 3, img, img]`, inside `tf.tidy`: the returned
   * tensors are the caller's to dispose (`tf.dispose(outputs)`); nothing else is left behind.
   * Runs on whatever backend is current.
   */
  forward(input: tfc.Tensor, options?: SparseViTGraphOptions): SparseViTGraphOutputs<tfc.Tensor>;
  /** `run`, also returning the logits and, on request, the six features. */
  runWithFeatures(input: Float32Array, batch: number, options?: SparseViTGraphOptions): Promise<TfjsForwardData>;
}

export interface CreateTfjsBackendOptions {
  /** The TensorFlow.js namespace to run on (its current backend is used unless `backendName` says). */
  tf: Tfjs;
  config: SparseViTConfig;
  /** Prepared weights (`prepareGraphWeights`); uploaded once, here. */
  weights: GraphWeights;
  /**
   * The tfjs backend (`tf.getBackend()` name) this model runs on. Before each forward pass it is
   * made current again if something else switched the engine away. Default: the current one.
   */
  backendName?: string;
}

/**
 * Uploads the weights to the current TensorFlow.js backend and returns core's `InferenceBackend`
 * around `sparseViTGraph`. Each forward pass runs inside one `tf.tidy`, freeing each intermediate
 * after its last use (`planReleases`); only the requested outputs
 * survive it, and they are disposed as soon as their data is read back.
 */
export function createTfjsBackend(options: CreateTfjsBackendOptions): TfjsBackend {
  const { tf, config } = options;
  const backendName = options.backendName ?? tf.getBackend();
  if (!backendName) throw new SparseViTError('BACKEND_UNAVAILABLE', 'TensorFlow.js has no backend; register one (e.g. import "@tensorflow/tfjs-backend-wasm")');
  const ops = new TfjsTensorOps(tf, options.weights);
  const size = config.img_size;
  let disposed = false;
  const plans: Partial<Record<'plain' | 'features', ReleasePlan>> = {};

  const ensureLive = () => {
    if (disposed) throw new SparseViTError('DISPOSED', 'this SparseViT TensorFlow.js backend has been disposed');
  };

  function forward(input: tfc.Tensor, graphOptions: SparseViTGraphOptions = {}): SparseViTGraphOutputs<tfc.Tensor> {
    ensureLive();
    const shape = input.shape;
    if (shape.length !== 4 || shape[1] !== 3 || shape[2] !== size || shape[3] !== size) {
      throw new SparseViTError('INVALID_ARGUMENT', `input must be [batch, 3, ${size}, ${size}], got [${shape.join(', ')}]`);
    }
    const key = graphOptions.features ? 'features' : 'plain';
    const plan = (plans[key] ??= planReleases(config, graphOptions));
    return tidyOutputs(() => ops.runPlanned(plan, () => sparseViTGraph(ops, config, input, graphOptions)));
  }

  /** Makes our backend current (another model or the app may have switched it), then runs. */
  async function forwardFromArray(input: Float32Array, batch: number, graphOptions: SparseViTGraphOptions) {
    ensureLive();
    if (input.length !== batch * 3 * size * size) {
      throw new SparseViTError('INVALID_ARGUMENT', `input holds ${input.length} values, expected ${batch} x 3 x ${size} x ${size}`);
    }
    if (tf.getBackend() !== backendName) await tf.setBackend(backendName);
    // Synchronous from here to the outputs: no other forward pass can switch backends in between.
    return tidyOutputs(() => forward(tf.tensor4d(input, [batch, 3, size, size], 'float32'), graphOptions));
  }

  /** `tf.tidy` keeps the tensors of the returned object (nested objects included), disposes the rest. */
  function tidyOutputs(fn: () => SparseViTGraphOutputs<tfc.Tensor>): SparseViTGraphOutputs<tfc.Tensor> {
    return tf.tidy(() => fn() as unknown as tfc.TensorContainerObject) as unknown as SparseViTGraphOutputs<tfc.Tensor>;
  }

  async function read(t: tfc.Tensor): Promise<Float32Array> {
    return (await t.data()) as Float32Array;
  }

  return {
    name: 'tfjs',
    get device() {
      return backendName;
    },
    tf,
    config,
    ops,
    forward,

    async run(input, batch) {
      const out = await forwardFromArray(input, batch, {});
      try {
        return await read(out.probability);
      } finally {
        tf.dispose([out.logits, out.probability]);
      }
    },

    async runWithFeatures(input, batch, graphOptions = { features: true }) {
      const out = await forwardFromArray(input, batch, graphOptions);
      try {
        const data: TfjsForwardData = { logits: await read(out.logits), probability: await read(out.probability) };
        if (out.features) {
          const features = {} as Record<FeatureName, Float32Array>;
          for (const name of FEATURE_NAMES) features[name] = await read(out.features[name]);
          data.features = features;
        }
        return data;
      } finally {
        tf.dispose([out.logits, out.probability, ...(out.features ? Object.values(out.features) : [])]);
      }
    },

    async dispose() {
      if (disposed) return;
      disposed = true;
      ops.dispose();
    },
  };
}
