export {
  INPUT_NAME,
  ONNX_OPSET,
  PROBABILITY_NAME,
  externalizeOnnxWeights,
  lowerToOnnx,
  lowerToOnnxWithExternalData,
  readOnnxConfig,
  type LowerToOnnxOptions,
  type OnnxModelWithExternalData,
} from './lower-to-onnx';
export { OnnxGraphBuilder, type ExternalDataLayout, type OnnxWeightStorage } from './onnx-graph-builder';
export {
  buildOnnxModel,
  readModelSource,
  type BuildOnnxModelOptions,
  type ModelSource,
  type ModelSourceOptions,
  type OnnxModelSource,
} from './build-onnx-model';
export { ortSessionBackend, type OrtSessionBackendOptions } from './ort-session-backend';
