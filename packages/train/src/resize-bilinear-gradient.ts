import { bilinearResizeMatrix } from '@sparsevit/core';
import type { Tfjs } from '@sparsevit/tfjs';
import type * as tfc from '@tensorflow/tfjs-core';

/**
 * tfjs 4.22's ResizeBilinear gradient ignores `halfPixelCenters`: every backend's
 * `ResizeBilinearGrad` kernel maps output to input pixels as `align_corners=False` *without* the
 * half-pixel shift, so the gradient of the resize SparseViT uses (PyTorch's
 * `F.interpolate(bilinear, align_corners=False)`, half-pixel centres) is that of a map shifted by
 * almost half an input pixel: at the x16 upsampling of the loss, ~7.5 output pixels. Measured on
 * the tiny config, the first layer's gradient came out 27% off central finite differences on both
 * cpu and wasm.
 *
 * The resize is linear and separable, `Y = R_h X R_w^T` per channel, so its exact adjoint is
 * `dX = R_h^T dY R_w`, with core's `bilinearResizeMatrix` (the forward rule) applied as two
 * plain MatMuls.
 */
/** `dX` for `dY` of a half-pixel bilinear resize of NHWC `[b, h, w, c]` images. */
function halfPixelResizeAdjoint(tf: Tfjs, dy: tfc.Tensor, imageShape: number[]): tfc.Tensor {
  const [b, h, w, c] = imageShape;
  const [, oh, ow] = dy.shape;
  const rw = tf.tensor2d(bilinearResizeMatrix(w, ow), [ow, w]);
  const rh = tf.tensor2d(bilinearResizeMatrix(h, oh), [oh, h]);
  // [b, oh, ow, c] -> [b, c, oh, ow] -> x R_w -> [b, c, oh, w] -> swap -> x R_h -> [b, c, w, h].
  const planes = tf.reshape(tf.transpose(dy, [0, 3, 1, 2]), [b * c * oh, ow]);
  const alongW = tf.reshape(tf.matMul(planes, rw), [b * c, oh, w]);
  const swapped = tf.reshape(tf.transpose(alongW, [0, 2, 1]), [b * c * w, oh]);
  const alongH = tf.reshape(tf.matMul(swapped, rh), [b, c, w, h]);
  return tf.transpose(alongH, [0, 3, 2, 1]);
}

const INSTALLED = Symbol.for('@sparsevit/train:half-pixel-resize-gradient');

/**
 * Replaces tfjs's ResizeBilinear gradient by the exact one for `halfPixelCenters: true` (the
 * original stays in use for other settings). Global to the tfjs instance, like any gradient
 * registration; `Trainer` installs it.
 */
export function installResizeBilinearGradient(tf: Tfjs): void {
  const original = tf.getGradient('ResizeBilinear');
  if (!original || (original.gradFunc as unknown as Record<symbol, boolean>)[INSTALLED]) return;
  const gradFunc = ((dy: tfc.Tensor, saved: tfc.Tensor[], attrs: Record<string, unknown>) => {
    if (!attrs.halfPixelCenters || attrs.alignCorners) return original.gradFunc(dy, saved, attrs as never);
    return { images: () => halfPixelResizeAdjoint(tf, dy, saved[0].shape) };
  }) as unknown as tfc.GradFunc;
  (gradFunc as unknown as Record<symbol, boolean>)[INSTALLED] = true;
  // tfjs warns when a gradient is overridden; this one is meant to be.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient({ ...original, gradFunc });
  } finally {
    console.warn = warn;
  }
}
