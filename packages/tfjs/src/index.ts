// @sparsevit/tfjs: SparseViT on TensorFlow.js, running the one model definition of @sparsevit/core
// eagerly through a `TensorOps` implementation. Everything from @sparsevit/core is re-exported, so
// one import serves (configs, errors, preprocessing, renderers).
export * from '@sparsevit/core';
export { loadModel, loadTfjsBackend, decodeRawImage, type LoadBackendOptions, type LoadModelOptions, type TfjsSparseViTModel, type TfjsWeightsInput } from './load-model';
export { createTfjsBackend, type CreateTfjsBackendOptions, type TfjsBackend, type TfjsForwardData } from './tfjs-backend';
export { TfjsTensorOps, type Tfjs, type TfjsTensorOpsOptions } from './tfjs-tensor-ops';
export { selectBackend, type TfjsBackendName, type WasmOptions } from './select-backend';
