// Mutation fuzzing of the weights readers, for a bounded time (not part of the test suite):
//
//   node tooling/hostile/fuzz.mjs [--seconds 60] [--seed 1] [--save <dir>] [--json]
//
// Seeds: small torch.save checkpoints and safetensors files made with the test writers, the tiny
// fixture's real checkpoint and safetensors, and the small cases of the hostile corpus. Each
// iteration mutates one seed (bit flips, interesting integers written over 1/2/4/8 bytes,
// inserted, deleted, duplicated or cut ranges) and runs `readWeights` on it, half the time with
// the model's shape check (`checkTensors`, as loaders run it), mostly without the CRC check, in
// a worker thread watched by a timer. Every outcome is counted:
//   typed    a SparseViTError (by code), or the file was accepted (`ok`)
//   untyped  anything else thrown: a bug (the input is saved with --save)
//   hang     no answer within --hang-seconds (default 10): the worker is killed and replaced
//   crash    the worker died (out of memory, abort)
// Needs @sparsevit/core built.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const here = fileURLToPath(new URL('.', import.meta.url));
const coreDist = join(here, '../../packages/core/dist');

if (!isMainThread) {
  const core = await import(join(coreDist, 'index.js'));
  const config = workerData.config;
  parentPort.on('message', async ({ id, bytes, checked, crc }) => {
    let outcome;
    try {
      const options = {
        pytorch: { verifyCrc: crc },
        ...(checked ? { checkTensors: (tensors, metadata) => core.validateStateDict({ tensors }, core.resolveConfig(config, metadata)) } : {}),
      };
      await core.readWeights(new Uint8Array(bytes), undefined, options);
      outcome = { kind: 'typed', code: 'ok' };
    } catch (error) {
      if (error instanceof core.SparseViTError) {
        outcome = error.message.length < 2000 ? { kind: 'typed', code: error.code } : { kind: 'untyped', code: `${error.code} with a ${error.message.length}-character message` };
      } else outcome = { kind: 'untyped', code: `${error?.name}: ${String(error?.message).slice(0, 160)}` };
    }
    parentPort.postMessage({ id, outcome });
  });
} else {
  const args = process.argv.slice(2);
  const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const seconds = Number(option('--seconds', '60'));
  const hangSeconds = Number(option('--hang-seconds', '10'));
  const seed = Number(option('--seed', '1'));
  const save = option('--save', undefined);
  const json = args.includes('--json');

  const { seededRandom, fixturePath } = await import('../fixtures/index.js');
  const { writeCheckpoint, f32Bytes } = await import(join(coreDist, 'testing.js'));
  const core = await import(join(coreDist, 'index.js'));
  const { HOSTILE_CASES, buildCase } = await import('./corpus.mjs');
  const config = JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'config.json'), 'utf8'));
  const random = seededRandom(seed);
  const int = (n) => Math.floor(random() * n);

  // --- seeds
  const tensor = (key, numel, size, stride) => ({ tensor: { storage: { key, type: 'FloatStorage', numel }, size, stride } });
  const seeds = [
    ['checkpoint-small', writeCheckpoint({ pickle: { dict: [['model', { ordered: [['a', tensor('0', 6, [2, 3])], ['b', tensor('0', 6, [3, 2], [1, 3])], ['c', tensor('1', 4, [4])]] }], ['epoch', 3]] }, storages: { 0: f32Bytes([1, 2, 3, 4, 5, 6]), 1: f32Bytes([7, 8, 9, 10]) } })],
    ['checkpoint-zip64', writeCheckpoint({ pickle: { ordered: [['w', tensor('0', 8, [2, 4])]] }, storages: { 0: f32Bytes([1, 2, 3, 4, 5, 6, 7, 8]) }, zip64: true })],
    ['safetensors-small', core.writeSafetensors({ tensors: new Map([['a', core.float32Tensor([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]))], ['b', core.float32Tensor([1], Float32Array.from([7]))]]), metadata: { [core.CONFIG_METADATA_KEY]: JSON.stringify(config) } })],
    ['tiny-checkpoint', new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth')))],
    ['tiny-safetensors', new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')))],
  ];
  for (const c of HOSTILE_CASES) {
    if (c.kind !== 'weights') continue;
    const bytes = await buildCase(c);
    if (bytes.length <= 64 * 1024) seeds.push([`corpus:${c.name}`, bytes]);
  }
  // The fixture files are large: mutate them a tenth of the time, the small seeds the rest.
  const pickSeed = () => {
    const large = seeds.filter(([n]) => n.startsWith('tiny-'));
    const small = seeds.filter(([n]) => !n.startsWith('tiny-'));
    return random() < 0.1 ? large[int(large.length)] : small[int(small.length)];
  };

  // --- mutations
  const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 40, 2 ** 53, 2 ** 63];
  function mutate(input) {
    let b = input.slice();
    const rounds = 1 + int(4);
    for (let r = 0; r < rounds; r++) {
      if (b.length === 0) b = new Uint8Array([int(256)]);
      const at = int(b.length);
      switch (int(7)) {
        case 0: // bit flip
          b[at] ^= 1 << int(8);
          break;
        case 1: // a random byte
          b[at] = int(256);
          break;
        case 2: {
          // an interesting integer over 1, 2, 4 or 8 bytes, little-endian
          const width = [1, 2, 4, 8][int(4)];
          let v = BigInt(INTERESTING[int(INTERESTING.length)]);
          for (let i = 0; i < width && at + i < b.length; i++, v >>= 8n) b[at + i] = Number(v & 0xffn);
          break;
        }
        case 3: {
          // insert random bytes
          const n = 1 + int(16);
          const out = new Uint8Array(b.length + n);
          out.set(b.subarray(0, at));
          for (let i = 0; i < n; i++) out[at + i] = int(256);
          out.set(b.subarray(at), at + n);
          b = out;
          break;
        }
        case 4: {
          // delete a range
          const n = 1 + int(Math.min(64, b.length - at));
          const out = new Uint8Array(b.length - n);
          out.set(b.subarray(0, at));
          out.set(b.subarray(at + n), at);
          b = out;
          break;
        }
        case 5: {
          // duplicate a range somewhere else
          const n = 1 + int(Math.min(256, b.length - at));
          const to = int(b.length);
          const chunk = b.slice(at, at + n);
          const out = new Uint8Array(b.length + n);
          out.set(b.subarray(0, to));
          out.set(chunk, to);
          out.set(b.subarray(to), to + n);
          b = out;
          break;
        }
        default:
          // cut the end
          b = b.slice(0, at);
      }
    }
    return b;
  }

  // --- the run
  const counts = { iterations: 0, typed: 0, untyped: 0, hang: 0, crash: 0 };
  const byCode = {};
  const samples = [];
  const keep = (kind, name, bytes, code) => {
    samples.push({ kind, seed: name, code });
    if (save) {
      mkdirSync(save, { recursive: true });
      writeFileSync(join(save, `${kind}-${counts.iterations}-${name.replace(/[^a-z0-9-]/gi, '_')}.bin`), bytes);
    }
  };
  let worker;
  const startWorker = () => {
    worker = new Worker(fileURLToPath(import.meta.url), { workerData: { config }, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    worker.unref();
  };
  startWorker();
  const runOne = (bytes, checked, crc) =>
    new Promise((resolve) => {
      const id = counts.iterations;
      const timer = setTimeout(() => {
        cleanup();
        resolve({ kind: 'hang' });
      }, hangSeconds * 1000);
      const onMessage = (m) => {
        if (m.id !== id) return;
        cleanup();
        resolve(m.outcome);
      };
      const onExit = (code) => {
        cleanup();
        resolve({ kind: 'crash', code: `worker exited (${code})` });
      };
      const onError = (error) => {
        cleanup();
        resolve({ kind: 'crash', code: String(error?.code ?? error?.message).slice(0, 120) });
      };
      const cleanup = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.on('error', onError);
      const copy = bytes.slice();
      worker.postMessage({ id, bytes: copy.buffer, checked, crc }, [copy.buffer]);
    });

  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const [name, seedBytes] = pickSeed();
    const bytes = mutate(seedBytes);
    // Half the runs check shapes as loaders do; most skip the CRC, which otherwise refuses most
    // mutations of storage bytes before anything else is exercised.
    const checked = random() < 0.5;
    const outcome = await runOne(bytes, checked, random() < 0.25);
    counts.iterations++;
    counts[outcome.kind]++;
    if (outcome.kind === 'typed') byCode[outcome.code] = (byCode[outcome.code] ?? 0) + 1;
    else {
      keep(outcome.kind, name, bytes, outcome.code);
      if (outcome.kind !== 'untyped') {
        await worker.terminate().catch(() => undefined);
        startWorker();
      }
    }
  }
  await worker.terminate();
  const report = { seed, seconds, hangSeconds, seeds: seeds.map(([n, b]) => `${n} (${b.length} bytes)`), ...counts, byCode, samples: samples.slice(0, 20) };
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`fuzzed readWeights for ${seconds} s (seed ${seed}) over ${seeds.length} seeds\n`);
    process.stdout.write(`iterations ${counts.iterations}: typed ${counts.typed}, untyped ${counts.untyped}, hang ${counts.hang}, crash ${counts.crash}\n`);
    process.stdout.write(`typed outcomes: ${Object.entries(byCode).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    for (const s of samples.slice(0, 20)) process.stdout.write(`  ${s.kind} from ${s.seed}: ${s.code}\n`);
  }
  process.exitCode = counts.untyped + counts.hang + counts.crash > 0 ? 1 : 0;
}
