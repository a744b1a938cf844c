import type { TensorOps } from './tensor-ops';

/**
 * `torch.nn.Linear` on `[rows, in]` tokens. The prepared weight is already laid out `[in, out]`
 * (transposed once at preparation, see `prepareGraphWeights`), so the forward pass is one MatMul.
 */
export function linear<T>(ops: TensorOps<T>, x: T, name: string, hasBias = true): T {
  const y = ops.matmul(x, ops.weight(`${name}.weight`));
  return hasBias ? ops.add(y, ops.weight(`${name}.bias`)) : y;
}

export function layerNorm<T>(ops: TensorOps<T>, x: T, name: string, epsilon: number): T {
  return ops.layerNorm(x, ops.weight(`${name}.weight`), ops.weight(`${name}.bias`), epsilon);
}

export function conv2d<T>(ops: TensorOps<T>, x: T, name: string, options: { stride?: number; padding?: number; groups?: number } = {}): T {
  return ops.conv2d(x, ops.weight(`${name}.weight`), ops.weight(`${name}.bias`), {
    stride: options.stride ?? 1,
    padding: options.padding ?? 0,
    groups: options.groups ?? 1,
  });
}

/**
 * `[B, C, H, W]` feature map -> `[B*H*W, C]` tokens (`x.flatten(2).transpose(1, 2)`, with the
 * batch folded into the rows). Tokens are kept 2-D so that every linear is a plain matrix product
 * with a bias, which runtimes fuse into one GEMM.
 */
export function mapToTokens<T>(ops: TensorOps<T>, x: T, channels: number, side: number): T {
  return ops.reshape(ops.transpose(ops.reshape(x, [-1, channels, side * side]), [0, 2, 1]), [-1, channels]);
}

/** `[B*H*W, C]` tokens -> `[B, C, H, W]` feature map. */
export function tokensToMap<T>(ops: TensorOps<T>, x: T, channels: number, side: number): T {
  return ops.reshape(ops.transpose(ops.reshape(x, [-1, side * side, channels]), [0, 2, 1]), [-1, channels, side, side]);
}
