import { SparseViTError } from '../errors';
import { float32Tensor, toFloat32 } from '../weights/convert';
import { float32ToBf16Bytes, float32ToF16Bytes } from '../weights/half';
import type { TensorStore, WeightTensor } from '../weights/tensor';

/** The bias of the head's last 1x1 conv: the one constant added to every output logit. */
export const OUTPUT_BIAS_KEY = 'lmu.conv_last.bias';

/** Metadata key of a calibrated model: JSON `OutputCalibration`. */
export const CALIBRATION_METADATA_KEY = 'sparsevit.calibration';

/** What `calibrateOutputThreshold` did to a model, as recorded in its metadata. */
export interface OutputCalibration {
  /**
   * The threshold of the uncalibrated model that the calibrated one answers at 0.5: its mask at
   * 0.5 is (up to resampling, see `calibrateOutputThreshold`) the old model's at this threshold.
   */
  threshold: number;
  /** Added to every logit: `ln((1 - threshold) / threshold)`, summed over repeated calibrations. */
  logitShift: number;
  /** Anything else worth keeping with it (which data chose the threshold, the F1 it gave). */
  [detail: string]: unknown;
}

/** The logit shift that moves the operating point `threshold` to 0.5: `logit(0.5) - logit(threshold)`. */
export function logitShiftForThreshold(threshold: number): number {
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) {
    throw new SparseViTError('INVALID_ARGUMENT', `a calibration threshold must lie strictly between 0 and 1, got ${String(threshold)}`);
  }
  return Math.log((1 - threshold) / threshold);
}

/** The calibration a store's metadata records, or `undefined` (refused when unreadable). */
export function readOutputCalibration(metadata: Record<string, string>): OutputCalibration | undefined {
  const raw = metadata[CALIBRATION_METADATA_KEY];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const c = parsed as Partial<OutputCalibration> | undefined;
  if (!c || typeof c !== 'object' || !Number.isFinite(c.threshold) || !Number.isFinite(c.logitShift)) {
    throw new SparseViTError('CORRUPT_WEIGHTS', `the ${CALIBRATION_METADATA_KEY} metadata is not a calibration record`);
  }
  return c as OutputCalibration;
}

/** `values` in `like`'s float dtype (a float64 tensor becomes float32). */
function floatTensorLike(like: WeightTensor, values: Float32Array): WeightTensor {
  if (like.dtype === 'F16') return { dtype: 'F16', shape: [...like.shape], data: float32ToF16Bytes(values) };
  if (like.dtype === 'BF16') return { dtype: 'BF16', shape: [...like.shape], data: float32ToBf16Bytes(values) };
  return float32Tensor(like.shape, values);
}

/**
 * A copy of `store` whose model, at the usual threshold of 0.5, marks what `store`'s marked at
 * `threshold`: every logit is shifted by `logitShiftForThreshold(threshold)` through the head's
 * last bias (the network's upsampling is linear with weights summing to 1, so the shift reaches
 * the upsampled logits unchanged). The point is that every adapter, the ONNX export, q8 and the
 * CLI then need no threshold of their own for this model. Image scores move monotonically, so
 * image AUC does not change; at 0.5 the image labels do.
 *
 * Exact at the network's resolution; at the image's size the map is resampled (Lanczos) after
 * the sigmoid, so a few edge pixels can differ from thresholding the old map at `threshold`. In
 * a float16 file the new bias is rounded to float16 (about 1e-3 of a logit).
 *
 * Calibrating a calibrated model adds the shifts; `details` are recorded beside them.
 */
export function calibrateOutputThreshold(store: TensorStore, threshold: number, details: Record<string, unknown> = {}): TensorStore {
  const shift = logitShiftForThreshold(threshold);
  const bias = store.tensors.get(OUTPUT_BIAS_KEY);
  if (!bias) throw new SparseViTError('WEIGHTS_MISMATCH', `no ${OUTPUT_BIAS_KEY} in these weights: a calibration shifts the head's output bias`);
  if (bias.shape.length !== 1 || bias.shape[0] !== 1) {
    throw new SparseViTError('WEIGHTS_MISMATCH', `${OUTPUT_BIAS_KEY} has shape [${bias.shape.join(', ')}], expected [1]`);
  }
  const values = toFloat32(bias);
  values[0] += shift;
  const previous = readOutputCalibration(store.metadata);
  const logitShift = (previous?.logitShift ?? 0) + shift;
  // A first calibration records the threshold as chosen (not as rounded through exp and log).
  const record: OutputCalibration = { ...details, threshold: previous ? 1 / (1 + Math.exp(logitShift)) : threshold, logitShift };
  const tensors = new Map(store.tensors);
  tensors.set(OUTPUT_BIAS_KEY, floatTensorLike(bias, values));
  return { tensors, metadata: { ...store.metadata, [CALIBRATION_METADATA_KEY]: JSON.stringify(record) } };
}
