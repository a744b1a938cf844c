/**
 * Test-only: writes pickles opcode by opcode (for hostile inputs) and from a small value model
 * (for torch.save-shaped checkpoints), so that tests need neither Python nor torch. Opcodes as in
 * CPython's Lib/pickletools.py.
 */
import { writeZip, type ZipWriteEntry } from './zip-writer';

export class PickleWriter {
  private readonly out: number[] = [];
  private readonly enc = new TextEncoder();

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  private u32(n: number): number[] {
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  mark(): this {
    return this.raw(0x28);
  }
  /** GLOBAL 'c': "module\nname\n". */
  global(module: string, name: string): this {
    return this.raw(0x63, ...this.enc.encode(`${module}\n${name}\n`));
  }
  /** Protocol 4's STACK_GLOBAL with both names pushed as SHORT_BINUNICODE. */
  stackGlobal(module: string, name: string): this {
    return this.str8(module).str8(name).raw(0x93);
  }
  /** BINUNICODE 'X'. */
  str(s: string): this {
    const b = this.enc.encode(s);
    return this.raw(0x58, ...this.u32(b.length), ...b);
  }
  /** SHORT_BINUNICODE. */
  str8(s: string): this {
    const b = this.enc.encode(s);
    return this.raw(0x8c, b.length, ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >>> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a, ...this.u32(n));
    // LONG1: little-endian two's complement
    const bytes: number[] = [];
    let v = BigInt(n);
    for (let i = 0; i < 9; i++) {
      bytes.push(Number(BigInt.asUintN(8, v)));
      v >>= 8n;
    }
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.raw(0x47, ...b);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(b: boolean): this {
    return this.raw(b ? 0x88 : 0x89);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  appends(): this {
    return this.raw(0x65);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  newobj(): this {
    return this.raw(0x81);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  binput(i: number): this {
    return this.raw(0x71, i);
  }
  binget(i: number): this {
    return this.raw(0x68, i);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface StorageSpec {
  readonly key: string;
  /** e.g. 'FloatStorage' (module torch). */
  readonly type: string;
  readonly numel: number;
  readonly location?: string;
}

export interface TensorSpec {
  readonly storage: StorageSpec;
  readonly offset?: number;
  readonly size: readonly number[];
  /** Defaults to contiguous strides. */
  readonly stride?: readonly number[];
  /** Wrap in torch._utils._rebuild_parameter, as nn.Parameter pickles. */
  readonly parameter?: boolean;
}

/** The values the checkpoint writer can emit. */
export type PV =
  | null
  | boolean
  | number
  | string
  | PV[]
  | { readonly tuple: readonly PV[] }
  | { readonly dict: readonly (readonly [PV, PV])[] }
  | { readonly ordered: readonly (readonly [string, PV])[] }
  | { readonly namespace: Readonly<Record<string, PV>> }
  | { readonly tensor: TensorSpec };

function contiguous(size: readonly number[]): number[] {
  const s = new Array<number>(size.length);
  let acc = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= size[d]!;
  }
  return s;
}

/** Writes `value` the way torch.save's pickler (protocol 2) would, without memoization. */
export function writeValue(w: PickleWriter, value: PV): void {
  if (value === null) w.none();
  else if (typeof value === 'boolean') w.bool(value);
  else if (typeof value === 'number') Number.isInteger(value) ? w.int(value) : w.float(value);
  else if (typeof value === 'string') w.str(value);
  else if (Array.isArray(value)) {
    w.emptyList().mark();
    for (const v of value) writeValue(w, v);
    w.appends();
  } else if ('tuple' in value) {
    w.mark();
    for (const v of value.tuple) writeValue(w, v);
    w.tuple();
  } else if ('dict' in value) {
    w.emptyDict().mark();
    for (const [k, v] of value.dict) {
      writeValue(w, k);
      writeValue(w, v);
    }
    w.setitems();
  } else if ('ordered' in value) {
    w.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    for (const [k, v] of value.ordered) {
      w.str(k);
      writeValue(w, v);
    }
    w.setitems();
  } else if ('namespace' in value) {
    w.global('argparse', 'Namespace').emptyTuple().newobj();
    writeValue(w, { dict: Object.entries(value.namespace) });
    w.build();
  } else {
    const t = value.tensor;
    if (t.parameter) w.global('torch._utils', '_rebuild_parameter').mark();
    w.global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark()
      .str('storage')
      .global('torch', t.storage.type)
      .str(t.storage.key)
      .str(t.storage.location ?? 'cuda:0')
      .int(t.storage.numel)
      .tuple()
      .binpersid();
    w.int(t.offset ?? 0);
    writeValue(w, { tuple: [...t.size] });
    writeValue(w, { tuple: [...(t.stride ?? contiguous(t.size))] });
    w.bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    if (t.parameter) w.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
  }
}

export function picklePV(value: PV): Uint8Array {
  const w = new PickleWriter().proto(2);
  writeValue(w, value);
  return w.stop().bytes();
}

export interface CheckpointSpec {
  /** Pickle bytes of data.pkl, or a value to pickle. */
  readonly pickle: Uint8Array | PV;
  readonly storages?: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>;
  readonly prefix?: string;
  readonly byteorder?: string;
  readonly zip64?: boolean;
}

/** A zip laid out like torch.save's: data.pkl, then data/<key>, version, byteorder. */
export function writeCheckpoint(spec: CheckpointSpec): Uint8Array {
  const prefix = spec.prefix ?? 'archive';
  const pkl = spec.pickle instanceof Uint8Array ? spec.pickle : picklePV(spec.pickle);
  const entries: ZipWriteEntry[] = [{ name: `${prefix}/data.pkl`, data: pkl }];
  if (spec.byteorder !== undefined) entries.push({ name: `${prefix}/byteorder`, data: new TextEncoder().encode(spec.byteorder) });
  const storages = spec.storages instanceof Map ? [...spec.storages] : Object.entries(spec.storages ?? {});
  for (const [key, data] of storages) entries.push({ name: `${prefix}/data/${key}`, data });
  entries.push({ name: `${prefix}/version`, data: new TextEncoder().encode('3\n') });
  return writeZip(entries, { zip64: spec.zip64 });
}

/** Little-endian float32 bytes of `values`. */
export function f32Bytes(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setFloat32(i * 4, x, true));
  return b;
}
