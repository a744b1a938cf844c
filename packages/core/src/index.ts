// @sparsevit/core: SparseViT defined once, plus everything around it that is runtime-agnostic.
export { MAX_ERROR_MESSAGE_LENGTH, SparseViTError, abortError, isSparseViTError, throwIfAborted, type SparseViTErrorCode } from './errors';
export { MAX_QUOTED_CHARS, describeValue, quoteText } from './message-text';

export {
  BASE_CONFIG,
  CONFIG_LIMITS,
  PRESETS,
  SMALL_CONFIG,
  MEDIUM_CONFIG,
  sparseSizes,
  stageSides,
  validateConfig,
  type PresetName,
  type SparseViTConfig,
} from './config/sparsevit-config';

export type { Conv2dOptions, GraphWeight, GraphWeights, TensorOps } from './graph/tensor-ops';
export { FEATURE_NAMES, sparseViTGraph, type FeatureName, type SparseViTGraphOptions, type SparseViTGraphOutputs } from './graph/sparsevit';
export { alterSparse, alterUnsparse } from './graph/sparse-attention-block';
export { expectedStateDict, type ExpectedTensor } from './graph/state-dict-layout';
export { prepareGraphWeights, validateStateDict, type PrepareGraphWeightsOptions } from './graph/prepare-graph-weights';
export { CostOps, graphCost, type GraphCost } from './graph/graph-cost';
export { bilinearResizeMatrix } from './graph/bilinear-resize-matrix';
export {
  CALIBRATION_METADATA_KEY,
  calibrateOutputThreshold,
  logitShiftForThreshold,
  OUTPUT_BIAS_KEY,
  readOutputCalibration,
  type OutputCalibration,
} from './graph/output-calibration';

export { DTYPE_BYTES, numel, type DType, type TensorCheck, type TensorInfo, type TensorStore, type WeightTensor } from './weights/tensor';
export { blobSource, bytesSource, type ByteSource } from './weights/byte-source';
export { readSafetensors, writeSafetensors, SAFETENSORS_MAX_HEADER_BYTES, type ReadSafetensorsOptions } from './weights/safetensors';
export { convertStore, float32Tensor, isFloatDType, toFloat32 } from './weights/convert';
export {
  bf16BitsToF32,
  bf16BytesToFloat32,
  f16BitsToF32,
  f16BytesToFloat32,
  f32ToBf16Bits,
  f32ToF16Bits,
  float32ToBf16Bytes,
  float32ToF16Bytes,
} from './weights/half';
export { detectWeightsFormat, readWeights, sniffWeightsFormat, WEIGHTS_SNIFF_BYTES, type ReadWeightsOptions, type WeightsFormat } from './weights/load-weights';
export { readGraphWeights, type GraphWeightsSource, type ReadGraphWeightsOptions } from './weights/read-graph-weights';
export { MAX_STRIDED_COPY_FACTOR, MAX_VIEW_EXPANSION, readPyTorchCheckpoint, type PyTorchCheckpointOptions } from './weights/pytorch-checkpoint';
export { PICKLE_COPIES_ALLOWANCE, PICKLE_COPIES_PER_BYTE, PICKLE_MAX_MEMO, PICKLE_MAX_OBJECTS, PICKLE_MAX_STACK } from './weights/pickle';
export { MAX_ZIP_READ_FACTOR } from './weights/zip';

export { CONFIG_METADATA_KEY, resolveConfig, type ConfigInput } from './config/resolve-config';

export {
  DEFAULT_MAX_PIXELS,
  MAX_ASPECT_RATIO,
  MAX_IMAGE_SIDE,
  assertImageShape,
  assertPixelLimit,
  isRawImage,
  validateRawImage,
  type RawImage,
  type ValidateRawImageOptions,
} from './image/raw-image';
export { cmykToRgb, toRgb } from './image/to-rgb';
export { resizeLinearU8 } from './image/resize-linear';
export { IMAGENET_MEAN, IMAGENET_STD, normalizeToChw, type NormalizeOptions } from './image/normalize';
export { preprocess } from './image/preprocess';
export { resizeLanczosMap } from './image/resize-lanczos';
export { resizeBilinearMap } from './image/resize-bilinear-map';
export { maxScore, probabilityToMask } from './image/postprocess';
export { renderHeatmap, renderMask, renderOverlay, turboColor, type OverlayOptions } from './image/render';
export { decodeNpy, encodeNpy, type NpyArray, type NpyDtype } from './formats/npy';

export type { DetectBatchOptions, DetectionResult, DetectionTimings, DetectOptions } from './model/detection-result';
export type { DetectionOutcome, SparseViTModel } from './model/sparsevit-model';
export {
  createSparseViTModel,
  sparseViTModelFromStream,
  type CreateSparseViTModelOptions,
  type DecodeOptions,
  type ImageDecoder,
  type InferenceBackend,
} from './model/create-sparsevit-model';
export { checkLoadModelOptions, checkOneOf, checkPositiveInteger, checkThreshold, type BaseLoadModelOptions } from './model/load-options';

export {
  PIXEL_EPSILON,
  bestThresholdF1,
  confusionAtThreshold,
  f1FromCounts,
  iouFromCounts,
  pixelAuc,
  pixelAucBenco,
  pixelF1,
  pixelIoU,
  pixelMetrics,
  type BestThresholdF1,
  type Confusion,
  type PixelMetrics,
} from './metrics/pixel-metrics';
export { IMAGE_EPSILON, imageAccuracy, imageAuc, imageConfusion, imageF1, type ImageConfusion } from './metrics/image-metrics';
export {
  createEvaluationAccumulator,
  evaluateImage,
  type EvaluateImageOptions,
  type EvaluationAccumulator,
  type EvaluationAccumulatorOptions,
  type EvaluationRow,
  type EvaluationSummary,
  type FailedEvaluationRow,
  type ImageMetrics,
} from './metrics/evaluation-summary';
export { binarizeMask, emptyMask, isEmptyMask, nearestSourceIndices, resizeMaskNearest, resizeProbabilityNearest, type BinaryMask } from './metrics/mask';
export { EVALUATION_PROTOCOLS, preparePair, type EvaluationProtocol, type PredictionMaps, type PreparedPair } from './metrics/protocol';
export {
  createThresholdSweep,
  DEFAULT_SWEEP_THRESHOLDS,
  type ThresholdSweep,
  type ThresholdSweepPoint,
  type ThresholdSweepResult,
} from './metrics/threshold-sweep';
export {
  IMAGE_EXTENSIONS,
  MASK_SUFFIXES,
  imageStem,
  pairByName,
  pairDatasetFiles,
  type AmbiguousMatch,
  type DatasetPair,
  type PairDatasetOptions,
  type PairingResult,
} from './dataset/pair-dataset';
export { NEGATIVE_MASK, parsePairList, type ParsePairListOptions, type PairListEntry } from './dataset/pair-list';
