import { readFileSync, statSync } from 'node:fs';
import { CONFIG_METADATA_KEY, prepareGraphWeights, readOutputCalibration, readSafetensors } from '@sparsevit/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL } from './index';

describe('the default model file', () => {
  it('is fp16, within 15 MB, holds every key of the small preset and states its config and training', async () => {
    expect(statSync(DEFAULT_MODEL.file).size).toBeLessThanOrEqual(15 * 1024 * 1024);
    const store = await readSafetensors(readFileSync(DEFAULT_MODEL.file));
    expect(JSON.parse(store.metadata[CONFIG_METADATA_KEY])).toEqual(DEFAULT_MODEL.config);
    expect(JSON.parse(store.metadata['sparsevit.trained']).steps).toBeGreaterThan(0);
    // Calibrated on the validation photos (sparsevit calibrate), never on the test ones.
    const calibration = readOutputCalibration(store.metadata)!;
    expect(calibration.data).toBe('data/synth-val/pairs.json');
    expect(calibration.threshold).toBeGreaterThan(0);
    expect(calibration.threshold).toBeLessThan(1);
    expect([...store.tensors.values()].every((t) => t.dtype === 'F16' || t.dtype === 'I64')).toBe(true);
    expect(prepareGraphWeights(store, DEFAULT_MODEL.config).size).toBeGreaterThan(100); // WEIGHTS_MISMATCH otherwise
  });
});
