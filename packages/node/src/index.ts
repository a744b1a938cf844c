// @sparsevit/node: SparseViT on ONNX Runtime for Node. Everything from @sparsevit/core is
// re-exported, so one import serves (configs, errors, renderers, metrics).
export * from '@sparsevit/core';
export { loadModel, type LoadModelOptions, type NodeSparseViTModel } from './load-model';
export { decodeImage, probeImage, type ImageHeader, type NodeImageInput } from './decode-image';
export { openFileSource, type FileByteSource } from './file-source';
export { createOnnxRuntimeBackend, NODE_DEVICES, type NodeDevice, type OrtSessionSettings } from './onnx-runtime-backend';
