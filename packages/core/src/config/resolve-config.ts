import { SparseViTError } from '../errors';
import { PRESETS, validateConfig, type PresetName, type SparseViTConfig } from './sparsevit-config';

/** Key of the config JSON in a safetensors `__metadata__` (and in `.onnx` metadata as `sparsevit.config`). */
export const CONFIG_METADATA_KEY = 'sparsevit.config';

/** A config given by a caller: a preset name, or a config object (e.g. parsed from JSON). */
export type ConfigInput = PresetName | SparseViTConfig | Record<string, unknown>;

/**
 * The config a model is built with, by precedence: the caller's explicit choice; else the one the
 * weights file carries in its metadata; else the published `base` preset (the authors' released
 * `.pth` carries no config, and it is the base model).
 */
export function resolveConfig(explicit: ConfigInput | undefined, metadata: Record<string, string> = {}): SparseViTConfig {
  if (typeof explicit === 'string') {
    if (!(explicit in PRESETS)) {
      throw new SparseViTError('INVALID_CONFIG', `unknown preset "${explicit}"; presets: ${Object.keys(PRESETS).join(', ')}`);
    }
    return PRESETS[explicit as PresetName];
  }
  if (explicit !== undefined) return validateConfig(explicit);
  const stored = metadata[CONFIG_METADATA_KEY];
  if (stored !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored);
    } catch (error) {
      throw new SparseViTError('INVALID_CONFIG', `the weights' metadata holds a config that is not valid JSON`, { cause: error });
    }
    return validateConfig(parsed);
  }
  return PRESETS.base;
}
