// @sparsevit/core: SparseViT defined once, plus everything around it that is runtime-agnostic.
export { SparseViTError, isSparseViTError, type SparseViTErrorCode } from './errors';

export {
  BASE_CONFIG,
  PRESETS,
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
export { prepareGraphWeights, validateStateDict } from './graph/prepare-graph-weights';

export { DTYPE_BYTES, numel, type DType, type TensorStore, type WeightTensor } from './weights/tensor';
export { blobSource, bytesSource, type ByteSource } from './weights/byte-source';
export { readSafetensors, writeSafetensors } from './weights/safetensors';
export { convertStore, float32Tensor, isFloatDType, toFloat32 } from './weights/convert';
export { f16BitsToF32, f32ToF16Bits, float32ToF16Bytes } from './weights/half';
