import { describe, expect, it } from 'vitest';
import { float32Tensor, toFloat32 } from '../weights/convert';
import { float32ToF16Bytes } from '../weights/half';
import type { TensorStore } from '../weights/tensor';
import { expectSparseViTErrorSync } from '../weights/testing/expect-sparsevit-error';
import { CALIBRATION_METADATA_KEY, calibrateOutputThreshold, logitShiftForThreshold, OUTPUT_BIAS_KEY, readOutputCalibration } from './output-calibration';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function store(bias: number, dtype: 'F32' | 'F16' = 'F32'): TensorStore {
  const other = float32Tensor([2], Float32Array.of(0.25, -1));
  const b = dtype === 'F32' ? float32Tensor([1], Float32Array.of(bias)) : { dtype: 'F16' as const, shape: [1], data: float32ToF16Bytes(Float32Array.of(bias)) };
  return { tensors: new Map([['lmu.conv_last.weight', other], [OUTPUT_BIAS_KEY, b]]), metadata: { 'sparsevit.config': '{}' } };
}

describe('calibrateOutputThreshold', () => {
  it('shifts the output bias so that sigmoid(logit + shift) crosses 0.5 where sigmoid(logit) crossed the threshold', () => {
    for (const t of [0.05, 0.2, 0.5, 0.7]) {
      const shift = logitShiftForThreshold(t);
      // The defining property, checked on the sigmoid itself: the old logit at threshold t moves to 0.5.
      const logitAtT = Math.log(t / (1 - t));
      expect(sigmoid(logitAtT + shift)).toBeCloseTo(0.5, 12);
      const calibrated = calibrateOutputThreshold(store(-0.125), t, { data: 'val' });
      expect(toFloat32(calibrated.tensors.get(OUTPUT_BIAS_KEY)!)[0]).toBeCloseTo(-0.125 + shift, 6);
      const record = readOutputCalibration(calibrated.metadata)!;
      expect(record.threshold).toBe(t);
      expect(record.logitShift).toBeCloseTo(shift, 12);
      expect(record.data).toBe('val');
      // Everything else is kept, and the input is not changed.
      expect(toFloat32(calibrated.tensors.get('lmu.conv_last.weight')!)).toEqual(Float32Array.of(0.25, -1));
      expect(calibrated.metadata['sparsevit.config']).toBe('{}');
    }
    const original = store(1);
    calibrateOutputThreshold(original, 0.2);
    expect(toFloat32(original.tensors.get(OUTPUT_BIAS_KEY)!)[0]).toBe(1);
    expect(original.metadata[CALIBRATION_METADATA_KEY]).toBeUndefined();
  });

  it('keeps a float16 bias in float16, rounded to it', () => {
    const calibrated = calibrateOutputThreshold(store(-0.1064, 'F16'), 0.2);
    const bias = calibrated.tensors.get(OUTPUT_BIAS_KEY)!;
    expect(bias.dtype).toBe('F16');
    expect(toFloat32(bias)[0]).toBeCloseTo(-0.1064 + Math.log(4), 2);
  });

  it('adds the shifts of repeated calibrations and records the threshold of the original model', () => {
    const once = calibrateOutputThreshold(store(0), 0.2);
    const twice = calibrateOutputThreshold(once, 0.4);
    const record = readOutputCalibration(twice.metadata)!;
    expect(record.logitShift).toBeCloseTo(Math.log(4) + Math.log(1.5), 12);
    // 0.4 of the once-calibrated model is logit ln(2/3) there, ln(2/3) - ln 4 = ln(1/6) before.
    expect(record.threshold).toBeCloseTo(1 / 7, 12);
    expect(toFloat32(twice.tensors.get(OUTPUT_BIAS_KEY)!)[0]).toBeCloseTo(record.logitShift, 6);
  });

  it('refuses thresholds outside (0, 1), weights without the head bias, and unreadable records', () => {
    for (const t of [0, 1, -0.1, Number.NaN]) expectSparseViTErrorSync(() => calibrateOutputThreshold(store(0), t), 'INVALID_ARGUMENT', /strictly between 0 and 1/);
    const noBias: TensorStore = { tensors: new Map(), metadata: {} };
    expectSparseViTErrorSync(() => calibrateOutputThreshold(noBias, 0.2), 'WEIGHTS_MISMATCH', /lmu\.conv_last\.bias/);
    const wide: TensorStore = { tensors: new Map([[OUTPUT_BIAS_KEY, float32Tensor([2], Float32Array.of(0, 0))]]), metadata: {} };
    expectSparseViTErrorSync(() => calibrateOutputThreshold(wide, 0.2), 'WEIGHTS_MISMATCH', /expected \[1\]/);
    expectSparseViTErrorSync(() => readOutputCalibration({ [CALIBRATION_METADATA_KEY]: '{"threshold":"x"}' }), 'CORRUPT_WEIGHTS');
    expectSparseViTErrorSync(() => readOutputCalibration({ [CALIBRATION_METADATA_KEY]: 'not json' }), 'CORRUPT_WEIGHTS');
  });
});
