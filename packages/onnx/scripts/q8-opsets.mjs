// node packages/onnx/scripts/q8-opsets.mjs [node|web] [threads] [runs]
//
// The candidate int8 op sets for q8, timed on single layers of the base model (512x512) against
// the float32 op, interleaved in one process (intra-op spinning off so that idle sessions do not
// steal the cores), medians; max/mean |diff| against float32 on the same input. `web` runs
// onnxruntime-web's wasm engine in Node (resolved from apps/bench). Run with the machine quiet.
//
//   matmul:  fp32 MatMul+Add | DynamicQuantizeLinear + MatMulInteger (+Cast, Mul: what ORT fuses)
//            | com.microsoft DynamicQuantizeMatMul | DynamicQuantizeLinear + MatMulIntegerToFloat
//            | static QDQ (QuantizeLinear/DequantizeLinear around activation and weight)
//   conv1x1: fp32 Conv | DynamicQuantizeLinear + ConvInteger | uint8 x uint8 MatMulInteger on the map
//            | transpose to NHWC + DynamicQuantizeMatMul
//            | static QDQ | static QDQ with the output quantized too (QLinearConv end to end)
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto');
const ort = require('onnxruntime-node');
const F = onnx.TensorProto.DataType.FLOAT, I8 = onnx.TensorProto.DataType.INT8, U8 = onnx.TensorProto.DataType.UINT8;
const rnd = (n, s) => { const a = new Float32Array(n); let x = 1; for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; a[i] = ((x / 2 ** 32) - 0.5) * s; } return a; };
const t = (name, dims, type, arr) => ({ name, dims, dataType: type, rawData: new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength) });
const vi = (name, dims) => ({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const attr = (name, v) => Array.isArray(v) ? { name, type: 7, ints: v } : typeof v === 'string' ? { name, type: 3, s: new TextEncoder().encode(v) } : Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
const node = (op, input, output, attrs = {}, domain = '') => ({ opType: op, input, output, domain, attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
function model(nodes, inits, inDims, outDims) {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: { name: 'g', node: nodes, initializer: inits, input: [vi('x', inDims)], output: [vi('y', outDims)] } }).finish();
}
// per-output-channel symmetric int8; W [K,N] (matmul) -> scale per column
function quantCols(w, K, N) { const q = new Int8Array(K * N), s = new Float32Array(N);
  for (let n = 0; n < N; n++) { let m = 0; for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + n])); s[n] = m / 127 || 1; for (let k = 0; k < K; k++) q[k * N + n] = Math.round(w[k * N + n] / s[n]); } return { q, s }; }
function quantRows(w, O, C) { const q = new Int8Array(O * C), s = new Float32Array(O);
  for (let o = 0; o < O; o++) { let m = 0; for (let c = 0; c < C; c++) m = Math.max(m, Math.abs(w[o * C + c])); s[o] = m / 127 || 1; for (let c = 0; c < C; c++) q[o * C + c] = Math.round(w[o * C + c] / s[o]); } return { q, s }; }

function matmulVariants(M, K, N) {
  const w = rnd(K * N, 0.1), b = rnd(N, 0.1); const { q, s } = quantCols(w, K, N);
  const inits = [t('W', [K, N], F, w), t('B', [N], F, b)];
  const qi = [t('Wq', [K, N], I8, q), t('Ws', [N], F, s), t('B', [N], F, b)];
  const v = {};
  v.fp32 = model([node('MatMul', ['x', 'W'], ['m']), node('Add', ['m', 'B'], ['y'])], inits, [M, K], [M, N]);
  v.dql_matmulinteger = model([node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']), node('MatMulInteger', ['xq', 'Wq', 'xz'], ['mi']),
    node('Cast', ['mi'], ['mf'], { to: F }), node('Mul', ['xs', 'Ws'], ['sc']), node('Mul', ['mf', 'sc'], ['m']), node('Add', ['m', 'B'], ['y'])], qi, [M, K], [M, N]);
  v.dynamic_quantize_matmul = model([node('DynamicQuantizeMatMul', ['x', 'Wq', 'Ws', '', 'B'], ['y'], {}, 'com.microsoft')], qi, [M, K], [M, N]);
  v.matmul_integer_to_float = model([node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']), node('MatMulIntegerToFloat', ['xq', 'Wq', 'xs', 'Ws', 'xz', '', 'B'], ['y'], {}, 'com.microsoft')], qi, [M, K], [M, N]);
  // static QDQ: activation scale fixed (calibrated), weight per-column
  v.qdq_static = model([node('QuantizeLinear', ['x', 'as', 'az'], ['xq']), node('DequantizeLinear', ['xq', 'as', 'az'], ['xd']),
    node('DequantizeLinear', ['Wq', 'Ws', 'wz'], ['wd'], { axis: 1 }), node('MatMul', ['xd', 'wd'], ['m']), node('Add', ['m', 'B'], ['y'])],
    [...qi, t('as', [], F, new Float32Array([2 / 255])), t('az', [], U8, new Uint8Array([128])), t('wz', [N], I8, new Int8Array(N))], [M, K], [M, N]);
  return v;
}
function conv1x1Variants(C, O, H) {
  const w = rnd(O * C, 0.1), b = rnd(O, 0.1); const { q, s } = quantRows(w, O, C);
  const inDims = [1, C, H, H], outDims = [1, O, H, H], v = {};
  v.fp32 = model([node('Conv', ['x', 'W', 'B'], ['y'], { kernel_shape: [1, 1] })], [t('W', [O, C, 1, 1], F, w), t('B', [O], F, b)], inDims, outDims);
  const qi = [t('Wq', [O, C, 1, 1], I8, q), t('Ws', [1, O, 1, 1], F, s), t('B4', [1, O, 1, 1], F, b)];
  v.dql_convinteger = model([node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']), node('ConvInteger', ['xq', 'Wq', 'xz'], ['ci'], { kernel_shape: [1, 1] }),
    node('Cast', ['ci'], ['cf'], { to: F }), node('Mul', ['xs', 'Ws'], ['sc']), node('Mul', ['cf', 'sc'], ['m']), node('Add', ['m', 'B4'], ['y'])], qi, inDims, outDims);
  // as a matmul with the weight on the left: W[O,C] x X[C,HW]
  const qr = [t('Wq2', [O, C], I8, q), t('Ws2', [O, 1], F, s), t('B2', [O, 1], F, b), t('sh', [2], onnx.TensorProto.DataType.INT64, new BigInt64Array([BigInt(C), BigInt(H * H)])), t('sh4', [4], onnx.TensorProto.DataType.INT64, new BigInt64Array([1n, BigInt(O), BigInt(H), BigInt(H)]))];
  // on the map, weight on the left: uint8 W (zero point 128) x uint8 X [C, HW] with MatMulInteger
  const qu = new Uint8Array(O * C); for (let i = 0; i < q.length; i++) qu[i] = q[i] + 128;
  const I64 = onnx.TensorProto.DataType.INT64;
  v.map_matmulinteger_u8u8 = model([node('Reshape', ['x', 'sh'], ['x2']), node('DynamicQuantizeLinear', ['x2'], ['xq', 'xs', 'xz']),
    node('MatMulInteger', ['Wu', 'xq', 'wz', 'xz'], ['mi']), node('Cast', ['mi'], ['mf'], { to: F }), node('Mul', ['xs', 'Ws2'], ['sc']),
    node('Mul', ['mf', 'sc'], ['m']), node('Add', ['m', 'B2'], ['m2']), node('Reshape', ['m2', 'sh4'], ['y'])],
    [t('Wu', [O, C], U8, qu), t('wz', [], U8, new Uint8Array([128])), t('Ws2', [O, 1], F, s), t('B2', [O, 1], F, b),
     t('sh', [2], I64, new BigInt64Array([BigInt(C), BigInt(H * H)])), t('sh4', [4], I64, new BigInt64Array([1n, BigInt(O), BigInt(H), BigInt(H)]))], inDims, outDims);
  // transpose to tokens, DynamicQuantizeMatMul, transpose back
  const { q: qc, s: sc } = quantCols(transpose(w, O, C), C, O);
  const qt = [t('WqT', [C, O], I8, qc), t('WsT', [O], F, sc), t('B', [O], F, b), t('shT', [2], onnx.TensorProto.DataType.INT64, new BigInt64Array([BigInt(C), BigInt(H * H)])), t('sh4', [4], onnx.TensorProto.DataType.INT64, new BigInt64Array([1n, BigInt(O), BigInt(H), BigInt(H)]))];
  v.transpose_dqmatmul = model([node('Reshape', ['x', 'shT'], ['x2']), node('Transpose', ['x2'], ['xt'], { perm: [1, 0] }), node('DynamicQuantizeMatMul', ['xt', 'WqT', 'WsT', '', 'B'], ['m'], {}, 'com.microsoft'),
    node('Transpose', ['m'], ['mt'], { perm: [1, 0] }), node('Reshape', ['mt', 'sh4'], ['y'])], qt, inDims, outDims);
  v.qdq_static = model([node('QuantizeLinear', ['x', 'as', 'az'], ['xq']), node('DequantizeLinear', ['xq', 'as', 'az'], ['xd']),
    node('DequantizeLinear', ['Wq', 'Ws1', 'wz'], ['wd'], { axis: 0 }), node('Conv', ['xd', 'wd', 'B'], ['y'], { kernel_shape: [1, 1] })],
    [t('Wq', [O, C, 1, 1], I8, q), t('Ws1', [O], F, s), t('B', [O], F, b), t('as', [], F, new Float32Array([2 / 255])), t('az', [], U8, new Uint8Array([128])), t('wz', [O], I8, new Int8Array(O))], inDims, outDims);
  // static QDQ with the output quantized too (QLinearConv end to end)
  v.qdq_static_out = model([node('QuantizeLinear', ['x', 'as', 'az'], ['xq']), node('DequantizeLinear', ['xq', 'as', 'az'], ['xd']),
    node('DequantizeLinear', ['Wq', 'Ws1', 'wz'], ['wd'], { axis: 0 }), node('Conv', ['xd', 'wd', 'B'], ['yc'], { kernel_shape: [1, 1] }),
    node('QuantizeLinear', ['yc', 'os', 'az'], ['yq']), node('DequantizeLinear', ['yq', 'os', 'az'], ['y'])],
    [t('Wq', [O, C, 1, 1], I8, q), t('Ws1', [O], F, s), t('B', [O], F, b), t('as', [], F, new Float32Array([2 / 255])), t('os', [], F, new Float32Array([0.05])), t('az', [], U8, new Uint8Array([128])), t('wz', [O], I8, new Int8Array(O))], inDims, outDims);
  return v;
}
function transpose(w, R, C) { const o = new Float32Array(R * C); for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) o[c * R + r] = w[r * C + c]; return o; }

async function bench(ortLib, variants, inDims, runs, threads, eps = ['cpu']) {
  const x = rnd(inDims.reduce((a, b) => a * b), 2);
  const feed = () => ({ x: new ortLib.Tensor('float32', x, inDims) });
  const med = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
  const times = {}, err = {}, sessions = {}; let ref;
  for (const [k, m] of Object.entries(variants)) {
    try { sessions[k] = await ortLib.InferenceSession.create(m, { executionProviders: eps, intraOpNumThreads: threads, graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } }); }
    catch (e) { times[k] = String(e.message).split('\n')[0].slice(0, 120); continue; }
    const s = sessions[k]; times[k] = [];
    const y = (await s.run(feed())).y.data;
    if (k === 'fp32') ref = y; else { let mx = 0, ms = 0; for (let i = 0; i < y.length; i++) { const d = Math.abs(y[i] - ref[i]); mx = Math.max(mx, d); ms += d; } err[k] = { max: mx, mean: ms / y.length }; }
    for (let i = 0; i < 2; i++) await s.run(feed());
  }
  for (let r = 0; r < runs; r++) for (const [k, s] of Object.entries(sessions)) { const t0 = performance.now(); await s.run(feed()); times[k].push(performance.now() - t0); }
  const out = {}; const f = med(times.fp32);
  for (const [k, v] of Object.entries(times)) out[k] = typeof v === 'string' ? v : `${med(v).toFixed(2)} ms (${(med(v) / f).toFixed(2)}x)${err[k] ? ` err max ${err[k].max.toExponential(1)} mean ${err[k].mean.toExponential(1)}` : ''}`;
  return out;
}

const mode = process.argv[2] ?? 'node';
const threads = Number(process.argv[3] ?? 2);
const runs = Number(process.argv[4] ?? 30);
const lib = mode === 'web' ? createRequire(new URL('../../../apps/bench/package.json', import.meta.url))('onnxruntime-web') : ort;
if (mode === 'web') {
  lib.env.wasm.numThreads = threads;
  lib.env.logLevel = 'error';
}
const eps = mode === 'web' ? ['wasm'] : ['cpu'];
console.log(`${mode}, ${threads} thread(s), ${runs} interleaved runs`);
console.log('stage-3 attn.qkv, MatMul 1024x320 x 320x960', await bench(lib, matmulVariants(1024, 320, 960), [1024, 320], runs, threads, eps));
console.log('stage-3 mlp.fc1, 1x1 conv 320->1280 on 32x32', await bench(lib, conv1x1Variants(320, 1280, 32), [1, 320, 32, 32], runs, threads, eps));
console.log('stage-1 mlp.fc1, 1x1 conv 64->256 on 128x128', await bench(lib, conv1x1Variants(64, 256, 128), [1, 64, 128, 128], runs, threads, eps));
