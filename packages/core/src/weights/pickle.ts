/**
 * A safe interpreter for Python pickles, for the `data.pkl` inside `torch.save` archives.
 *
 * A pickle is a program for a stack machine whose GLOBAL/STACK_GLOBAL opcodes import arbitrary
 * Python callables and whose REDUCE opcode calls them: `posix.system('...')` is three opcodes
 * away. This interpreter executes nothing. It resolves a global only when its name is on an
 * allow-list of what training checkpoints legitimately name, to an inert stand-in, and raises
 * UNSAFE_CHECKPOINT at the GLOBAL opcode itself for any other name, before any REDUCE runs.
 * REDUCE/NEWOBJ of an allowed callable builds a plain value (OrderedDict -> Map, Namespace ->
 * plain object) or an inert `PickleObject` record the caller interprets (the checkpoint reader
 * turns `torch._utils._rebuild_tensor_v2` records into tensor descriptors).
 *
 * Opcode semantics follow CPython's `Lib/pickle.py` (`_Unpickler`) and are documented in
 * `Lib/pickletools.py`. The interpreter is a loop over opcodes with an explicit stack, so hostile
 * nesting cannot exhaust the JS call stack; every read is bounds-checked, and stack, memo and
 * object counts are capped. Work is bounded per input byte: an opcode's own bytes pay for
 * reading it, and the opcodes that copy an existing value (`torch.Size(list)`, `set(list)`,
 * `bytearray(bytes)`, `OrderedDict(pairs)`, BUILD of a dict) draw on a copy budget proportional
 * to the pickle's size ({@link PICKLE_COPIES_PER_BYTE}), so a memoized list passed to a call a
 * million times is refused instead of copied a million times. Nothing here renders a value into
 * a message: errors name opcodes and types (`describe`), and callers quote values with
 * `describeValue`, which is bounded whatever the nesting or sharing.
 *
 * Value mapping: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float ->
 * number, str -> string, bytes/bytearray -> Uint8Array, list -> array, tuple -> frozen array,
 * dict -> Map, set/frozenset -> Set.
 */
import { SparseViTError } from '../errors';
import { MAX_QUOTED_CHARS, quoteText } from '../message-text';
import { TORCH_STORAGE_DTYPES } from './torch-storages';

/** A Python global that passed the allow-list, as an inert value (never callable). */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * The inert result of calling an allowed global (`REDUCE`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`, `INST`):
 * what was called, with what, and any `BUILD` state applied afterwards.
 */
export class PickleObject {
  state: unknown = undefined;
  constructor(
    /** `module.name` of the callable, e.g. `torch._utils._rebuild_tensor_v2`. */
    readonly callee: string,
    readonly args: readonly unknown[],
    readonly kwargs?: Map<unknown, unknown>,
  ) {}
}

export interface PickleOptions {
  /**
   * Resolves a persistent id (BINPERSID/PERSID): torch.save stores tensor storages outside the
   * pickle as `('storage', StorageType, key, location, numel)`. Without it, a persistent id is an
   * error.
   */
  persistentLoad?: (pid: unknown) => unknown;
  /** Extra `module.name` globals to allow as inert stand-ins (calls to them yield `PickleObject`). */
  allowGlobals?: Iterable<string>;
  /** Limits against memory blowups from hostile input. */
  maxStack?: number;
  maxMemo?: number;
  /** Cap on containers and records created (lists, dicts, tuples, objects...). */
  maxObjects?: number;
  /** Elements copied from existing values, in all (default `PICKLE_COPIES_PER_BYTE` per input byte, plus `PICKLE_COPIES_ALLOWANCE`). */
  maxCopies?: number;
}

/** Default cap on the values on the stack (and on nested MARKs). */
export const PICKLE_MAX_STACK = 1 << 22;
/** Default cap on memo entries. */
export const PICKLE_MAX_MEMO = 1 << 22;
/**
 * Default cap on containers and records created (about a microsecond and 50 bytes each). The
 * authors' training checkpoint layout, optimizer state included, holds 12,550; a million keeps a
 * hostile pickle of empty lists within a second or two and a few hundred MB.
 */
export const PICKLE_MAX_OBJECTS = 1 << 20;
/**
 * Elements a pickle may copy out of values it already built, per byte of pickle. `torch.save`
 * pickles copy almost nothing (a `torch.Size` of a few dimensions per tensor), so 4 per byte is
 * generous, while it keeps the work of a hostile pickle linear in its size.
 */
export const PICKLE_COPIES_PER_BYTE = 4;
/** Copies every pickle may make whatever its size. */
export const PICKLE_COPIES_ALLOWANCE = 1 << 20;

type GlobalKind =
  | 'ordered-dict'
  | 'set'
  | 'frozenset'
  | 'bytearray'
  | 'codecs-encode'
  | 'namespace'
  | 'torch-version'
  | 'tuple-subclass'
  | 'inert';

const TORCH_DTYPES = [
  'float32',
  'float',
  'float16',
  'half',
  'bfloat16',
  'float64',
  'double',
  'int64',
  'long',
  'int32',
  'int',
  'int16',
  'short',
  'int8',
  'uint8',
  'bool',
];

/** The allow-list: what `torch.save` of a training checkpoint names, and nothing that runs code. */
const DEFAULT_GLOBALS: ReadonlyMap<string, GlobalKind> = new Map<string, GlobalKind>([
  ['collections.OrderedDict', 'ordered-dict'],
  ['builtins.set', 'set'],
  ['builtins.frozenset', 'frozenset'],
  ['builtins.bytearray', 'bytearray'],
  ['builtins.slice', 'inert'],
  // Protocol 2 (torch.save's default) pickles bytes as _codecs.encode(latin1_str, 'latin1').
  ['_codecs.encode', 'codecs-encode'],
  ['argparse.Namespace', 'namespace'],
  ['torch.torch_version.TorchVersion', 'torch-version'],
  ['torch._utils._rebuild_tensor', 'inert'],
  ['torch._utils._rebuild_tensor_v2', 'inert'],
  ['torch._utils._rebuild_parameter', 'inert'],
  ['torch._utils._rebuild_parameter_with_state', 'inert'],
  ['torch.storage.TypedStorage', 'inert'],
  ['torch.device', 'inert'],
  // torch.Size is a tuple subclass: torch.Size((2, 3)) -> (2, 3).
  ['torch.Size', 'tuple-subclass'],
  ...[...TORCH_STORAGE_DTYPES.keys()].map((name): [string, GlobalKind] => [name, 'inert']),
  ...TORCH_DTYPES.map((d): [string, GlobalKind] => [`torch.${d}`, 'inert']),
  // numpy scalars/arrays appear in args namespaces and metric logs; they stay inert records.
  ['numpy.dtype', 'inert'],
  ['numpy.ndarray', 'inert'],
  ['numpy.core.multiarray.scalar', 'inert'],
  ['numpy.core.multiarray._reconstruct', 'inert'],
  ['numpy._core.multiarray.scalar', 'inert'],
  ['numpy._core.multiarray._reconstruct', 'inert'],
]);

/** The Python 2 module names protocol < 3 pickles use (`Lib/_compat_pickle.py`, IMPORT_MAPPING). */
const MODULE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['__builtin__', 'builtins'],
  ['copy_reg', 'copyreg'],
]);

/** The `module.name` globals the interpreter resolves by default. */
export function defaultAllowedGlobals(): string[] {
  return [...DEFAULT_GLOBALS.keys()];
}

const OP_NAMES: Record<number, string> = {};

function corrupt(message: string, offset?: number): SparseViTError {
  return new SparseViTError('CORRUPT_WEIGHTS', `pickle: ${message}${offset === undefined ? '' : ` (at byte ${offset})`}`);
}

const MAX_INT_BYTES = 4096;
/** CPython's own default limit on decimal digits of an int (`sys.int_info.default_max_str_digits`). */
const MAX_INT_DIGITS = 4300;

/** Attributes that BUILD set on a Map (an OrderedDict's `_metadata`, as PyTorch state dicts have). */
const mapAttributes = new WeakMap<Map<unknown, unknown>, unknown>();

/** The BUILD state applied to a dict-like value, if any (e.g. `{'_metadata': ...}` on a state dict). */
export function pickleAttributes(value: Map<unknown, unknown>): unknown {
  return mapAttributes.get(value);
}

/** A tuple is a frozen array; a list is a mutable one. */
export function isPickleTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

/** Runs a pickle and returns the value STOP leaves, executing nothing. */
export function loadPickle(data: Uint8Array, options: PickleOptions = {}): unknown {
  const maxStack = options.maxStack ?? PICKLE_MAX_STACK;
  const maxMemo = options.maxMemo ?? PICKLE_MAX_MEMO;
  const maxObjects = options.maxObjects ?? PICKLE_MAX_OBJECTS;
  const maxCopies = options.maxCopies ?? PICKLE_COPIES_PER_BYTE * data.length + PICKLE_COPIES_ALLOWANCE;
  let copies = 0;
  const allowed = new Map(DEFAULT_GLOBALS);
  for (const g of options.allowGlobals ?? []) if (!allowed.has(g)) allowed.set(g, 'inert');

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8');
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo: unknown[] = [];
  let memoSize = 0;
  let objects = 0;
  let pos = 0;
  let opStart = 0;
  let op = 0;

  const need = (n: number): void => {
    if (n < 0 || pos + n > data.length) {
      throw corrupt(`truncated: opcode ${opName(op)} needs ${n} more bytes, ${data.length - pos} remain`, opStart);
    }
  };
  const u8 = (): number => {
    need(1);
    return data[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`length ${v} of ${opName(op)} is too large`, opStart);
    return Number(v);
  };
  const bytes = (n: number): Uint8Array => {
    need(n);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw corrupt(`truncated: opcode ${opName(op)} has no terminating newline`, opStart);
    const b = data.subarray(pos, end);
    pos = end + 1;
    return latin1(b);
  };
  /** Draws `n` elements on the copy budget before an opcode copies a value it already built. */
  const spend = (n: number): void => {
    copies += n;
    if (copies > maxCopies) {
      throw corrupt(`copies more than ${maxCopies} elements out of values it already built (${opName(op)}); refusing to continue`, opStart);
    }
  };
  const count = (): void => {
    if (++objects > maxObjects) throw corrupt(`more than ${maxObjects} objects; refusing to continue`, opStart);
  };
  const push = (v: unknown): void => {
    if (stack.length >= maxStack) throw corrupt(`stack deeper than ${maxStack} entries`, opStart);
    stack.push(v);
  };
  const base = (): number => (marks.length > 0 ? marks[marks.length - 1]! : 0);
  const pop = (): unknown => {
    if (stack.length <= base()) throw corrupt(`stack underflow in ${opName(op)}`, opStart);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= base()) throw corrupt(`stack underflow in ${opName(op)}`, opStart);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    if (marks.length === 0) throw corrupt(`${opName(op)} without a MARK`, opStart);
    const at = marks.pop()!;
    return stack.splice(at);
  };
  // Picklers number memo entries 0, 1, 2, ... so a dense array serves; an index at or beyond the
  // cap is refused, which also bounds the array a hostile index could allocate.
  const memoPut = (index: number): void => {
    if (!Number.isSafeInteger(index) || index < 0) throw corrupt(`invalid memo index ${index}`, opStart);
    if (index >= maxMemo) throw corrupt(`memo larger than ${maxMemo} entries`, opStart);
    if (!(index in memo)) memoSize++;
    memo[index] = top();
  };
  const memoGet = (index: number): void => {
    if (index >= memo.length || !(index in memo)) throw corrupt(`memo index ${index} was never stored`, opStart);
    push(memo[index]);
  };
  const tuple = (items: unknown[]): readonly unknown[] => {
    count();
    return Object.freeze(items);
  };

  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const mod = MODULE_ALIASES.get(module) ?? module;
    const qualified = `${mod}.${name}`;
    if (!allowed.has(qualified)) {
      const shown = qualified.length > MAX_QUOTED_CHARS ? quoteText(qualified) : qualified;
      throw new SparseViTError(
        'UNSAFE_CHECKPOINT',
        `the checkpoint references the Python global ${shown}, which is not on the allow-list of what model checkpoints contain; nothing was executed. Convert trusted checkpoints to safetensors.`,
        { details: { global: qualified.slice(0, MAX_QUOTED_CHARS), offset: opStart } },
      );
    }
    count();
    return new PickleGlobal(mod, name);
  };

  /** Calls an allowed global inertly: builds the value Python would, without running anything. */
  const call = (callee: unknown, args: unknown, kwargs?: unknown): unknown => {
    if (!(callee instanceof PickleGlobal)) throw corrupt(`${opName(op)} of a value that is not an allowed global`, opStart);
    if (!Array.isArray(args)) throw corrupt(`${opName(op)} arguments for ${callee.qualifiedName} are not a tuple`, opStart);
    if (kwargs !== undefined && !(kwargs instanceof Map)) throw corrupt(`${opName(op)} keyword arguments are not a dict`, opStart);
    count();
    const kind = allowed.get(callee.qualifiedName)!;
    switch (kind) {
      case 'ordered-dict': {
        const m = new Map<unknown, unknown>();
        if (args.length > 0) addPairs(m, args[0]);
        if (kwargs) {
          spend(kwargs.size);
          for (const [k, v] of kwargs) m.set(k, v);
        }
        return m;
      }
      case 'set':
      case 'frozenset': {
        const s = new Set<unknown>();
        if (args.length > 0) for (const v of iterableOf(args[0], callee.qualifiedName)) s.add(v);
        return s;
      }
      case 'bytearray':
      case 'codecs-encode': {
        if (args.length === 0) return new Uint8Array(0);
        const [value, encoding] = args;
        if (value instanceof Uint8Array) {
          spend(value.length);
          return value.slice();
        }
        if (typeof value !== 'string') throw corrupt(`${callee.qualifiedName} of a non-string`, opStart);
        spend(value.length);
        return encodeString(value, typeof encoding === 'string' ? encoding : 'utf-8');
      }
      case 'namespace': {
        const ns: Record<string, unknown> = {};
        if (kwargs) {
          spend(kwargs.size);
          for (const [k, v] of kwargs) if (typeof k === 'string') defineData(ns, k, v);
        }
        return ns;
      }
      case 'torch-version':
        return typeof args[0] === 'string' ? args[0] : new PickleObject(callee.qualifiedName, args);
      case 'tuple-subclass':
        return tuple(args.length === 0 ? [] : [...iterableOf(args[0], callee.qualifiedName)]);
      case 'inert':
        return new PickleObject(callee.qualifiedName, args, kwargs as Map<unknown, unknown> | undefined);
    }
  };

  const addPairs = (m: Map<unknown, unknown>, pairs: unknown): void => {
    if (pairs instanceof Map) {
      spend(pairs.size);
      for (const [k, v] of pairs) m.set(k, v);
      return;
    }
    for (const pair of iterableOf(pairs, 'OrderedDict')) {
      if (!Array.isArray(pair) || pair.length !== 2) throw corrupt('OrderedDict argument is not a sequence of pairs', opStart);
      m.set(pair[0], pair[1]);
    }
  };

  /** The items of a list, tuple, set or dict (its keys) a call copies, paid for on the copy budget. */
  const iterableOf = (value: unknown, what: string): Iterable<unknown> => {
    if (Array.isArray(value)) {
      spend(value.length);
      return value;
    }
    if (value instanceof Set || value instanceof Map) spend(value.size);
    if (value instanceof Set) return value;
    if (value instanceof Map) return value.keys();
    throw corrupt(`argument of ${what} is not iterable`, opStart);
  };

  const build = (target: unknown, state: unknown): void => {
    if (target instanceof PickleObject) {
      target.state = state;
      return;
    }
    if (target instanceof Map) {
      mapAttributes.set(target, state);
      return;
    }
    if (isPlainObject(target)) {
      // Namespace: the state is its __dict__, possibly as (dict, slotstate) (pickle.py load_build).
      const parts = Array.isArray(state) && state.length === 2 ? state : [state];
      for (const part of parts) {
        if (part === null) continue;
        if (!(part instanceof Map)) throw corrupt('BUILD state of an object is not a dict', opStart);
        spend(part.size);
        for (const [k, v] of part) if (typeof k === 'string') defineData(target, k, v);
      }
      return;
    }
    throw corrupt(`BUILD on a value that has no state (${describe(target)})`, opStart);
  };

  while (true) {
    if (pos >= data.length) throw corrupt('truncated: no STOP opcode before the end of the data', pos);
    opStart = pos;
    op = data[pos++]!;
    switch (op) {
      case 0x80: {
        // PROTO
        const v = u8();
        if (v > 5) throw new SparseViTError('UNSUPPORTED_FORMAT', `pickle: protocol ${v} is newer than 5`);
        break;
      }
      case 0x95: {
        // FRAME: a length prefix for buffering; the opcodes inside are read normally.
        const n = u64();
        if (n > data.length - pos) throw corrupt(`FRAME of ${n} bytes runs past the end of the data`, opStart);
        break;
      }
      case 0x2e: // STOP '.'
        return pop();
      case 0x28: // MARK '('
        if (marks.length >= maxStack) throw corrupt(`more than ${maxStack} nested MARKs`, opStart);
        marks.push(stack.length);
        break;
      case 0x30: // POP '0': pops the top item, or the topmost mark if nothing is above it.
        if (stack.length > base()) stack.pop();
        else popMark();
        break;
      case 0x31: // POP_MARK '1'
        popMark();
        break;
      case 0x32: // DUP '2'
        push(top());
        break;

      // --- constants
      case 0x4e: // NONE 'N'
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT 'J'
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1 'K'
        push(u8());
        break;
      case 0x4d: // BININT2 'M'
        push(u16());
        break;
      case 0x49: {
        // INT 'I': decimal text; "00"/"01" are protocol 0's False/True.
        const s = line().trim();
        if (s === '00') push(false);
        else if (s === '01') push(true);
        else push(parseIntText(s, opStart));
        break;
      }
      case 0x4c: {
        // LONG 'L': decimal text with an optional trailing 'L'.
        const s = line().trim();
        push(parseIntText(s.endsWith('L') ? s.slice(0, -1) : s, opStart));
        break;
      }
      case 0x8a: // LONG1
        push(decodeLong(bytes(u8()), opStart));
        break;
      case 0x8b: {
        // LONG4
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw corrupt('LONG4 with a negative length', opStart);
        if (n > MAX_INT_BYTES) throw corrupt(`integer of ${n} bytes exceeds the ${MAX_INT_BYTES}-byte limit`, opStart);
        push(decodeLong(bytes(n), opStart));
        break;
      }
      case 0x47: // BINFLOAT 'G': big-endian float64
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: // FLOAT 'F'
        push(parseFloatText(line().trim(), opStart));
        break;

      // --- strings and bytes
      case 0x58: // BINUNICODE 'X'
        push(utf8.decode(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(utf8.decode(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        push(utf8.decode(bytes(u64())));
        break;
      case 0x56: // UNICODE 'V': raw-unicode-escape text
        push(decodeRawUnicodeEscape(line()));
        break;
      case 0x54: {
        // BINSTRING 'T': Python 2 str; torch.load decodes these as UTF-8.
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw corrupt('BINSTRING with a negative length', opStart);
        push(utf8.decode(bytes(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING 'U'
        push(utf8.decode(bytes(u8())));
        break;
      case 0x53: // STRING 'S': a quoted Python 2 repr
        push(utf8.decode(decodeQuotedString(line(), opStart)));
        break;
      case 0x42: // BINBYTES 'B'
        push(bytes(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES 'C'
        push(bytes(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(bytes(u64()).slice());
        break;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new SparseViTError('UNSUPPORTED_FORMAT', 'pickle: out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported');

      // --- containers
      case 0x7d: // EMPTY_DICT '}'
        count();
        push(new Map());
        break;
      case 0x5d: // EMPTY_LIST ']'
        count();
        push([]);
        break;
      case 0x29: // EMPTY_TUPLE ')'
        push(tuple([]));
        break;
      case 0x8f: // EMPTY_SET
        count();
        push(new Set());
        break;
      case 0x74: // TUPLE 't'
        push(tuple(popMark()));
        break;
      case 0x85: {
        // TUPLE1
        const a = pop();
        push(tuple([a]));
        break;
      }
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        push(tuple([a, b, c]));
        break;
      }
      case 0x6c: // LIST 'l'
        count();
        push(popMark());
        break;
      case 0x64: {
        // DICT 'd'
        const items = popMark();
        if (items.length % 2 !== 0) throw corrupt('DICT with an odd number of items', opStart);
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        count();
        push(m);
        break;
      }
      case 0x91: {
        // FROZENSET
        const s = new Set(popMark());
        count();
        push(s);
        break;
      }
      case 0x73: {
        // SETITEM 's'
        const v = pop();
        const k = pop();
        const d = top();
        if (!(d instanceof Map)) throw corrupt(`SETITEM on ${describe(d)}`, opStart);
        d.set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS 'u'
        const items = popMark();
        const d = top();
        if (!(d instanceof Map)) throw corrupt(`SETITEMS on ${describe(d)}`, opStart);
        if (items.length % 2 !== 0) throw corrupt('SETITEMS with an odd number of items', opStart);
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        // APPEND 'a'
        const v = pop();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l)) throw corrupt(`APPEND on ${describe(l)}`, opStart);
        if (l.length >= maxObjects) throw corrupt(`list longer than ${maxObjects} items`, opStart);
        l.push(v);
        break;
      }
      case 0x65: {
        // APPENDS 'e'
        const items = popMark();
        const l = top();
        if (!Array.isArray(l) || Object.isFrozen(l)) throw corrupt(`APPENDS on ${describe(l)}`, opStart);
        if (l.length + items.length > maxObjects) throw corrupt(`list longer than ${maxObjects} items`, opStart);
        for (const v of items) l.push(v);
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) throw corrupt(`ADDITEMS on ${describe(s)}`, opStart);
        for (const v of items) s.add(v);
        break;
      }

      // --- memo
      case 0x70: // PUT 'p'
        memoPut(parseIndexText(line(), opStart));
        break;
      case 0x71: // BINPUT 'q'
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT 'r'
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memoSize);
        break;
      case 0x67: // GET 'g'
        memoGet(parseIndexText(line(), opStart));
        break;
      case 0x68: // BINGET 'h'
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET 'j'
        memoGet(u32());
        break;

      // --- globals and calls: the allow-list is enforced here, where the name is read
      case 0x63: {
        // GLOBAL 'c': "module\nname\n"
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw corrupt('STACK_GLOBAL with a non-string module or name', opStart);
        }
        push(resolveGlobal(module, name));
        break;
      }
      case 0x69: {
        // INST 'i': "module\nname\n", arguments above the mark
        const module = line();
        const name = line();
        const g = resolveGlobal(module, name);
        push(call(g, popMark()));
        break;
      }
      case 0x6f: {
        // OBJ 'o': class and arguments above the mark
        const items = popMark();
        if (items.length === 0) throw corrupt('OBJ without a class', opStart);
        push(call(items[0], items.slice(1)));
        break;
      }
      case 0x52: {
        // REDUCE 'R'
        const args = pop();
        const callee = pop();
        push(call(callee, args));
        break;
      }
      case 0x81: {
        // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        push(call(cls, args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs)
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        push(call(cls, args, kwargs));
        break;
      }
      case 0x62: {
        // BUILD 'b'
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw new SparseViTError(
          'UNSAFE_CHECKPOINT',
          'the checkpoint uses a copyreg extension code (EXT opcode), which names a global that cannot be checked; nothing was executed',
        );

      // --- persistent ids: storages stored outside the pickle
      case 0x51: {
        // BINPERSID 'Q'
        const pid = pop();
        push(persistent(pid));
        break;
      }
      case 0x50: // PERSID 'P'
        push(persistent(line()));
        break;

      default:
        throw corrupt(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`, opStart);
    }
  }

  function persistent(pid: unknown): unknown {
    if (!options.persistentLoad) throw corrupt('persistent id found but no persistent_load was supplied', opStart);
    return options.persistentLoad(pid);
  }
}

function opName(op: number): string {
  const known = OP_NAMES[op];
  if (known) return known;
  return `0x${op.toString(16).padStart(2, '0')}`;
}

Object.assign(OP_NAMES, {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function defineData(target: object, key: string, value: unknown): void {
  // defineProperty, not assignment: a key named "__proto__" must not replace the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return Object.isFrozen(v) ? 'a tuple' : 'a list';
  if (v instanceof Map) return 'a dict';
  if (v instanceof Set) return 'a set';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PickleGlobal) return `global ${v.qualifiedName}`;
  if (v instanceof PickleObject) return `an instance from ${v.callee}`;
  return typeof v;
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

function parseIntText(s: string, at: number): number | bigint {
  if (s.length > MAX_INT_DIGITS || !/^[+-]?\d+$/.test(s)) throw corrupt(`invalid integer literal "${s.slice(0, 40)}"`, at);
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

function parseIndexText(s: string, at: number): number {
  const v = parseIntText(s.trim(), at);
  if (typeof v !== 'number' || v < 0) throw corrupt(`invalid memo index "${s.slice(0, 40)}"`, at);
  return v;
}

function parseFloatText(s: string, at: number): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(lower)) return NaN;
  throw corrupt(`invalid float literal "${s.slice(0, 40)}"`, at);
}

/** Little-endian two's complement, as LONG1/LONG4 store it (pickle.py decode_long). */
function decodeLong(b: Uint8Array, at: number): number | bigint {
  if (b.length === 0) return 0;
  if (b.length > MAX_INT_BYTES) throw corrupt(`integer of ${b.length} bytes exceeds the ${MAX_INT_BYTES}-byte limit`, at);
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += b[i]!.toString(16).padStart(2, '0');
  let v = BigInt(`0x${hex}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(b.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const SIMPLE_ESCAPES = new Map<string, number>([
  ['n', 10], ['r', 13], ['t', 9], ['\\', 92], ["'", 39], ['"', 34], ['a', 7], ['b', 8], ['f', 12], ['v', 11],
]);

/** The body of a protocol-0 STRING: a quoted repr with Python string escapes (`codecs.escape_decode`). */
function decodeQuotedString(text: string, at: number): Uint8Array {
  const s = text.endsWith('\r') ? text.slice(0, -1) : text;
  if (s.length < 2 || (s[0] !== "'" && s[0] !== '"') || s[s.length - 1] !== s[0]) {
    throw corrupt('STRING argument is not a quoted string', at);
  }
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c || i + 1 >= body.length) {
      out.push(c & 0xff);
      continue;
    }
    const e = body[++i]!;
    const simple = SIMPLE_ESCAPES.get(e);
    if (simple !== undefined) out.push(simple);
    else if (e === '\n') continue;
    else if (e === 'x') {
      const h = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw corrupt('invalid \\x escape in STRING', at);
      out.push(parseInt(h, 16));
      i += 2;
    } else if (/[0-7]/.test(e)) {
      let o = e;
      while (o.length < 3 && /[0-7]/.test(body[i + 1] ?? '')) o += body[++i];
      out.push(parseInt(o, 8) & 0xff);
    } else {
      out.push(92, e.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Python's raw-unicode-escape: bytes are latin-1 code points, except \uXXXX and \UXXXXXXXX. */
function decodeRawUnicodeEscape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (m, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt((u4 ?? u8)!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** `str.encode(encoding)` for the encodings protocol 2 uses for bytes (latin-1) and UTF-8. */
function encodeString(value: string, encoding: string): Uint8Array {
  const enc = encoding.toLowerCase().replace(/[-_]/g, '');
  if (enc === 'latin1' || enc === 'iso88591' || enc === 'ascii') {
    const out = new Uint8Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c > 0xff) throw corrupt(`_codecs.encode: character U+${c.toString(16)} is not latin-1`);
      out[i] = c;
    }
    return out;
  }
  if (enc === 'utf8') return new TextEncoder().encode(value);
  throw new SparseViTError('UNSUPPORTED_FORMAT', `pickle: _codecs.encode with encoding ${quoteText(encoding)} is not supported`);
}
