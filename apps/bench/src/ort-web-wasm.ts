// The WASM engine of @sparsevit/web (onnxruntime-web's wasm build, SIMD, threads through
// worker_threads) run in Node on the same ONNX graph, so the browser fallback's speed is measured
// here without a browser. The session wrapper is @sparsevit/onnx's, as in both adapters, and the
// pipeline around it (preprocessing, resampling, masks) core's; only the session is set up here.
import { readFileSync } from 'node:fs';
import { bytesSource, createSparseViTModel, type RawImage } from '@sparsevit/core';
import { buildOnnxModel, ortSessionBackend, type OnnxDtype } from '@sparsevit/onnx';
import * as ort from 'onnxruntime-web';

export async function loadOrtWebWasm(weights: string, threads: number, batchSize: number, dtype: OnnxDtype = 'fp32') {
  // Browsers get min(4, cores) threads when cross-origin isolated, 1 otherwise (@sparsevit/web).
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  const { model, config } = await buildOnnxModel(bytesSource(new Uint8Array(readFileSync(weights))), { dtype, q8Target: 'wasm' });
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const backend = await ortSessionBackend(session, { Tensor: ort.Tensor, imgSize: config.img_size, name: 'onnxruntime-web', device: `wasm x${threads}` });
  return createSparseViTModel<RawImage>({ config, batchSize, decode: async (image) => image, backend });
}
