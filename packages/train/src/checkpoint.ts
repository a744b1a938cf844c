import { SparseViTError, float32Tensor, readSafetensors, toFloat32, validateConfig, writeSafetensors, type GraphWeight, type SparseViTConfig, type WeightTensor } from '@sparsevit/core';
import type { AdamWSlot } from './adamw';
import type { TrainerState } from './trainer';

/** The metadata key of a training checkpoint (JSON: step, config, run settings, history). */
export const TRAINING_METADATA_KEY = 'sparsevit.training';

export interface TrainingCheckpoint<Run = unknown> {
  state: TrainerState;
  config: SparseViTConfig;
  /** Whatever the caller needs to resume (run settings, loss history, data position). */
  run: Run;
}

/**
 * A training checkpoint as one `.safetensors` file: `param/<name>` (prepared layout),
 * `adam.m/<name>` and `adam.v/<name>` float32 tensors, and `sparsevit.training` metadata. It is
 * not an inference file (use `exportInferenceWeights`); it resumes a run exactly.
 */
export function encodeCheckpoint<Run>(checkpoint: TrainingCheckpoint<Run>): Uint8Array {
  const tensors = new Map<string, WeightTensor>();
  for (const [name, w] of checkpoint.state.weights) {
    tensors.set(`param/${name}`, float32Tensor(w.shape, w.data));
    const slot = checkpoint.state.optimizer.get(name);
    if (slot) {
      tensors.set(`adam.m/${name}`, float32Tensor(w.shape, slot.m));
      tensors.set(`adam.v/${name}`, float32Tensor(w.shape, slot.v));
    }
  }
  const meta = { step: checkpoint.state.step, config: checkpoint.config, run: checkpoint.run };
  return writeSafetensors({ tensors, metadata: { [TRAINING_METADATA_KEY]: JSON.stringify(meta) } });
}

export async function decodeCheckpoint<Run = unknown>(bytes: Uint8Array): Promise<TrainingCheckpoint<Run>> {
  const store = await readSafetensors(bytes);
  const raw = store.metadata[TRAINING_METADATA_KEY];
  if (raw === undefined) throw new SparseViTError('UNSUPPORTED_FORMAT', `not a training checkpoint: no "${TRAINING_METADATA_KEY}" metadata (an inference weights file cannot be resumed; use it with --init)`);
  let meta: { step: unknown; config: unknown; run: Run };
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new SparseViTError('CORRUPT_WEIGHTS', `the checkpoint's "${TRAINING_METADATA_KEY}" metadata is not JSON`);
  }
  if (!Number.isSafeInteger(meta.step) || (meta.step as number) < 0) throw new SparseViTError('CORRUPT_WEIGHTS', 'the checkpoint has no valid step');
  const weights = new Map<string, GraphWeight>();
  const optimizer = new Map<string, AdamWSlot>();
  for (const [key, t] of store.tensors) {
    const slash = key.indexOf('/');
    const kind = key.slice(0, slash);
    const name = key.slice(slash + 1);
    if (kind === 'param') weights.set(name, { shape: [...t.shape], data: toFloat32(t) });
  }
  for (const name of weights.keys()) {
    const m = store.tensors.get(`adam.m/${name}`);
    const v = store.tensors.get(`adam.v/${name}`);
    if (m && v) optimizer.set(name, { m: toFloat32(m), v: toFloat32(v) });
  }
  return { state: { weights, optimizer, step: meta.step as number }, config: validateConfig(meta.config), run: meta.run };
}
