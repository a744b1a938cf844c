/** What `navigator.gpu` offers in this realm (page or worker): `undefined` without a WebGPU adapter. */
export async function probeWebGpu(): Promise<{ shaderF16: boolean } | undefined> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return undefined;
  try {
    const adapter = await gpu.requestAdapter();
    return adapter ? { shaderF16: adapter.features.has('shader-f16') } : undefined;
  } catch {
    return undefined;
  }
}
