// The hostile-input corpus: crafted weights files and images that once broke a promise of the
// SDK (every error typed, bounded memory and time, a batch never dies on one file), and their
// relatives. Built from code, not stored: some cases are megabytes of zeros, and the recipe is
// the documentation. Each case says what it attacks and the typed error it must end in.
//
//   node tooling/hostile/corpus.mjs <dir>     writes every case and manifest.json into <dir>
//
// Needs @sparsevit/core built (its test writers, from dist/testing.js).
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '../fixtures/index.js';
import { headerOnlyPng, uniformPng } from './png.mjs';

const core = await import('../../packages/core/dist/index.js');
const { PickleWriter, writeCheckpoint, writeZip } = await import('../../packages/core/dist/testing.js');

/** The tiny fixture's config: weights cases run against it, so only the attack can fail them. */
export const TINY_CONFIG = fixturePath('sparsevit-tiny', 'config.json');

// --- pickle bytes -------------------------------------------------------------------------------

const op = {
  PROTO2: [0x80, 0x02],
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  MARK: 0x28,
  APPEND: 0x61,
  APPENDS: 0x65,
  SETITEM: 0x73,
  POP: 0x30,
  STOP: 0x2e,
  BININT1: 0x4b,
  BINPUT: 0x71,
  BINGET: 0x68,
  LONG_BINPUT: 0x72,
  LONG_BINGET: 0x6a,
  TUPLE1: 0x85,
  REDUCE: 0x52,
};

const u32 = (n) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

const concat = (parts) => new Uint8Array(Buffer.concat(parts));

/** `count` copies of the byte pattern `pattern`. */
function repeat(pattern, count) {
  const p = Uint8Array.from(pattern);
  const out = new Uint8Array(p.length * count);
  for (let i = 0; i < count; i++) out.set(p, i * p.length);
  return out;
}

const bytes = (...values) => Uint8Array.from(values.flat());
const ascii = (s) => new TextEncoder().encode(s);

/** `{key: 1}` where `keyOps` pushes the key. */
const dictWithKey = (keyOps) => concat([bytes(op.PROTO2, op.EMPTY_DICT), keyOps, bytes(op.BININT1, 1, op.SETITEM, op.STOP)]);

/** Pushes one list nested `levels` deep: `levels` EMPTY_LISTs, each appended to the one before. */
const deepListOps = (levels) => concat([repeat([op.EMPTY_LIST], levels), repeat([op.APPEND], levels - 1)]);

/** Pushes one list nested `levels` deep whose every level holds the level below twice, by reference (memo 0..levels). */
function sharedListOps(levels) {
  const parts = [bytes(op.EMPTY_LIST, op.LONG_BINPUT, u32(0), op.POP)];
  for (let i = 0; i < levels; i++) {
    parts.push(bytes(op.EMPTY_LIST, op.MARK, op.LONG_BINGET, u32(i), op.LONG_BINGET, u32(i), op.APPENDS, op.LONG_BINPUT, u32(i + 1), op.POP));
  }
  parts.push(bytes(op.LONG_BINGET, u32(levels)));
  return concat(parts);
}

/** A torch.save zip around a pickle that holds no tensors. */
const pickleOnly = (pkl) => writeCheckpoint({ pickle: pkl });

// --- checkpoints shaped like the tiny fixture ---------------------------------------------------

const tinyKeys = JSON.parse(readFileSync(fixturePath('sparsevit-tiny', 'state_dict_keys.json'), 'utf8'));

/**
 * The tiny model's state dict as a torch.save checkpoint of zeros, with `replace(key)` giving
 * another tensor spec for some keys.
 */
function tinyCheckpoint(replace = () => undefined) {
  const ordered = [];
  const storages = {};
  Object.entries(tinyKeys).forEach(([key, { shape, dtype }], i) => {
    const long = dtype === 'int64';
    const spec = replace(key, shape) ?? { size: shape };
    const numel = spec.numel ?? shape.reduce((a, b) => a * b, 1);
    const storage = { key: String(i), type: long ? 'LongStorage' : 'FloatStorage', numel };
    storages[String(i)] = new Uint8Array(numel * (long ? 8 : 4));
    ordered.push([key, { tensor: { storage, size: spec.size, stride: spec.stride } }]);
  });
  return writeCheckpoint({ pickle: { dict: [['model', { ordered }]] }, storages });
}

/**
 * `count` tensors over storages `0..count-1` whose zip central directory points every storage
 * entry at the local header of storage 0: one stored entry read `count` times.
 */
function overlappingZip(count, storageBytes) {
  const ordered = [];
  for (let i = 0; i < count; i++) {
    ordered.push([`t${i}`, { tensor: { storage: { key: String(i), type: 'FloatStorage', numel: storageBytes / 4 }, size: [storageBytes / 4] } }]);
  }
  const honest = writeCheckpoint({ pickle: { dict: [['model', { ordered }]] }, storages: { 0: new Uint8Array(storageBytes) } });
  // Re-point: copy the central directory record of archive/data/0 for each other key.
  const view = new DataView(honest.buffer, honest.byteOffset, honest.byteLength);
  const eocd = honest.length - 22;
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  const records = [];
  let p = cdOffset;
  let storageRecord;
  while (p < cdOffset + cdSize) {
    const nameLength = view.getUint16(p + 28, true);
    const end = p + 46 + nameLength + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
    const record = honest.slice(p, end);
    records.push(record);
    if (new TextDecoder().decode(honest.subarray(p + 46, p + 46 + nameLength)) === 'archive/data/0') storageRecord = record;
    p = end;
  }
  for (let i = 1; i < count; i++) {
    const name = ascii(`archive/data/${i}`);
    const record = new Uint8Array(46 + name.length);
    record.set(storageRecord.subarray(0, 46));
    new DataView(record.buffer).setUint16(28, name.length, true);
    new DataView(record.buffer).setUint16(30, 0, true);
    new DataView(record.buffer).setUint16(32, 0, true);
    record.set(name, 46);
    records.push(record);
  }
  const cd = concat(records);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, records.length, true);
  ev.setUint16(10, records.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, cdOffset, true);
  return concat([honest.subarray(0, cdOffset), cd, end]);
}

// --- safetensors --------------------------------------------------------------------------------

/** The tiny fixture's weights with `__metadata__["sparsevit.config"]` set to `config`. */
function tinyWithConfig(config) {
  return async () => {
    const read = await core.readSafetensors(new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'weights.safetensors'))));
    return core.writeSafetensors({ tensors: read.tensors, metadata: { [core.CONFIG_METADATA_KEY]: JSON.stringify(config) } });
  };
}

/** A safetensors file whose header is `header` (a JSON text) and whose data is `dataBytes` zeros. */
function rawSafetensors(header, dataBytes = 0) {
  const json = ascii(header);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const tinyConfig = JSON.parse(readFileSync(TINY_CONFIG, 'utf8'));

// --- the cases ----------------------------------------------------------------------------------

/** A weights case: read alone it ends in `expect.read`, loaded as a model (with `config`) in `expect.load`. */
const weightsCase = (name, about, file, expect, build, config = 'tiny') => ({ name, about, file, kind: 'weights', config, expect, build });

/** An image case: run through detect with the tiny model, it must be the image's `code` row. */
const imageCase = (name, about, file, code, build) => ({ name, about, file, kind: 'image', config: 'tiny', expect: { load: code }, build });

/**
 * Every case: `file` (its name; the extension tells the CLI the format), `kind` (`weights`: read
 * and loaded as a model; `image`: run through detect), `config` (`tiny`: run with the tiny
 * fixture's config, so the file's own fault is what fails; `file`: whatever the file carries),
 * `expect` (`read`: the code of `readWeights` alone, or `ok`; `load`: the code of loading it as
 * a model, or of detecting on the image), and `build` (its bytes).
 */
export const HOSTILE_CASES = [
  // 1. Reader output grown from tiny inputs: keys and sizes rendered into messages.
  weightsCase(
    'pickle-key-2m-deep',
    'a dict key nested 2,000,000 lists deep (4 MB); rendering it overflowed the stack. Now over the object cap',
    'pickle-key-2m-deep.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => pickleOnly(dictWithKey(deepListOps(2_000_000)))),
  weightsCase(
    'pickle-key-900k-deep',
    'the same key 900,000 lists deep, within the object cap: the "no state dict" error describes it',
    'pickle-key-900k-deep.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => pickleOnly(dictWithKey(deepListOps(900_000)))),
  weightsCase(
    'pickle-key-shared-40',
    'a dict key: one list shared by reference 40 levels deep (under 1 KB); printed, 2^40 items',
    'pickle-key-shared-40.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => pickleOnly(dictWithKey(sharedListOps(40)))),
  weightsCase(
    'pickle-key-shared-22',
    'the same at 22 levels: once a typed error with a 71 MB message',
    'pickle-key-shared-22.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => pickleOnly(dictWithKey(sharedListOps(22)))),
  weightsCase(
    'pickle-key-bytes-20mb',
    'a 20 MB bytes key: once a 40 MB message',
    'pickle-key-bytes-20mb.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => pickleOnly(dictWithKey(concat([bytes(0x42, u32(20_000_000)), new Uint8Array(20_000_000)])))),
  weightsCase(
    'pickle-key-string-20mb',
    'a 20 MB str key',
    'pickle-key-string-20mb.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => pickleOnly(dictWithKey(concat([bytes(0x58, u32(20_000_000)), new Uint8Array(20_000_000).fill(0x61)])))),
  weightsCase(
    'pickle-size-shared-40',
    "a tensor whose size tuple holds a list shared 40 levels deep (rendered by the size check)",
    'pickle-size-shared-40.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => {
      const w = new PickleWriter().proto(2).emptyDict().str('model').emptyDict().str('x');
      w.global('torch._utils', '_rebuild_tensor_v2').mark();
      w.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(1).tuple().binpersid();
      w.int(0);
      const head = w.bytes();
      const tail = new PickleWriter().raw(op.TUPLE1).mark().int(1).tuple().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
      tail.raw(op.SETITEM, op.SETITEM, op.STOP);
      // The shared list is built first (its construction pops what it leaves), memoized, and
      // fetched where the size tuple goes.
      const prelude = concat([bytes(op.PROTO2), sharedListOps(40), bytes(op.POP)]);
      return writeCheckpoint({ pickle: concat([prelude, head.subarray(2), bytes(op.LONG_BINGET, u32(40)), tail.bytes()]), storages: { 0: new Uint8Array(4) } });
    }),
  weightsCase(
    'pickle-global-1mb-name',
    'a GLOBAL whose module name is 1 MB long (quoted by the allow-list refusal)',
    'pickle-global-1mb-name.pth', { read: 'UNSAFE_CHECKPOINT', load: 'UNSAFE_CHECKPOINT' },
    () => pickleOnly(concat([bytes(op.PROTO2, 0x63), new Uint8Array(1_000_000).fill(0x61), ascii('\nsystem\n'), bytes(op.STOP)]))),
  weightsCase(
    'pickle-copy-amplification',
    'torch.Size() of one memoized 1,000,000-item list, 200,000 times (7 bytes a call, each call copies the list)',
    'pickle-copy-amplification.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () =>
      pickleOnly(
        concat([
          bytes(op.PROTO2, op.EMPTY_LIST, op.MARK),
          repeat([op.BININT1, 0], 1_000_000),
          bytes(op.APPENDS, op.BINPUT, 0, op.POP),
          ascii('ctorch\nSize\n'),
          bytes(op.BINPUT, 1, op.POP),
          repeat([op.BINGET, 1, op.BINGET, 0, op.TUPLE1, op.REDUCE, op.POP], 200_000),
          bytes(op.EMPTY_DICT, op.STOP),
        ]),
      )),
  weightsCase(
    'pickle-many-objects',
    '9,000,000 empty lists appended to one list (18 MB): the object cap (1,048,576)',
    'pickle-many-objects.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => pickleOnly(concat([bytes(op.PROTO2, op.EMPTY_LIST), repeat([op.EMPTY_LIST, op.APPEND], 9_000_000), bytes(op.STOP)]))),
  // 2. Stride-0 storages expanded without limit.
  weightsCase(
    'stride0-2e31',
    'a tensor of size [2^31] and stride [0] over a one-element storage',
    'stride0-2e31.pth', { read: 'CORRUPT_WEIGHTS', load: 'WEIGHTS_MISMATCH' },
    () => tinyCheckpoint((key) => (key === 'encoder_net.patch_embed1.norm.weight' ? { size: [2 ** 31], stride: [0], numel: 1 } : undefined))),
  weightsCase(
    'stride0-1e8',
    'a tensor of size [1e8] and stride [0] (once 464 MB and 6.6 s)',
    'stride0-1e8.pth', { read: 'CORRUPT_WEIGHTS', load: 'WEIGHTS_MISMATCH' },
    () => tinyCheckpoint((key) => (key === 'encoder_net.patch_embed1.norm.weight' ? { size: [1e8], stride: [0], numel: 1 } : undefined))),
  weightsCase(
    'stride0-twenty',
    'twenty tensors of size [1e8], stride [0] (once 847 MB)',
    'stride0-twenty.pth', { read: 'CORRUPT_WEIGHTS', load: 'WEIGHTS_MISMATCH' },
    () => {
      const keys = new Set(Object.keys(tinyKeys).filter((k) => !k.endsWith('num_batches_tracked')).slice(0, 20));
      return tinyCheckpoint((key) => (keys.has(key) ? { size: [1e8], stride: [0], numel: 1 } : undefined));
    }),
  weightsCase(
    'stride-misshaped-right-size',
    "a tensor of the graph's element count but a transposed, wrong shape: refused before it is copied",
    'stride-misshaped.pth', { read: 'ok', load: 'WEIGHTS_MISMATCH' },
    () => tinyCheckpoint((key, shape) => (key === 'encoder_net.patch_embed1.proj.weight' ? { size: [...shape].reverse(), stride: [1, 4, 16, 48] } : undefined))),
  // 3. Overlapping zip entries.
  weightsCase(
    'zip-overlap-250',
    '250 central-directory entries pointing at one 8 MiB stored entry (8.4 MB file; once 2.08 GB and 16 s)',
    'zip-overlap-250.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => overlappingZip(250, 8 * 1024 * 1024)),
  weightsCase(
    'zip-overlap-2',
    'two storage entries sharing one stored entry',
    'zip-overlap-2.pth', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => overlappingZip(2, 1024)),
  weightsCase(
    'zip-long-entry-name',
    'a compressed data.pkl in a folder with a 65,000-byte name (quoted by the refusal)',
    'zip-long-entry-name.pth', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => writeZip([{ name: `${'x'.repeat(65_000)}/data.pkl`, data: new Uint8Array(4), method: 8 }])),
  // 5. A weights file's metadata config trusted without bounds.
  weightsCase(
    'config-img-size-8192',
    'img_size 8192 in the safetensors metadata (once 3.25 GB and 18 s for one image)',
    'config-img-size-8192.safetensors', { read: 'ok', load: 'INVALID_CONFIG' },
    tinyWithConfig({ ...tinyConfig, img_size: 8192 }), 'file'),
  weightsCase(
    'config-depth-1e9',
    'a stage depth of 1e9 in the metadata',
    'config-depth-1e9.safetensors', { read: 'ok', load: 'INVALID_CONFIG' },
    tinyWithConfig({ ...tinyConfig, depth: [1e9, 1, 15, 4], embed_dim: [8, 16, 32, 1e9] }), 'file'),
  weightsCase(
    'config-array-1m',
    's_blocks3 of 1,000,000 entries and a 1 MB key in the metadata (quoted by the config errors)',
    'config-array-1m.safetensors', { read: 'ok', load: 'INVALID_CONFIG' },
    tinyWithConfig({ ...tinyConfig, s_blocks3: new Array(1_000_000).fill(0.5), head_dim: 'h'.repeat(1_000_000) }), 'file'),
  // Relatives in safetensors: attacker text in the header.
  weightsCase(
    'safetensors-name-20mb',
    'a tensor named with 20 MB of text and wrong offsets',
    'safetensors-name-20mb.safetensors', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => rawSafetensors(`{"${'n'.repeat(20_000_000)}":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, 8)),
  weightsCase(
    'safetensors-shape-1m',
    'a shape of 1,000,000 dimensions ending in -1',
    'safetensors-shape-1m.safetensors', { read: 'CORRUPT_WEIGHTS', load: 'CORRUPT_WEIGHTS' },
    () => rawSafetensors(`{"x":{"dtype":"F32","shape":[${'1,'.repeat(1_000_000)}-1],"data_offsets":[0,4]}}`, 4)),
  weightsCase(
    'safetensors-dtype-1mb',
    'a 1 MB dtype string',
    'safetensors-dtype-1mb.safetensors', { read: 'UNSUPPORTED_FORMAT', load: 'UNSUPPORTED_FORMAT' },
    () => rawSafetensors(`{"x":{"dtype":"${'D'.repeat(1_000_000)}","shape":[1],"data_offsets":[0,4]}}`, 4)),
  // 4. One valid but extreme image.
  imageCase(
    'png-50000000x1',
    'a 48 KB PNG of 50,000,000 x 1 pixels, under the 100 MP limit (once 3.3 GB, no summary)',
    'strip-50000000x1.png', 'UNSUPPORTED_IMAGE_SHAPE',
    () => uniformPng(50_000_000, 1)),
  imageCase(
    'png-4000000x1',
    'a PNG of 4,000,000 x 1 pixels (once 71 s and 8.25 GB)',
    'strip-4000000x1.png', 'UNSUPPORTED_IMAGE_SHAPE',
    () => uniformPng(4_000_000, 1)),
  imageCase('png-1x4000000', 'the same strip standing up', 'strip-1x4000000.png', 'UNSUPPORTED_IMAGE_SHAPE',
    () => uniformPng(1, 4_000_000)),
  imageCase(
    'png-aspect-200',
    'a 20,000 x 100 PNG: sides within bounds, aspect ratio 200',
    'aspect-20000x100.png', 'UNSUPPORTED_IMAGE_SHAPE',
    () => uniformPng(20_000, 100)),
  imageCase(
    'png-header-400mp',
    'a PNG header declaring 20,000 x 20,000 pixels over a few bytes of data',
    'header-20000x20000.png', 'IMAGE_TOO_LARGE',
    () => headerOnlyPng(20_000, 20_000)),
  imageCase('svg', 'an SVG (a vector document, not a photo)', 'drawing.svg', 'INVALID_IMAGE',
    () =>
    ascii('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64"/></svg>\n'),
  ),
];

/** The bytes of one case. */
export async function buildCase(hostileCase) {
  return await hostileCase.build();
}

/** Writes every case (or those named in `only`) into `dir`, with `manifest.json`; returns the manifest. */
export async function buildCorpus(dir, only) {
  await mkdir(dir, { recursive: true });
  const manifest = [];
  for (const c of HOSTILE_CASES) {
    if (only && !only.includes(c.name)) continue;
    const data = await buildCase(c);
    const path = join(dir, c.file);
    await writeFile(path, data);
    const { build, ...entry } = c;
    void build;
    manifest.push({ ...entry, path, bytes: data.length });
  }
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node tooling/hostile/corpus.mjs <dir> [case...]\n');
    process.exit(2);
  }
  const manifest = await buildCorpus(dir, process.argv.length > 3 ? process.argv.slice(3) : undefined);
  for (const m of manifest) process.stdout.write(`${m.file}\t${m.bytes} bytes\t${m.about}\n`);
}
