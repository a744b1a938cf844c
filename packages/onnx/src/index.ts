export {
  INPUT_NAME,
  ONNX_OPSET,
  PROBABILITY_NAME,
  DTYPE_METADATA_KEY,
  externalizeOnnxWeights,
  lowerToOnnx,
  lowerToOnnxWithExternalData,
  readOnnxConfig,
  readOnnxDescription,
  readOnnxDtype,
  readOnnxMetadata,
  ONNX_DTYPES,
  resolveDtype,
  type LowerToOnnxOptions,
  type OnnxModelWithExternalData,
} from './lower-to-onnx';
export {
  OnnxGraphBuilder,
  isQ8Weight,
  isQ8MapWeight,
  quantizeInt8PerColumn,
  type ExternalDataLayout,
  type Int8Weight,
  type OnnxDtype,
  type OnnxWeightStorage,
  type Q8Target,
} from './onnx-graph-builder';
export {
  buildOnnxModel,
  readModelSource,
  type BuildOnnxModelOptions,
  type ModelSource,
  type ModelSourceOptions,
  type OnnxModelSource,
} from './build-onnx-model';
export { ortSessionBackend, type OrtSessionBackendOptions } from './ort-session-backend';
export {
  DifferentiableOnnxOps,
  LOGITS_NAME,
  LOSS_NAME,
  MASK_NAME,
  gradientName,
  lowerTrainingGraph,
  type TrainingGraph,
  type TrainingGraphLoss,
  type TrainingGraphOptions,
} from './training-graph';
