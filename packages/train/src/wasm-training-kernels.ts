import { SparseViTError } from '@sparsevit/core';
import type { Tfjs } from '@sparsevit/tfjs';
import type * as tfc from '@tensorflow/tfjs-core';

/**
 * What tfjs-backend-wasm 4.22 lacks for training. First, the three convolution gradients it does not ship (they are not in its
 * `dist/kernels`): without them `tf.variableGrads` over any convolution fails on wasm with
 * "kernel not registered". They are registered here for the wasm backend, in plain JavaScript
 * over the wasm heap, NHWC (the only layout `TfjsTensorOps` uses).
 *
 * Why JavaScript and not a wasm build of our own: in SparseViT these kernels are a small part of
 * a training step. Dense convolutions other than 1x1 (which run as MatMuls, whose gradients are
 * XNNPACK MatMuls) are only the four patch embeddings (kernel = stride, 3-4% of the step's
 * multiply-adds at the `small` preset), and the depthwise ones cost C * k * k per pixel. The
 * loops below visit the output pixels in order and run the channels innermost, contiguous in
 * both operands, and accumulate in float64; `pnpm bench` reports the step time they give.
 */
export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'] as const;

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): tfc.TensorInfo;
  typedArrayFromHeap(info: tfc.TensorInfo): Float32Array;
}

type KernelArgs = { inputs: Record<string, tfc.TensorInfo>; backend: unknown; attrs: Record<string, unknown> };

/** Geometry of one (depthwise or dense) 2-D convolution, NHWC, as tfjs computes it. */
interface Geometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  top: number;
  left: number;
}

function geometry(tf: Tfjs, xShape: number[], filterShape: number[], attrs: Record<string, unknown>, depthwise: boolean): Geometry {
  const dataFormat = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new SparseViTError('BACKEND_UNAVAILABLE', `wasm convolution gradients support NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    depthwise,
  );
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    strideH: info.strideHeight,
    strideW: info.strideWidth,
    dilationH: info.dilationHeight,
    dilationW: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * Calls `visit(b, outRow, outCol, kernelRow, kernelCol, xOffset, dyOffset)` for every pair of an
 * output pixel and a kernel tap that reads an input pixel inside the image (offsets in elements,
 * at channel 0).
 */
function forEachTap(g: Geometry, visit: (xOffset: number, dyOffset: number, tap: number) => void): void {
  for (let b = 0; b < g.batch; b++) {
    for (let yR = 0; yR < g.outH; yR++) {
      for (let yC = 0; yC < g.outW; yC++) {
        const dyOffset = ((b * g.outH + yR) * g.outW + yC) * g.outC;
        for (let wR = 0; wR < g.kh; wR++) {
          const xR = yR * g.strideH + wR * g.dilationH - g.top;
          if (xR < 0 || xR >= g.inH) continue;
          for (let wC = 0; wC < g.kw; wC++) {
            const xC = yC * g.strideW + wC * g.dilationW - g.left;
            if (xC < 0 || xC >= g.inW) continue;
            visit(((b * g.inH + xR) * g.inW + xC) * g.inC, dyOffset, wR * g.kw + wC);
          }
        }
      }
    }
  }
}

function output(backend: WasmBackendLike, shape: number[], values: Float64Array): tfc.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  backend.typedArrayFromHeap(out).set(values);
  return out;
}

/** dW[kh, kw, inC, outC] = sum over taps of x[.., inC] * dy[.., outC]. */
function conv2dBackpropFilter(tf: Tfjs, { inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const filterShape = attrs.filterShape as number[];
  const g = geometry(tf, inputs.x.shape, filterShape, { ...attrs, dilations: 1 }, false);
  const x = wasm.typedArrayFromHeap(inputs.x);
  const dy = wasm.typedArrayFromHeap(inputs.dy);
  const dW = new Float64Array(g.kh * g.kw * g.inC * g.outC);
  const { inC, outC } = g;
  forEachTap(g, (xo, dyo, tap) => {
    const base = tap * inC * outC;
    for (let i = 0; i < inC; i++) {
      const xv = x[xo + i];
      if (xv === 0) continue;
      const row = base + i * outC;
      for (let o = 0; o < outC; o++) dW[row + o] += xv * dy[dyo + o];
    }
  });
  return output(wasm, filterShape, dW);
}

/**
 * dW[kh, kw, C, m] = sum over taps of x[.., c] * dy[.., c * m + k]. Loops are written out (no
 * per-tap callback): the depthwise maps are large and their channel runs short (16 to 512), so
 * a call per tap cost more than the arithmetic.
 */
function depthwiseBackpropFilter(tf: Tfjs, { inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const filterShape = attrs.filterShape as number[];
  const g = geometry(tf, inputs.x.shape, filterShape, attrs, true);
  const x = wasm.typedArrayFromHeap(inputs.x);
  const dy = wasm.typedArrayFromHeap(inputs.dy);
  const m = g.outC / g.inC;
  const { inC, outC } = g;
  const dW = new Float64Array(g.kh * g.kw * outC);
  const acc = new Float64Array(outC);
  for (let wR = 0; wR < g.kh; wR++) {
    for (let wC = 0; wC < g.kw; wC++) {
      acc.fill(0);
      for (let b = 0; b < g.batch; b++) {
        for (let yR = 0; yR < g.outH; yR++) {
          const xR = yR * g.strideH + wR * g.dilationH - g.top;
          if (xR < 0 || xR >= g.inH) continue;
          for (let yC = 0; yC < g.outW; yC++) {
            const xC = yC * g.strideW + wC * g.dilationW - g.left;
            if (xC < 0 || xC >= g.inW) continue;
            const xo = ((b * g.inH + xR) * g.inW + xC) * inC;
            const dyo = ((b * g.outH + yR) * g.outW + yC) * outC;
            if (m === 1) {
              for (let c = 0; c < inC; c++) acc[c] += x[xo + c] * dy[dyo + c];
            } else {
              for (let c = 0; c < inC; c++) for (let k = 0; k < m; k++) acc[c * m + k] += x[xo + c] * dy[dyo + c * m + k];
            }
          }
        }
      }
      dW.set(acc, (wR * g.kw + wC) * outC);
    }
  }
  return output(wasm, filterShape, dW);
}

/**
 * dx[.., c] = sum over taps of dy[.., c * m + k] * filter[kh, kw, c, k]. For stride 1, no
 * dilation and multiplier 1 (every depthwise conv of SparseViT) this is the forward depthwise
 * convolution of `dy` with the filter flipped in both axes and the opposite padding, which runs
 * on wasm's own (XNNPACK) kernel; other cases take the loop.
 */
function depthwiseBackpropInput(tf: Tfjs, { inputs, backend, attrs }: KernelArgs): tfc.TensorInfo {
  const wasm = backend as WasmBackendLike;
  const inputShape = attrs.inputShape as number[];
  const g = geometry(tf, inputShape, inputs.filter.shape, attrs, true);
  const m = g.outC / g.inC;
  const forward = tf.getKernel('DepthwiseConv2dNative', 'wasm');
  const bottom = g.outH - 1 + g.kh - g.inH - g.top; // padding the forward pass put below
  const right = g.outW - 1 + g.kw - g.inW - g.left;
  if (forward && m === 1 && g.strideH === 1 && g.strideW === 1 && g.dilationH === 1 && g.dilationW === 1 && g.top === bottom && g.left === right && g.top === g.left) {
    const filter = wasm.typedArrayFromHeap(inputs.filter);
    const flipped = new Float64Array(filter.length);
    const taps = g.kh * g.kw;
    for (let t = 0; t < taps; t++) flipped.set(filter.subarray((taps - 1 - t) * g.inC, (taps - t) * g.inC), t * g.inC);
    const flippedInfo = output(wasm, [...inputs.filter.shape], flipped);
    try {
      const pad = g.kh - 1 - g.top;
      return forward.kernelFunc({ inputs: { x: inputs.dy, filter: flippedInfo }, backend, attrs: { strides: 1, pad, dilations: 1, dataFormat: 'NHWC' } } as never) as tfc.TensorInfo;
    } finally {
      (backend as { disposeData(id: unknown): void }).disposeData(flippedInfo.dataId);
    }
  }
  const filter = wasm.typedArrayFromHeap(inputs.filter);
  const dy = wasm.typedArrayFromHeap(inputs.dy);
  const dx = new Float64Array(g.batch * g.inH * g.inW * g.inC);
  const { inC } = g;
  forEachTap(g, (xo, dyo, tap) => {
    const base = tap * inC * m;
    for (let c = 0; c < inC; c++) {
      let acc = 0;
      for (let k = 0; k < m; k++) acc += dy[dyo + c * m + k] * filter[base + c * m + k];
      dx[xo + c] += acc;
    }
  });
  return output(wasm, inputShape, dx);
}

/**
 * SplitV and Unpack on wasm copy the whole input out of the heap once per part (they are built
 * on its Slice kernel): splitting a 20 MB attention tensor in 5 moved 100 MB. Training splits
 * on every q/k/v and every batched product's gradient, so these copy each part's rows only.
 */
function copyParts(backend: WasmBackendLike, x: tfc.TensorInfo, axis: number, sizes: number[], squeeze: boolean): tfc.TensorInfo[] {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const outer = x.shape.slice(0, a).reduce((n, d) => n * d, 1);
  const inner = x.shape.slice(a + 1).reduce((n, d) => n * d, 1);
  const along = x.shape[a];
  const outs = sizes.map((size) => backend.makeOutput(squeeze ? x.shape.filter((_, i) => i !== a) : x.shape.map((d, i) => (i === a ? size : d)), 'float32'));
  const src = backend.typedArrayFromHeap(x); // after every makeOutput: a heap growth detaches views
  let offset = 0;
  outs.forEach((out, p) => {
    const dst = backend.typedArrayFromHeap(out);
    const run = sizes[p] * inner;
    for (let o = 0; o < outer; o++) dst.set(src.subarray((o * along + offset) * inner, (o * along + offset) * inner + run), o * run);
    offset += sizes[p];
  });
  return outs;
}

function splitV(tf: Tfjs, { inputs, backend, attrs }: KernelArgs): tfc.TensorInfo[] {
  const x = inputs.x;
  const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tfc.Tensor, attrs.numOrSizeSplits as number | number[], axis);
  return copyParts(backend as WasmBackendLike, x, axis, sizes, false);
}

function unpack(_tf: Tfjs, { inputs, backend, attrs }: KernelArgs): tfc.TensorInfo[] {
  const x = inputs.value;
  const axis = (attrs.axis as number) ?? 0;
  const a = axis < 0 ? axis + x.shape.length : axis;
  return copyParts(backend as WasmBackendLike, x, a, Array<number>(x.shape[a]).fill(1), true);
}

/** Replaces a wasm kernel for float32 inputs, keeping the original for other dtypes. */
function replaceKernel(tf: Tfjs, name: string, input: string, fn: (tf: Tfjs, args: KernelArgs) => tfc.TensorInfo | tfc.TensorInfo[]): void {
  const original = tf.getKernel(name, 'wasm');
  if (!original || (original.kernelFunc as unknown as Record<symbol, boolean>)[REPLACED]) return;
  const kernelFunc = ((args: KernelArgs) => (args.inputs[input].dtype === 'float32' ? fn(tf, args) : original.kernelFunc(args as never))) as unknown as tfc.KernelFunc;
  (kernelFunc as unknown as Record<symbol, boolean>)[REPLACED] = true;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}

const REPLACED = Symbol.for('@sparsevit/train:replaced-kernel');

/** Marks the BatchMatMul kernel this module installed (so a second call leaves it as it is). */
const TRANSPOSING_MATMUL = Symbol.for('@sparsevit/train:transposing-batch-matmul');

/**
 * tfjs-backend-wasm's BatchMatMul reaches XNNPACK only when neither operand is transposed; with
 * `transposeA` or `transposeB`, which is how tfjs writes every MatMul gradient (`dy b^T`,
 * `a^T dy`), it runs a generic loop: 222 ms for `[4096, 128] x [512, 128]^T` against 35 ms when
 * `b` is transposed first (435 vs 71 ms for `a^T dy`), measured on one core. This wraps the
 * kernel so that a transposed operand is transposed once (wasm's Transpose kernel), then
 * multiplied plainly. Results are the same products; only the order of the loops changes.
 */
function installTransposingBatchMatMul(tf: Tfjs): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original.kernelFunc as unknown as Record<symbol, boolean>)[TRANSPOSING_MATMUL]) return;
  const multiply = original.kernelFunc;
  const kernelFunc = ((args: KernelArgs) => {
    const { inputs, backend, attrs } = args;
    if (!attrs.transposeA && !attrs.transposeB) return multiply(args as never);
    const temporaries: tfc.TensorInfo[] = [];
    const plain = (t: tfc.TensorInfo, transposed: unknown): tfc.TensorInfo => {
      if (!transposed) return t;
      const perm = t.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      const out = transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } } as never) as tfc.TensorInfo;
      temporaries.push(out);
      return out;
    };
    try {
      const a = plain(inputs.a, attrs.transposeA);
      const b = plain(inputs.b, attrs.transposeB);
      return multiply({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } } as never);
    } finally {
      for (const t of temporaries) (backend as { disposeData(id: unknown): void }).disposeData(t.dataId);
    }
  }) as unknown as tfc.KernelFunc;
  (kernelFunc as unknown as Record<symbol, boolean>)[TRANSPOSING_MATMUL] = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc });
}

/**
 * Makes tfjs's `wasm` backend ready to train: registers the missing convolution gradients (a
 * no-op for kernels it already has, so a later tfjs-backend-wasm that ships them keeps its own)
 * and puts transposed matrix products on XNNPACK (see `installTransposingBatchMatMul`). Call
 * once, before training on wasm; `Trainer` does. Other backends (cpu, webgl, webgpu, tfjs-node)
 * are untouched.
 */
export function registerWasmTrainingKernels(tf: Tfjs): void {
  installTransposingBatchMatMul(tf);
  replaceKernel(tf, 'SplitV', 'x', splitV);
  replaceKernel(tf, 'Unpack', 'value', unpack);
  const kernels: Record<(typeof WASM_GRADIENT_KERNELS)[number], (tf: Tfjs, args: KernelArgs) => tfc.TensorInfo> = {
    Conv2DBackpropFilter: conv2dBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  };
  for (const name of WASM_GRADIENT_KERNELS) {
    if (tf.getKernel(name, 'wasm')) continue;
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: ((args: KernelArgs) => kernels[name](tf, args)) as unknown as tfc.KernelFunc });
  }
}
