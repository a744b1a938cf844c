export { lowerToOnnx, readOnnxConfig, ONNX_OPSET, INPUT_NAME, type LowerToOnnxOptions } from './lower-to-onnx';
export { OnnxGraphBuilder, type OnnxWeightStorage } from './onnx-graph-builder';
export { buildOnnxModel, type BuildOnnxModelOptions, type OnnxModelSource } from './build-onnx-model';
