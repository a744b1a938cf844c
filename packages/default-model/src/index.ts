// @sparsevit/default-model: the SDK's trained default SparseViT and what it is.
import { fileURLToPath } from 'node:url';
import { SMALL_CONFIG, type SparseViTConfig } from '@sparsevit/core';

export interface DefaultModel {
  /** A stable name for logs and model identities. */
  id: string;
  /** Absolute path of the fp16 `.safetensors` file (config in its metadata). */
  file: string;
  config: SparseViTConfig;
  /** One line for users: what the model is and what it is not. */
  notice: string;
}

/**
 * The default model: the `small` preset trained by `sparsevit train` on synthetic manipulations
 * (splice, copy-move, removal, authentic; the authors' post-processing) of photographs from
 * Debian packages (wallpapers, GCompris, Palapeli). It is NOT the authors' checkpoint and has
 * never seen a real forgery dataset: it makes the SDK show real detections out of the box; for
 * research results, use the authors' weights.
 *
 * ```ts
 * import { DEFAULT_MODEL } from '@sparsevit/default-model';
 * import { loadModel } from '@sparsevit/node';
 * const model = await loadModel({ weights: DEFAULT_MODEL.file });
 * ```
 */
export const DEFAULT_MODEL: DefaultModel = {
  id: 'sparsevit-small-synth',
  file: fileURLToPath(new URL('../model/sparsevit-small-synth-fp16.safetensors', import.meta.url)),
  config: SMALL_CONFIG,
  notice:
    'the default model sparsevit-small-synth (small preset, trained by sparsevit train on synthetic manipulations of Debian photos, not by the SparseViT authors; pass --weights for other weights)',
};
