import { readFileSync } from 'node:fs';
import { fixturePath } from '@sparsevit/fixtures';
import { describe, expect, it } from 'vitest';
import { SparseViTError } from '../errors';
import { openZip, readZipEntry } from './zip';
import { isPickleTuple, loadPickle, PickleGlobal, PickleObject, pickleAttributes, type PickleOptions } from './pickle';
import { PickleWriter } from './testing/pickle-writer';
import { expectSparseViTErrorSync } from './testing/expect-sparsevit-error';

// Produced with CPython 3.11 `pickle.dumps(value, protocol=p)` for p = 0..5, where
//   value = {'a': [1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**40, -2**70, 1.5, -0.0,
//                  float('inf'), None, True, False, 'héllo\n\\ €', b'\x00\xff\'"', (1, 2), (),
//                  (1,), (1, 2, 3), (1, 2, 3, 4)],
//            'b': {1: 'x', 2: 'y'}, 's': {1, 2}, 'fs': frozenset({3}), 'ba': bytearray(b'ab'),
//            'od': OrderedDict([('z', 1), ('a', 2)]), 'shared': (shared, shared)}  # shared = [1]
const PY_PICKLES: string[] = [
  // protocol 0
  '286470300a56610a70310a286c70320a49310a61492d310a61493235350a61493235360a614936353533350a61493635' +
    '3533360a61492d323134373438333634380a614c323134373438333634384c0a614c313039393531313632373737364c' +
    '0a614c2d313138303539313632303731373431313330333432344c0a6146312e350a61462d302e300a6146696e660a61' +
    '4e614930310a614930300a615668e96c6c6f5c75303030615c7530303563205c75323061630a70330a61635f636f6465' +
    '63730a656e636f64650a70340a28565c7530303030ff27220a70350a566c6174696e310a70360a7470370a5270380a61' +
    '2849310a49320a7470390a612874612849310a747031300a612849310a49320a49330a747031310a612849310a49320a' +
    '49330a49340a747031320a617356620a7031330a28647031340a49310a56780a7031350a7349320a56790a7031360a73' +
    '7356730a7031370a635f5f6275696c74696e5f5f0a7365740a7031380a28286c7031390a49310a6149320a6174703230' +
    '0a527032310a735666730a7032320a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7032330a28286c703234' +
    '0a49330a61747032350a527032360a735662610a7032370a635f5f6275696c74696e5f5f0a6279746561727261790a70' +
    '32380a2867340a285661620a7032390a67360a747033300a527033310a747033320a527033330a73566f640a7033340a' +
    '63636f6c6c656374696f6e730a4f726465726564446963740a7033350a2874527033360a567a0a7033370a49310a7367' +
    '310a49320a7373567368617265640a7033380a28286c7033390a49310a616733390a747034300a732e',
  // protocol 1
  '7d71002858010000006171015d7102284b014affffffff4bff4d00014dffff4a000001004a000000804c323134373438' +
    '333634384c0a4c313039393531313632373737364c0a4c2d313138303539313632303731373431313330333432344c0a' +
    '473ff8000000000000478000000000000000477ff00000000000004e4930310a4930300a580c00000068c3a96c6c6f0a' +
    '5c20e282ac7103635f636f646563730a656e636f64650a710428580500000000c3bf2722710558060000006c6174696e' +
    '317106747107527108284b014b0274710929284b0174710a284b014b024b0374710b284b014b024b034b0474710c6558' +
    '0100000062710d7d710e284b01580100000078710f4b025801000000797110755801000000737111635f5f6275696c74' +
    '696e5f5f0a7365740a7112285d7113284b014b0265747114527115580200000066737116635f5f6275696c74696e5f5f' +
    '0a66726f7a656e7365740a7117285d71184b036174711952711a58020000006261711b635f5f6275696c74696e5f5f0a' +
    '6279746561727261790a711c2868042858020000006162711d680674711e52711f74712052712158020000006f647122' +
    '63636f6c6c656374696f6e730a4f726465726564446963740a7123295271242858010000007a71254b0168014b027558' +
    '060000007368617265647126285d71274b01616827747128752e',
  // protocol 2
  '80027d71002858010000006171015d7102284b014affffffff4bff4d00014dffff4a000001004a000000808a05000000' +
    '80008a060000000000018a090000000000000000c0473ff8000000000000478000000000000000477ff0000000000000' +
    '4e8889580c00000068c3a96c6c6f0a5c20e282ac7103635f636f646563730a656e636f64650a7104580500000000c3bf' +
    '2722710558060000006c6174696e3171068671075271084b014b02867109294b0185710a4b014b024b0387710b284b01' +
    '4b024b034b0474710c65580100000062710d7d710e284b01580100000078710f4b025801000000797110755801000000' +
    '737111635f5f6275696c74696e5f5f0a7365740a71125d7113284b014b0265857114527115580200000066737116635f' +
    '5f6275696c74696e5f5f0a66726f7a656e7365740a71175d71184b036185711952711a58020000006261711b635f5f62' +
    '75696c74696e5f5f0a6279746561727261790a711c680458020000006162711d680686711e52711f8571205271215802' +
    '0000006f64712263636f6c6c656374696f6e730a4f726465726564446963740a7123295271242858010000007a71254b' +
    '0168014b0275580600000073686172656471265d71274b01616827867128752e',
  // protocol 3
  '80037d71002858010000006171015d7102284b014affffffff4bff4d00014dffff4a000001004a000000808a05000000' +
    '80008a060000000000018a090000000000000000c0473ff8000000000000478000000000000000477ff0000000000000' +
    '4e8889580c00000068c3a96c6c6f0a5c20e282ac7103430400ff272271044b014b02867105294b018571064b014b024b' +
    '03877107284b014b024b034b047471086558010000006271097d710a284b01580100000078710b4b0258010000007971' +
    '0c75580100000073710d636275696c74696e730a7365740a710e5d710f284b014b026585711052711158020000006673' +
    '7112636275696c74696e730a66726f7a656e7365740a71135d71144b0361857115527116580200000062617117636275' +
    '696c74696e730a6279746561727261790a711843026162711985711a52711b58020000006f64711c63636f6c6c656374' +
    '696f6e730a4f726465726564446963740a711d2952711e2858010000007a711f4b0168014b0275580600000073686172' +
    '656471205d71214b01616821867122752e',
  // protocol 4
  '80049527010000000000007d94288c0161945d94284b014affffffff4bff4d00014dffff4a000001004a000000808a05' +
    '00000080008a060000000000018a090000000000000000c0473ff8000000000000478000000000000000477ff0000000' +
    '0000004e88898c0c68c3a96c6c6f0a5c20e282ac94430400ff2722944b014b028694294b0185944b014b024b03879428' +
    '4b014b024b034b047494658c0162947d94284b018c0178944b028c017994758c0173948f94284b014b02908c02667394' +
    '284b0391948c026261948c086275696c74696e73948c096279746561727261799493944302616294859452948c026f64' +
    '948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294288c017a944b0168014b02758c06' +
    '736861726564945d944b0161681f8694752e',
  // protocol 5
  '80059511010000000000007d94288c0161945d94284b014affffffff4bff4d00014dffff4a000001004a000000808a05' +
    '00000080008a060000000000018a090000000000000000c0473ff8000000000000478000000000000000477ff0000000' +
    '0000004e88898c0c68c3a96c6c6f0a5c20e282ac94430400ff2722944b014b028694294b0185944b014b024b03879428' +
    '4b014b024b034b047494658c0162947d94284b018c0178944b028c017994758c0173948f94284b014b02908c02667394' +
    '284b0391948c026261949602000000000000006162948c026f64948c0b636f6c6c656374696f6e73948c0b4f72646572' +
    '656444696374949394295294288c017a944b0168014b02758c06736861726564945d944b0161681a8694752e',
];
const PY_NAMESPACE_P2 = '80027d710058040000006172677371016361726770617273650a4e616d6573706163650a7102298171037d71042858020000006c727105473fb999999999999a58040000006e616d65710658010000007871077562732e';

const PY_NUMPY_NAMESPACE_P2 =
  '80027d710058040000006172677371016361726770617273650a4e616d6573706163650a7102298171037d71042858020000006c727105636e756d70792e5f636f' +
  '72652e6d756c746961727261790a7363616c61720a7106636e756d70790a64747970650a7107580200000066387108898887710952710a284b0358010000003c71' +
  '0b4e4e4e4affffffff4affffffff4b0074710c62635f636f646563730a656e636f64650a710d580f000000c29ac299c299c299c299c299c2b93f710e5806000000' +
  '6c6174696e31710f867110527111867112527113580400000073697a657114680668075802000000693871158988877116527117284b03680b4e4e4e4affffffff' +
  '4affffffff4b0074711862680d580800000000020000000000007119680f86711a52711b86711c52711d5803000000617272711e636e756d70792e5f636f72652e' +
  '6d756c746961727261790a5f7265636f6e7374727563740a711f636e756d70790a6e6461727261790a71204b00857121680d5801000000627122680f8671235271' +
  '24877125527126284b014b038571276807580200000066347128898887712952712a284b03680b4e4e4e4affffffff4affffffff4b0074712b6289680d580d0000' +
  '00000000000000c2803f00000040712c680f86712d52712e74712f627562732e';

function hex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
}


const load = (w: PickleWriter, options?: PickleOptions): unknown => loadPickle(w.bytes(), options);

describe('loadPickle decodes CPython pickles of every protocol', () => {
  const expected = new Map<unknown, unknown>([
    [
      'a',
      [
        1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31, 2 ** 40, -(2n ** 70n), 1.5, -0, Infinity, null, true, false,
        'héllo\n\\ €', Uint8Array.from([0, 255, 39, 34]), [1, 2], [], [1], [1, 2, 3], [1, 2, 3, 4],
      ],
    ],
    ['b', new Map<unknown, unknown>([[1, 'x'], [2, 'y']])],
    ['s', new Set([1, 2])],
    ['fs', new Set([3])],
    ['ba', Uint8Array.from([0x61, 0x62])],
    ['od', new Map([['z', 1], ['a', 2]])],
    ['shared', [[1], [1]]],
  ]);

  PY_PICKLES.forEach((h, protocol) => {
    it(`protocol ${protocol}`, () => {
      const v = loadPickle(hex(h)) as Map<string, unknown>;
      expect(v).toEqual(expected);
      expect([...(v.get('od') as Map<string, unknown>).keys()]).toEqual(['z', 'a']);
      const a = v.get('a') as unknown[];
      expect(Object.is(a[11], -0)).toBe(true);
      expect(isPickleTuple(a[18])).toBe(true);
      expect(isPickleTuple(a)).toBe(false);
      const shared = v.get('shared') as unknown[][];
      expect(shared[0]).toBe(shared[1]); // the memo preserves identity
    });
  });

  it('numpy scalars and arrays in an args Namespace stay inert records', () => {
    // pickle.dumps({'args': Namespace(lr=np.float64(0.1), size=np.int64(512),
    //                                   arr=np.arange(3, dtype=np.float32))}, protocol=2), numpy 2.4
    const v = loadPickle(hex(PY_NUMPY_NAMESPACE_P2)) as Map<string, Record<string, PickleObject>>;
    const args = v.get('args')!;
    expect(Object.keys(args)).toEqual(['lr', 'size', 'arr']);
    expect(args.lr!.callee).toBe('numpy._core.multiarray.scalar');
    const [dtype, raw] = args.lr!.args as [PickleObject, Uint8Array];
    expect(dtype.callee).toBe('numpy.dtype');
    expect(dtype.args[0]).toBe('f8');
    expect(new DataView(raw.buffer, raw.byteOffset).getFloat64(0, true)).toBe(0.1);
    expect(args.arr!.callee).toBe('numpy._core.multiarray._reconstruct');
    expect(Array.isArray(args.arr!.state)).toBe(true);
  });

  it('argparse.Namespace becomes a plain object', () => {
    const v = loadPickle(hex(PY_NAMESPACE_P2)) as Map<string, unknown>;
    expect(v.get('args')).toEqual({ lr: 0.1, name: 'x' });
    expect(Object.getPrototypeOf(v.get('args'))).toBe(Object.prototype);
  });
});

describe('loadPickle semantics', () => {
  it('MARK, POP, POP_MARK and DUP', () => {
    // [1, 1] after discarding a marked group and a popped item
    const w = new PickleWriter().proto(2).mark().int(9).int(9).raw(0x31).int(8).raw(0x30).int(1).raw(0x32).raw(0x86).stop();
    expect(load(w)).toEqual([1, 1]);
    // POP with nothing above the mark discards the mark (pickle.py load_pop)
    const w2 = new PickleWriter().proto(2).int(5).mark().raw(0x30).stop();
    expect(load(w2)).toBe(5);
  });

  it('text opcodes of protocol 0', () => {
    const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
    const w = new PickleWriter()
      .mark()
      .raw(...enc('I42\n'), ...enc('I-7\n'), ...enc('L123456789012345678901234567890L\n'), ...enc('F-2.5e3\n'), ...enc('Fnan\n'))
      .raw(...enc("S'a\\x41\\n\\'b'\n"), ...enc('S"q"\n'), ...enc('Vx\\u00e9\\U0001f600\n'))
      .raw(...enc('p7\n'), ...enc('g7\n'))
      .raw(0x6c)
      .stop();
    const v = load(w) as unknown[];
    expect(v.slice(0, 4)).toEqual([42, -7, 123456789012345678901234567890n, -2500]);
    expect(v[4]).toBeNaN();
    expect(v.slice(5)).toEqual(["aA\n'b", 'q', 'xé😀', 'xé😀']);
  });

  it('LONG1/LONG4 are two\'s complement little-endian', () => {
    expect(load(new PickleWriter().raw(0x8a, 0).stop())).toBe(0);
    expect(load(new PickleWriter().raw(0x8a, 1, 0xff).stop())).toBe(-1);
    expect(load(new PickleWriter().raw(0x8a, 2, 0x00, 0x80).stop())).toBe(-32768);
    expect(load(new PickleWriter().raw(0x8b, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01).stop())).toBe(2n ** 64n);
  });

  it('frames, EMPTY_SET/ADDITEMS, BINBYTES8/BYTEARRAY8, NEWOBJ_EX, MEMOIZE', () => {
    const w = new PickleWriter()
      .proto(5)
      .raw(0x95, 3, 0, 0, 0, 0, 0, 0, 0)
      .mark()
      .raw(0x8f, 0x94)
      .mark()
      .int(4)
      .int(5)
      .raw(0x90)
      .raw(0x8e, 1, 0, 0, 0, 0, 0, 0, 0, 7)
      .raw(0x96, 1, 0, 0, 0, 0, 0, 0, 0, 8)
      .stackGlobal('argparse', 'Namespace')
      .emptyTuple()
      .emptyDict()
      .str('k')
      .int(3)
      .raw(0x73)
      .raw(0x92)
      .raw(0x68, 0)
      .tuple()
      .stop();
    const v = load(w) as unknown[];
    expect(v[0]).toEqual(new Set([4, 5]));
    expect(v[1]).toEqual(Uint8Array.from([7]));
    expect(v[2]).toEqual(Uint8Array.from([8]));
    expect(v[3]).toEqual({ k: 3 });
    expect(v[4]).toBe(v[0]);
  });

  it('allowed callables become inert records; BUILD state is kept', () => {
    const w = new PickleWriter()
      .proto(2)
      .mark()
      .global('torch', 'device')
      .str('cuda')
      .int(0)
      .raw(0x86)
      .reduce()
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .emptyDict()
      .str('_metadata')
      .str('m')
      .raw(0x73)
      .build()
      .global('numpy.core.multiarray', '_reconstruct')
      .emptyTuple()
      .reduce()
      .int(1)
      .build()
      .global('torch', 'float16')
      .global('torch', 'Size')
      .mark()
      .int(2)
      .int(3)
      .tuple()
      .tuple1()
      .reduce()
      .global('torch.torch_version', 'TorchVersion')
      .str('1.13.1')
      .tuple1()
      .reduce()
      .tuple()
      .stop();
    const [device, od, arr, dtype, size, version] = load(w) as unknown[];
    expect(size).toEqual([2, 3]);
    expect(isPickleTuple(size)).toBe(true);
    expect(device).toBeInstanceOf(PickleObject);
    expect((device as PickleObject).callee).toBe('torch.device');
    expect((device as PickleObject).args).toEqual(['cuda', 0]);
    expect(pickleAttributes(od as Map<unknown, unknown>)).toEqual(new Map([['_metadata', 'm']]));
    expect((arr as PickleObject).state).toBe(1);
    expect(dtype).toBeInstanceOf(PickleGlobal);
    expect((dtype as PickleGlobal).qualifiedName).toBe('torch.float16');
    expect(version).toBe('1.13.1');
  });

  it('a Namespace "__proto__" attribute cannot pollute prototypes', () => {
    const w = new PickleWriter()
      .proto(2)
      .global('argparse', 'Namespace')
      .emptyTuple()
      .newobj()
      .emptyDict()
      .str('__proto__')
      .emptyDict()
      .str('polluted')
      .int(1)
      .raw(0x73)
      .raw(0x73)
      .build()
      .stop();
    const ns = load(w) as Record<string, unknown>;
    expect(Object.getPrototypeOf(ns)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(ns, '__proto__')?.value).toBeInstanceOf(Map);
  });

  it('passes persistent ids to the callback', () => {
    const seen: unknown[] = [];
    const w = new PickleWriter().proto(2).str('storage').str('0').raw(0x86).binpersid().stop();
    expect(load(w, { persistentLoad: (pid) => (seen.push(pid), 'resolved') })).toBe('resolved');
    expect(seen).toEqual([['storage', '0']]);
    expectSparseViTErrorSync(() => load(w), 'CORRUPT_WEIGHTS', /persistent/);
    const p0 = new PickleWriter().raw(0x50, ...new TextEncoder().encode('abc\n')).stop();
    expect(load(p0, { persistentLoad: (pid) => `<${String(pid)}>` })).toBe('<abc>');
  });

  it('handles hostile nesting without recursion', () => {
    const depth = 100_000;
    const w = new PickleWriter().proto(2);
    for (let i = 0; i < depth; i++) w.emptyList();
    for (let i = 0; i < depth - 1; i++) w.raw(0x61);
    w.stop();
    let v = load(w) as unknown[];
    let d = 1;
    while (v.length > 0) {
      v = v[0] as unknown[];
      d++;
    }
    expect(d).toBe(depth);
    const marks = new PickleWriter().proto(2);
    for (let i = 0; i < depth; i++) marks.mark();
    for (let i = 0; i < depth; i++) marks.tuple();
    expect(isPickleTuple(load(marks.stop()))).toBe(true);
  });
});

describe('loadPickle rejects', () => {
  it('globals outside the allow-list at the GLOBAL opcode', () => {
    for (const [module, name, shown] of [
      ['posix', 'system', 'posix.system'],
      ['os', 'system', 'os.system'],
      ['builtins', 'eval', 'builtins.eval'],
      ['builtins', 'getattr', 'builtins.getattr'],
      ['__builtin__', 'exec', 'builtins.exec'],
      ['subprocess', 'Popen', 'subprocess.Popen'],
      ['torch', 'load', 'torch.load'],
      ['collections', 'OrderedDict.fromkeys', 'collections.OrderedDict.fromkeys'],
      ['numpy', 'load', 'numpy.load'],
    ] as const) {
      // No REDUCE follows, and no STOP either: the error must come from the GLOBAL opcode itself.
      const e = expectSparseViTErrorSync(() => load(new PickleWriter().proto(2).global(module, name)), 'UNSAFE_CHECKPOINT');
      expect(e.message).toContain(shown);
      expect((e.details as { global: string }).global).toBe(shown);
      const s = expectSparseViTErrorSync(() => load(new PickleWriter().proto(4).stackGlobal(module, name)), 'UNSAFE_CHECKPOINT');
      expect(s.message).toContain(shown);
    }
  });

  it('extension codes and out-of-band buffers', () => {
    expectSparseViTErrorSync(() => load(new PickleWriter().proto(2).raw(0x82, 1).stop()), 'UNSAFE_CHECKPOINT');
    expectSparseViTErrorSync(() => load(new PickleWriter().proto(5).raw(0x97).stop()), 'UNSUPPORTED_FORMAT');
    expectSparseViTErrorSync(() => load(new PickleWriter().proto(6).none().stop()), 'UNSUPPORTED_FORMAT', /protocol 6/);
  });

  it('malformed programs as CORRUPT_WEIGHTS', () => {
    const cases: [string, PickleWriter, RegExp][] = [
      ['empty', new PickleWriter(), /no STOP/],
      ['no STOP', new PickleWriter().proto(2).none(), /no STOP/],
      ['STOP on an empty stack', new PickleWriter().proto(2).stop(), /underflow/],
      ['REDUCE underflow', new PickleWriter().proto(2).reduce().stop(), /underflow/],
      ['pop across a mark', new PickleWriter().proto(2).int(1).mark().raw(0x85).stop(), /underflow/],
      ['TUPLE without MARK', new PickleWriter().proto(2).tuple().stop(), /without a MARK/],
      ['unknown opcode', new PickleWriter().proto(2).raw(0xff).stop(), /unknown opcode 0xff/],
      ['missing memo', new PickleWriter().proto(2).binget(3).stop(), /memo index 3/],
      ['REDUCE of a non-callable', new PickleWriter().proto(2).str('x').emptyTuple().reduce().stop(), /not an allowed global/],
      ['SETITEM on a list', new PickleWriter().proto(2).emptyList().int(1).int(2).raw(0x73).stop(), /SETITEM on a list/],
      ['APPEND on a tuple', new PickleWriter().proto(2).emptyTuple().int(1).raw(0x61).stop(), /APPEND on a tuple/],
      ['BUILD on a list', new PickleWriter().proto(2).emptyList().emptyDict().build().stop(), /BUILD on a value/],
      ['odd SETITEMS', new PickleWriter().proto(2).emptyDict().mark().int(1).setitems().stop(), /odd number/],
      ['huge BINUNICODE', new PickleWriter().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0x7f, 0x41).stop(), /truncated/],
      ['huge BINBYTES8', new PickleWriter().proto(4).raw(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x7f).stop(), /too large/],
      ['huge LONG4', new PickleWriter().proto(2).raw(0x8b, 0xff, 0xff, 0xff, 0x0f).stop(), /exceeds/],
      ['FRAME past the end', new PickleWriter().proto(4).raw(0x95, 0xff, 0, 0, 0, 0, 0, 0, 0).none().stop(), /FRAME/],
      ['GLOBAL without newline', new PickleWriter().proto(2).raw(0x63, 0x61), /newline/],
      ['bad INT', new PickleWriter().raw(0x49, 0x78, 0x0a).stop(), /invalid integer/],
      ['bad FLOAT', new PickleWriter().raw(0x46, 0x78, 0x0a).stop(), /invalid float/],
      ['bad STRING', new PickleWriter().raw(0x53, 0x78, 0x0a).stop(), /quoted/],
      ['STACK_GLOBAL of non-strings', new PickleWriter().proto(4).int(1).int(2).raw(0x93).stop(), /non-string/],
    ];
    for (const [label, w, message] of cases) {
      const e = expectSparseViTErrorSync(() => load(w), 'CORRUPT_WEIGHTS');
      expect(e.message, label).toMatch(message);
    }
  });

  it('every truncation of a real pickle as CORRUPT_WEIGHTS', () => {
    const full = hex(PY_PICKLES[2]!);
    for (let n = 0; n < full.length; n++) {
      expectSparseViTErrorSync(() => loadPickle(full.subarray(0, n)), 'CORRUPT_WEIGHTS');
    }
  });

  it('programs that exceed the stack, memo or object limits', () => {
    const many = new PickleWriter().proto(2);
    for (let i = 0; i < 100; i++) many.none();
    expectSparseViTErrorSync(() => load(many.stop(), { maxStack: 50 }), 'CORRUPT_WEIGHTS', /stack deeper than 50/);
    const memo = new PickleWriter().proto(2).none();
    for (let i = 0; i < 100; i++) memo.raw(0x72, i, 0, 0, 0);
    expectSparseViTErrorSync(() => load(memo.stop(), { maxMemo: 50 }), 'CORRUPT_WEIGHTS', /memo larger than 50/);
    const objects = new PickleWriter().proto(2).emptyList().mark();
    for (let i = 0; i < 100; i++) objects.emptyDict();
    expectSparseViTErrorSync(() => load(objects.appends().stop(), { maxObjects: 50 }), 'CORRUPT_WEIGHTS', /more than 50 objects/);
  });
});

describe('fuzzing the interpreter with mutations of the fixture data.pkl', () => {
  it('only ever throws SparseViTError', async () => {
    const zip = await openZip(new Uint8Array(readFileSync(fixturePath('sparsevit-tiny', 'checkpoint.pth'))));
    const pkl = await readZipEntry(zip, zip.byName.get('checkpoint/data.pkl')!);
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const codes = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const bytes = pkl.slice();
      const n = 1 + Math.floor(rand() * 4);
      // bias toward the start (structure, globals) while still reaching the optimizer state
      for (let k = 0; k < n; k++) bytes[Math.floor(rand() ** 2 * bytes.length)] = Math.floor(rand() * 256);
      const cut = rand() < 0.2 ? Math.floor(rand() * bytes.length) : bytes.length;
      try {
        loadPickle(bytes.subarray(0, cut), { persistentLoad: (pid) => pid });
        codes.set('ok', (codes.get('ok') ?? 0) + 1);
      } catch (e) {
        if (!(e instanceof SparseViTError)) throw new Error(`iteration ${i}: escaped ${String(e)}`, { cause: e });
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
    }
    expect(codes.get('CORRUPT_WEIGHTS') ?? 0).toBeGreaterThan(120);
    expect(codes.get('UNSAFE_CHECKPOINT') ?? 0).toBeGreaterThan(0);
    expect(codes.get('ok') ?? 0).toBeGreaterThan(0);
  });
});

describe('loadPickle bounds its work by its size', () => {
  /** One 100,000-item list memoized, then `calls` calls of `module.name(list)` (7 bytes each). */
  function copies(module: string, name: string, calls: number): Uint8Array {
    const w = new PickleWriter().proto(2).emptyList().mark();
    for (let i = 0; i < 100_000; i++) w.raw(0x4b, 0);
    w.appends().binput(0).raw(0x30).global(module, name).binput(1).raw(0x30);
    for (let i = 0; i < calls; i++) w.binget(1).binget(0).tuple1().reduce().raw(0x30);
    return w.emptyDict().stop().bytes();
  }

  it('refuses a memoized list copied by call after call', () => {
    for (const [module, name] of [['torch', 'Size'], ['builtins', 'set'], ['builtins', 'frozenset']]) {
      // Ten copies are within the budget of a 200 KB pickle; 10,000 (a billion elements) are not.
      expect(loadPickle(copies(module, name, 10))).toBeInstanceOf(Map);
      const e = expectSparseViTErrorSync(() => loadPickle(copies(module, name, 10_000)), 'CORRUPT_WEIGHTS', /copies more than \d+ elements/);
      expect(e.message.length).toBeLessThan(300);
    }
  });

  it('refuses integers longer than CPython prints (4300 digits)', () => {
    const digits = (n: number) => new PickleWriter().proto(2).raw(0x49, ...new TextEncoder().encode(`${'7'.repeat(n)}\n`)).stop();
    expect(typeof load(digits(4300))).toBe('bigint');
    expectSparseViTErrorSync(() => load(digits(4301)), 'CORRUPT_WEIGHTS', /invalid integer literal/);
  });

  it('quotes a hostile global name within bounds', () => {
    const pkl = new Uint8Array([0x80, 2, 0x63, ...new Uint8Array(1_000_000).fill(0x6d), ...new TextEncoder().encode('\nsystem\n')]);
    const e = expectSparseViTErrorSync(() => loadPickle(pkl), 'UNSAFE_CHECKPOINT', /Python global "mmmm/);
    expect(e.message.length).toBeLessThan(500);
    expect((e.details as { global: string }).global.length).toBeLessThanOrEqual(120);
  });
});
