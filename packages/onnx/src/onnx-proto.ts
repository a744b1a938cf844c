// onnx-proto and protobufjs 6 are CommonJS without an exports map; Node's ESM loader cannot
// see their named exports, so the runtime objects are taken from the default export here, once.
// `OnnxProto` is the type namespace (message interfaces) for annotations.
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';

export type { onnx as OnnxProto } from 'onnx-proto';
export const onnx = onnxProto.onnx;
export const Reader = protobuf.Reader;
