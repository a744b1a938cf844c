import { conv2d } from './layers';
import type { TensorOps } from './tensor-ops';

/**
 * `CBlock` (reference `SparseViT.py`), the convolutional block of stages 1 and 2, on an NCHW map:
 *
 *   x = x + pos_embed(x)                                  depthwise 3x3
 *   x = x + conv2(attn(conv1(norm1(x))))                  BatchNorm, 1x1, depthwise 5x5, 1x1
 *   x = x + fc2(gelu(fc1(norm2(x))))                      BatchNorm, 1x1, GELU, 1x1
 *
 * Both BatchNorms (eval mode) are folded into the 1x1 conv that follows them (`conv1`, `mlp.fc1`)
 * when the weights are prepared: a per-channel affine map followed by a 1x1 conv is a 1x1 conv,
 * and a 1x1 conv has no padding, so the fold is exact at the borders too.
 */
export function convBlock<T>(ops: TensorOps<T>, x: T, name: string, channels: number): T {
  x = ops.add(x, conv2d(ops, x, `${name}.pos_embed`, { padding: 1, groups: channels }));
  let y = conv2d(ops, x, `${name}.conv1`);
  y = conv2d(ops, y, `${name}.attn`, { padding: 2, groups: channels });
  x = ops.add(x, conv2d(ops, y, `${name}.conv2`));
  y = ops.gelu(conv2d(ops, x, `${name}.mlp.fc1`));
  return ops.add(x, conv2d(ops, y, `${name}.mlp.fc2`));
}
