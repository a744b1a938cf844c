import { readFile } from 'node:fs/promises';
import { PRESETS, SparseViTError, validateConfig, type ConfigInput } from '@sparsevit/core';

/**
 * The `--config` value: a JSON file (like `tooling/fixtures/sparsevit-tiny/config.json`), or the
 * name of a preset (`base`). `undefined` when not given: the loaders then take the config from
 * the weights' metadata, else the `base` preset. A file that cannot be read or parsed, or a
 * config that is inconsistent, is a `SparseViTError` (exit code 1).
 */
export async function loadConfigOption(value: string | undefined): Promise<ConfigInput | undefined> {
  if (value === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(value, 'utf8');
  } catch (error) {
    if (Object.hasOwn(PRESETS, value)) return value as keyof typeof PRESETS;
    throw new SparseViTError('IO_ERROR', `cannot read the config file ${value}: ${(error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SparseViTError('INVALID_CONFIG', `the config file ${value} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateConfig(json);
}
