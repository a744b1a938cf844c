export { lowerToOnnx, readOnnxConfig, ONNX_OPSET, CONFIG_METADATA_KEY, INPUT_NAME, type LowerToOnnxOptions } from './lower-to-onnx';
export { OnnxGraphBuilder } from './onnx-graph-builder';
