import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ExternalDataLayout, OnnxModelWithExternalData } from '@sparsevit/onnx';

const WEIGHTS_FILE = 'sparsevit.weights';

/**
 * Writes a model and its external weights to a temporary folder, runs `use` with the model's
 * path, then deletes both. `produce` builds the model (from prepared weights, or by moving an
 * `.onnx` file's weights out); whatever it referenced is released before `use` runs.
 *
 * Why files: onnxruntime-node given a 200 MB model buffer parses every weight out of the
 * protobuf (a second copy) while the JS buffer is still alive (a third). Given a path with
 * 64 KiB-aligned external data, it maps the weights from the file, and the JS copies are
 * released once written. Measured with `pnpm bench --cli` on the base model, peak RSS of
 * `sparsevit detect` on one image: ~830 MB before, ~415 MB from .safetensors or .pth.
 */
export async function withModelFiles<T>(
  produce: (layout: ExternalDataLayout) => OnnxModelWithExternalData,
  use: (modelPath: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sparsevit-'));
  try {
    const modelPath = join(dir, 'model.onnx');
    await writeModelFiles(produce({ location: WEIGHTS_FILE }), modelPath, join(dir, WEIGHTS_FILE));
    // The weights are on disk now and nothing references the JS copies; collect them before the
    // runtime loads its own.
    collectGarbage();
    return await use(modelPath);
  } finally {
    // On Windows a mapped file cannot be deleted while the session lives; the OS temp cleaner
    // takes it then. Everywhere else the session keeps its mapping and the name goes now.
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function writeModelFiles(lowered: OnnxModelWithExternalData, modelPath: string, weightsPath: string): Promise<void> {
  await writeFile(modelPath, lowered.model);
  const handle = await open(weightsPath, 'w');
  try {
    for (const chunk of lowered.data) await handle.write(chunk);
  } finally {
    await handle.close();
  }
}

/**
 * Runs a full garbage collection. The ~200 MB of weight buffers just written are unreachable,
 * but nothing else allocates before ONNX Runtime loads the model, so V8 would keep them until
 * long after: measured on the base model, peak RSS is ~610 MB without this and ~390 MB with it.
 * `--expose-gc` is turned on for this call only when the process did not start with it.
 */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === 'function') {
    exposed();
    return;
  }
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}
