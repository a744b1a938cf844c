// onnx-proto (protobufjs 6 generated code) is CommonJS without an exports map; Node's ESM loader cannot
// see its named exports, so the runtime objects are taken from the default export here, once.
// `OnnxProto` is the type namespace (message interfaces) for annotations.
import onnxProto from 'onnx-proto';

export type { onnx as OnnxProto } from 'onnx-proto';
export const onnx = onnxProto.onnx;
