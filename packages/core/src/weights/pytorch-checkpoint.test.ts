import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@sparsevit/fixtures';
import { afterAll, describe, expect, it } from 'vitest';
import { SparseViTError } from '../errors';
import { blobSource } from './byte-source';
import { readPyTorchCheckpoint } from './pytorch-checkpoint';
import { readSafetensors } from './safetensors';
import { f32Bytes, PickleWriter, writeCheckpoint, type PV, type TensorSpec } from './testing/pickle-writer';
import { countingSource } from './testing/sources';
import { writeZip } from './testing/zip-writer';
import type { TensorStore } from './tensor';
import { expectSparseViTError } from './testing/expect-sparsevit-error';

const checkpointBytes = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth')));
const safetensorsBytes = new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors')));


function f32(store: TensorStore, name: string): number[] {
  const t = store.tensors.get(name)!;
  return [...new Float32Array(t.data.slice().buffer)];
}

describe('readPyTorchCheckpoint on the tiny fixture', () => {
  const expectedShapes = Object.fromEntries(
    Object.entries(
      JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'state_dict_keys.json'), 'utf8')) as Record<string, { shape: number[] }>,
    ).map(([k, v]) => [k, v.shape]),
  );

  it('matches weights.safetensors bit for bit, key for key', async () => {
    const fromPth = await readPyTorchCheckpoint(checkpointBytes);
    const reference = await readSafetensors(safetensorsBytes);
    expect(reference.tensors.size).toBe(428);
    expect(new Set(fromPth.tensors.keys())).toEqual(new Set(reference.tensors.keys()));
    for (const [name, ref] of reference.tensors) {
      const t = fromPth.tensors.get(name)!;
      expect(t.dtype, name).toBe(ref.dtype);
      // The fixture's safetensors stores the 0-d num_batches_tracked as shape [1]; the checkpoint
      // (and state_dict_keys.json) say []. Same single element either way.
      if (t.shape.length === 0) expect(ref.shape, name).toEqual([1]);
      else expect(t.shape, name).toEqual(ref.shape);
      expect(t.shape, name).toEqual(expectedShapes[name]);
      expect(t.data.byteLength, name).toBe(ref.data.byteLength);
      expect(Buffer.from(t.data).equals(Buffer.from(ref.data)), `bytes of ${name}`).toBe(true);
    }
    expect(fromPth.metadata).toEqual({ format: 'pytorch' });
    // num_batches_tracked stays I64
    expect([...fromPth.tensors.values()].some((t) => t.dtype === 'I64')).toBe(true);
  });

  it('reads through a Blob source (the browser path) to the same tensors', async () => {
    const viaBlob = await readPyTorchCheckpoint(blobSource(new Blob([checkpointBytes])));
    const direct = await readPyTorchCheckpoint(checkpointBytes);
    expect([...viaBlob.tensors.keys()]).toEqual([...direct.tensors.keys()]);
    for (const [name, t] of direct.tensors) {
      expect(Buffer.from(viaBlob.tensors.get(name)!.data).equals(Buffer.from(t.data)), name).toBe(true);
    }
  });

  it('keeps the state dict order of the file', async () => {
    const store = await readPyTorchCheckpoint(checkpointBytes);
    expect([...store.tensors.keys()]).toEqual(Object.keys(expectedShapes));
  });

  it('reads only the model storages, not the optimizer state', async () => {
    const src = countingSource(checkpointBytes);
    const store = await readPyTorchCheckpoint(src);
    let modelBytes = 0;
    for (const t of store.tensors.values()) modelBytes += t.data.byteLength;
    // directory + data.pkl + local headers + the model: about 2.1 MB of the 5.9 MB file
    expect(src.bytesRead).toBeLessThan(modelBytes + 400_000);
    expect(src.bytesRead).toBeLessThan(src.size * 0.45);
    // no read lies past the last model storage into optimizer data it does not need
    expect(src.bytesRead).toBeGreaterThan(modelBytes);
  });
});

describe('truncated checkpoints', () => {
  const size = checkpointBytes.length;
  for (const cut of [0, 1, 3, 4, 100, 4096, Math.floor(size / 2), size - 10, size - 22, size - 1]) {
    it(`cut to ${cut} bytes -> typed error`, async () => {
      const err = await readPyTorchCheckpoint(checkpointBytes.subarray(0, cut)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SparseViTError);
      const code = (err as SparseViTError).code;
      expect(['CORRUPT_WEIGHTS', 'UNSUPPORTED_FORMAT']).toContain(code);
      if (cut >= 4) expect(code).toBe('CORRUPT_WEIGHTS');
    });
  }

  it('a storage entry cut short is CORRUPT_WEIGHTS', async () => {
    const pkl: PV = { ordered: [['w', tensor('0', 'FloatStorage', 4, [4])]] };
    const bytes = writeCheckpoint({ pickle: pkl, storages: { '0': f32Bytes([1, 2, 3]) } });
    await expectSparseViTError(readPyTorchCheckpoint(bytes), 'CORRUPT_WEIGHTS', /holds 12 bytes, the tensors need 16/);
  });

  it('a missing storage entry is CORRUPT_WEIGHTS', async () => {
    const bytes = writeCheckpoint({ pickle: { ordered: [['w', tensor('7', 'FloatStorage', 1, [1])]] } });
    await expectSparseViTError(readPyTorchCheckpoint(bytes), 'CORRUPT_WEIGHTS', /archive\/data\/7 .* missing/);
  });

  it('a missing data.pkl is CORRUPT_WEIGHTS', async () => {
    const bytes = writeZip([{ name: 'archive/version', data: new Uint8Array([0x33]) }]);
    await expectSparseViTError(readPyTorchCheckpoint(bytes), 'CORRUPT_WEIGHTS', /data\.pkl/);
  });

  it('a flipped storage byte fails the CRC check', async () => {
    const bytes = writeCheckpoint({
      pickle: { ordered: [['w', tensor('0', 'FloatStorage', 2, [2])]] },
      storages: { '0': f32Bytes([1, 2]) },
    });
    const store = await readPyTorchCheckpoint(bytes);
    expect(f32(store, 'w')).toEqual([1, 2]);
    const bad = bytes.slice();
    const at = findBytes(bad, f32Bytes([1, 2]));
    bad[at] ^= 1;
    await expectSparseViTError(readPyTorchCheckpoint(bad), 'CORRUPT_WEIGHTS', /CRC-32/);
    await expect(readPyTorchCheckpoint(bad, { verifyCrc: false })).resolves.toBeDefined();
  });
});

function tensor(key: string, type: string, numel: number, size: number[], extra: Partial<TensorSpec> = {}): PV {
  return { tensor: { storage: { key, type, numel }, size, ...extra } };
}

function findBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

describe('state dict layouts', () => {
  const storages = { '0': f32Bytes([1, 2, 3, 4, 5, 6]), '1': f32Bytes([7]) };
  const sd = (prefix: string): PV => ({
    ordered: [
      [`${prefix}a.weight`, tensor('0', 'FloatStorage', 6, [2, 3])],
      [`${prefix}a.bias`, tensor('1', 'FloatStorage', 1, [1])],
    ],
  });

  it('strips a leading module. prefix', async () => {
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle: { dict: [['model', sd('module.')]] }, storages }));
    expect([...store.tensors.keys()]).toEqual(['a.weight', 'a.bias']);
    expect(f32(store, 'a.weight')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(store.tensors.get('a.weight')!.shape).toEqual([2, 3]);
    const kept = await readPyTorchCheckpoint(writeCheckpoint({ pickle: sd('module.'), storages }), { stripPrefix: false });
    expect([...kept.tensors.keys()]).toEqual(['module.a.weight', 'module.a.bias']);
  });

  it('reads a bare state dict', async () => {
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle: sd(''), storages }));
    expect([...store.tensors.keys()]).toEqual(['a.weight', 'a.bias']);
    expect(f32(store, 'a.bias')).toEqual([7]);
  });

  it("reads {'state_dict': ...} and an explicit key", async () => {
    const pickle: PV = { dict: [['epoch', 3], ['state_dict', sd('')], ['ema', sd('ema.')]] };
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }));
    expect([...store.tensors.keys()]).toEqual(['a.weight', 'a.bias']);
    const ema = await readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }), { key: 'ema' });
    expect([...ema.tensors.keys()]).toEqual(['ema.a.weight', 'ema.a.bias']);
    await expectSparseViTError(readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }), { key: 'nope' }), 'UNSUPPORTED_FORMAT', /"nope"/);
  });

  it('reads the authors\' training layout with an args Namespace and parameters', async () => {
    // The optimizer storage is large enough to lie outside the reader's 64 KiB end-of-file scan.
    const optimizerState = f32Bytes(new Array<number>(40_000).fill(7));
    const pickle: PV = {
      dict: [
        ['model', { ordered: [['w', tensor('0', 'FloatStorage', 6, [6], { parameter: true })]] }],
        ['optimizer', { dict: [['state', { dict: [[0, { dict: [['exp_avg', tensor('9', 'FloatStorage', 40_000, [40_000])]] }]] }]] }],
        ['epoch', 199],
        ['args', { namespace: { lr: 0.0002, batch_size: 16, output_dir: './out' } }],
      ],
    };
    const bytes = writeCheckpoint({ pickle, storages: { ...storages, '9': optimizerState } });
    const src = countingSource(bytes);
    const store = await readPyTorchCheckpoint(src);
    expect([...store.tensors.keys()]).toEqual(['w']);
    expect(f32(store, 'w')).toEqual([1, 2, 3, 4, 5, 6]);
    // the optimizer's storage was never read (past the end-of-file scan of the last 64 KiB)
    const optimizerAt = findBytes(bytes, optimizerState.subarray(0, 64));
    const unscanned = bytes.length - 65_557 - optimizerAt;
    expect(unscanned).toBeGreaterThan(64_000);
    expect(src.ranges.some(([o, l]) => o < optimizerAt + unscanned && optimizerAt < o + l)).toBe(false);
  });

  it('explains when there is no state dict', async () => {
    await expectSparseViTError(
      readPyTorchCheckpoint(writeCheckpoint({ pickle: { dict: [['epoch', 1], ['note', 'x']] } })),
      'UNSUPPORTED_FORMAT',
      /no state dict found.*"epoch", "note"/,
    );
  });

  it('rejects keys that collide once module. is stripped', async () => {
    const pickle: PV = { ordered: [['module.a', tensor('1', 'FloatStorage', 1, [1])], ['a', tensor('1', 'FloatStorage', 1, [1])]] };
    await expectSparseViTError(readPyTorchCheckpoint(writeCheckpoint({ pickle, storages })), 'CORRUPT_WEIGHTS', /collide/);
  });
});

describe('storages and views', () => {
  it('reads several tensors sharing one storage at offsets', async () => {
    const pickle: PV = {
      ordered: [
        ['q', tensor('0', 'FloatStorage', 10, [2, 2], { offset: 0 })],
        ['k', tensor('0', 'FloatStorage', 10, [2, 2], { offset: 4 })],
        ['v', tensor('0', 'FloatStorage', 10, [2], { offset: 8 })],
      ],
    };
    const storages = { '0': f32Bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) };
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }));
    expect(f32(store, 'q')).toEqual([0, 1, 2, 3]);
    expect(f32(store, 'k')).toEqual([4, 5, 6, 7]);
    expect(f32(store, 'v')).toEqual([8, 9]);
  });

  it('reads only the part of a storage a view covers', async () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i);
    const pickle: PV = { ordered: [['head', tensor('0', 'FloatStorage', 100_000, [3], { offset: 7 })]] };
    const src = countingSource(writeCheckpoint({ pickle, storages: { '0': f32Bytes(values) } }));
    const store = await readPyTorchCheckpoint(src);
    expect(f32(store, 'head')).toEqual([7, 8, 9]);
    // the 64 KiB end-of-file scan, headers and data.pkl, and 12 bytes of the 400 KB storage
    expect(src.bytesRead).toBeLessThan(65_557 + 2_000);
    expect(src.ranges.some(([, l]) => l === 12)).toBe(true);
  });

  it('gathers non-contiguous (transposed, expanded) views', async () => {
    const storages = { '0': f32Bytes([0, 1, 2, 3, 4, 5]) };
    const pickle: PV = {
      ordered: [
        // a [2,3] matrix viewed transposed: shape [3,2], strides [1,3]
        ['t', tensor('0', 'FloatStorage', 6, [3, 2], { stride: [1, 3] })],
        // row 1 broadcast to [2,3] with stride 0
        ['e', tensor('0', 'FloatStorage', 6, [2, 3], { stride: [0, 1], offset: 3 })],
        // every other element
        ['s', tensor('0', 'FloatStorage', 6, [3], { stride: [2], offset: 0 })],
        // empty tensor
        ['z', tensor('0', 'FloatStorage', 6, [0, 3])],
        // scalar
        ['c', tensor('0', 'FloatStorage', 6, [], { offset: 5 })],
      ],
    };
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }));
    expect(f32(store, 't')).toEqual([0, 3, 1, 4, 2, 5]);
    expect(f32(store, 'e')).toEqual([3, 4, 5, 3, 4, 5]);
    expect(f32(store, 's')).toEqual([0, 2, 4]);
    expect(store.tensors.get('z')!.data.byteLength).toBe(0);
    expect(store.tensors.get('z')!.shape).toEqual([0, 3]);
    expect(f32(store, 'c')).toEqual([5]);
  });

  it('maps storage types to dtypes', async () => {
    const types: [string, string, number][] = [
      ['HalfStorage', 'F16', 2],
      ['BFloat16Storage', 'BF16', 2],
      ['DoubleStorage', 'F64', 8],
      ['LongStorage', 'I64', 8],
      ['IntStorage', 'I32', 4],
      ['ShortStorage', 'I16', 2],
      ['CharStorage', 'I8', 1],
      ['ByteStorage', 'U8', 1],
      ['BoolStorage', 'BOOL', 1],
    ];
    const pickle: PV = { ordered: types.map(([type], i) => [type, tensor(String(i), type, 2, [2])] as const) };
    const storages = Object.fromEntries(types.map(([, , size], i) => [String(i), new Uint8Array(2 * size).fill(i + 1)]));
    const store = await readPyTorchCheckpoint(writeCheckpoint({ pickle, storages }));
    for (const [type, dtype, size] of types) {
      const t = store.tensors.get(type)!;
      expect(t.dtype).toBe(dtype);
      expect(t.data.byteLength).toBe(2 * size);
    }
  });

  it('rejects a view reaching past its storage', async () => {
    const pickle: PV = { ordered: [['w', tensor('0', 'FloatStorage', 4, [5])]] };
    await expectSparseViTError(
      readPyTorchCheckpoint(writeCheckpoint({ pickle, storages: { '0': f32Bytes([1, 2, 3, 4, 5]) } })),
      'CORRUPT_WEIGHTS',
      /reaches element 5 of storage 0, which holds 4/,
    );
  });

  it('reads a ZIP64 archive with a different archive prefix', async () => {
    const pickle: PV = { ordered: [['w', tensor('0', 'FloatStorage', 2, [2])]] };
    const store = await readPyTorchCheckpoint(
      writeCheckpoint({ pickle, storages: { '0': f32Bytes([1.5, -2]) }, zip64: true, prefix: 'my_model', byteorder: 'little' }),
    );
    expect(f32(store, 'w')).toEqual([1.5, -2]);
  });
});

describe('unsupported variants', () => {
  it('big-endian checkpoints are UNSUPPORTED_FORMAT', async () => {
    const pickle: PV = { ordered: [['w', tensor('0', 'FloatStorage', 1, [1])]] };
    await expectSparseViTError(
      readPyTorchCheckpoint(writeCheckpoint({ pickle, storages: { '0': f32Bytes([1]) }, byteorder: 'big' })),
      'UNSUPPORTED_FORMAT',
      /big-endian/,
    );
  });

  it('legacy (pre-1.6) checkpoints are UNSUPPORTED_FORMAT with a re-save hint', async () => {
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80]);
    await expectSparseViTError(readPyTorchCheckpoint(legacy), 'UNSUPPORTED_FORMAT', /torch>=1\.6/);
  });

  it('a compressed entry is UNSUPPORTED_FORMAT naming the entry', async () => {
    const pkl = new PickleWriter().proto(2).emptyDict().stop().bytes();
    const bytes = writeZip([{ name: 'archive/data.pkl', data: pkl, method: 8 }]);
    await expectSparseViTError(readPyTorchCheckpoint(bytes), 'UNSUPPORTED_FORMAT', /archive\/data\.pkl.*compressed/);
  });

  it('a non-zip file is UNSUPPORTED_FORMAT', async () => {
    await expectSparseViTError(readPyTorchCheckpoint(new TextEncoder().encode('hello world')), 'UNSUPPORTED_FORMAT', /not a zip/);
  });
});

describe('hostile checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sparsevit-pickle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [string, (w: PickleWriter, cmd: string) => PickleWriter, string][] = [
    ['posix.system via GLOBAL', (w, cmd) => w.global('posix', 'system').str(cmd).tuple1().reduce(), 'posix.system'],
    ['os.system via GLOBAL', (w, cmd) => w.global('os', 'system').str(cmd).tuple1().reduce(), 'os.system'],
    [
      'builtins.eval via STACK_GLOBAL',
      (w, cmd) => w.stackGlobal('builtins', 'eval').str(`__import__('os').system(${JSON.stringify(cmd)})`).tuple1().reduce(),
      'builtins.eval',
    ],
    [
      'subprocess.Popen via STACK_GLOBAL',
      (w, cmd) => w.stackGlobal('subprocess', 'Popen').mark().str('sh').str('-c').str(cmd).raw(0x6c).tuple1().reduce(),
      'subprocess.Popen',
    ],
    [
      '__builtin__.eval (protocol 2 spelling)',
      (w, cmd) => w.global('__builtin__', 'eval').str(cmd).tuple1().reduce(),
      'builtins.eval',
    ],
    [
      'a global hidden inside the state dict',
      (w, cmd) =>
        w
          .global('collections', 'OrderedDict')
          .emptyTuple()
          .reduce()
          .mark()
          .str('w')
          .global('nt', 'system')
          .str(cmd)
          .tuple1()
          .reduce()
          .setitems(),
      'nt.system',
    ],
  ];

  for (const [label, build, global] of cases) {
    it(`${label} -> UNSAFE_CHECKPOINT, nothing runs`, async () => {
      const marker = join(dir, `${global}.marker`);
      const pkl = build(new PickleWriter().proto(4), `touch ${marker}`).stop().bytes();
      const bytes = writeCheckpoint({ pickle: pkl });
      const err = await expectSparseViTError(readPyTorchCheckpoint(bytes), 'UNSAFE_CHECKPOINT');
      expect(err.message).toContain(global);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('torch.load-style INST/OBJ opcodes are checked too', async () => {
    const inst = new PickleWriter().proto(0).mark().str('id').raw(0x69, ...new TextEncoder().encode('os\nsystem\n')).stop().bytes();
    await expectSparseViTError(readPyTorchCheckpoint(writeCheckpoint({ pickle: inst })), 'UNSAFE_CHECKPOINT', /os\.system/);
  });
});

describe('what a view may cost', () => {
  it('refuses a stride-0 view larger than its storage before reading it', async () => {
    for (const size of [2 ** 31, 1e8, 7]) {
      const bytes = writeCheckpoint({ pickle: { ordered: [['x', tensor('0', 'FloatStorage', 6, [size], { stride: [0] })]] }, storages: { '0': f32Bytes([1, 2, 3, 4, 5, 6]) } });
      const src = countingSource(bytes);
      const e = await expectSparseViTError(readPyTorchCheckpoint(src), 'CORRUPT_WEIGHTS', /would expand storage 0 of 6 elements/);
      expect(e.message.length).toBeLessThan(2000);
      // The directory and data.pkl were read, the storage was not.
      expect(src.ranges.some(([offset, length]) => length === 24 && offset > 64)).toBe(false);
    }
  });

  it('refuses strided copies adding up to more than twice the file', async () => {
    const n = 1 << 16;
    const ordered: [string, PV][] = [];
    // Twelve transposes of one 256 KiB storage: each within its storage, 3 MiB together.
    for (let i = 0; i < 12; i++) ordered.push([`t${i}`, tensor('0', 'FloatStorage', n, [256, 256], { stride: [1, 256] })]);
    const bytes = writeCheckpoint({ pickle: { ordered }, storages: { '0': new Uint8Array(n * 4) } });
    await expectSparseViTError(readPyTorchCheckpoint(bytes), 'CORRUPT_WEIGHTS', /strided tensors would copy out more than 2x/);
    // Two of them are fine.
    const two = writeCheckpoint({ pickle: { ordered: ordered.slice(0, 2) }, storages: { '0': new Uint8Array(n * 4) } });
    expect((await readPyTorchCheckpoint(two)).tensors.size).toBe(2);
  });

  it('runs checkTensors on every shape before any storage is read', async () => {
    const src = countingSource(checkpointBytes);
    const seen = new Map<string, readonly number[]>();
    const refusal = new SparseViTError('WEIGHTS_MISMATCH', 'refused from the shapes');
    const error = await readPyTorchCheckpoint(src, {
      checkTensors: (tensors, metadata) => {
        for (const [name, t] of tensors) seen.set(name, t.shape);
        expect(metadata).toEqual({ format: 'pytorch' });
        throw refusal;
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(refusal);
    expect(seen.size).toBe(428);
    expect(seen.get('encoder_net.patch_embed1.proj.weight')).toEqual([8, 3, 4, 4]);
    // Only the directory (1678 entries) and data.pkl (170 KB) were read, none of the 2 MB of weights.
    expect(src.bytesRead).toBeLessThan(400_000);
  });

  it('quotes a hostile key within bounds when there is no state dict', async () => {
    // {key: 1} where the key is a list nested 100,000 deep, and a 1 MB string key beside it.
    const w = new PickleWriter().proto(2).emptyDict();
    const deep = new Uint8Array(100_000 * 2 - 1);
    deep.fill(0x5d, 0, 100_000);
    deep.fill(0x61, 100_000);
    const pkl = new Uint8Array([...w.bytes(), ...deep, 0x4b, 1, 0x73, 0x58, ...[0, 0, 16, 0], ...new Uint8Array(1 << 20).fill(0x61), 0x4b, 2, 0x73, 0x2e]);
    const e = await expectSparseViTError(readPyTorchCheckpoint(writeCheckpoint({ pickle: pkl })), 'UNSUPPORTED_FORMAT', /top-level keys: \[\[\[\[\.\.\.\]\]\]\], "aaa.*" \(1048576 characters\)/);
    expect(e.message.length).toBeLessThan(600);
  });
});
