// The SDK's side of the load benchmark, in a process of its own (as the server is), so that the
// two can be given the same cores (`load.ts --pin`). Started by load.ts with an IPC channel:
//   argv: <weights> [config.json] <image>
//   receives { count }   -> runs `detect` on the image `count` times, one after another
//   answers  { imagesPerSecond, latencies, cpuMsPerImage }
// and exits when the channel closes.
import { readFileSync } from 'node:fs';
import { loadModel } from '@sparsevit/node';

export interface SdkBlock {
  imagesPerSecond: number;
  /** ms per `detect`. */
  latencies: number[];
  /** This process's CPU time (user + system) per image, ms. */
  cpuMsPerImage: number;
}

const [weights, configOrImage, maybeImage] = process.argv.slice(2);
// @sparsevit/node reads a config given as a JSON file's path.
const model = await loadModel({ weights, config: maybeImage ? configOrImage : undefined });
const image = readFileSync(maybeImage ?? configOrImage);
// Warm-up, not reported: first runs allocate ONNX Runtime's buffers and start sharp's threads.
for (let i = 0; i < 2; i++) await model.detect(image);

process.on('message', async ({ count }: { count: number }) => {
  const latencies: number[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await model.detect(image);
    latencies.push(performance.now() - t0);
  }
  const used = process.cpuUsage(cpu);
  const block: SdkBlock = { imagesPerSecond: count / ((performance.now() - started) / 1000), latencies, cpuMsPerImage: (used.user + used.system) / 1000 / count };
  process.send!(block);
});
process.on('disconnect', () => void model.dispose().then(() => process.exit(0)));
process.send!({ ready: true });
