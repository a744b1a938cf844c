import { SparseViTError } from '../errors';
import { resizeMaskNearest, type BinaryMask } from './mask';

/**
 * Which prediction is compared with which mask:
 * - `'imdlbenco'`: the network-resolution map (`networkProbability`, `prob512` of the reference)
 *   against the mask resized to `networkSize x networkSize` with nearest neighbour. This is
 *   IMDLBenCo's `is_resizing` test protocol (albumentations `Resize` applies INTER_NEAREST to
 *   masks), the one published SparseViT numbers use.
 * - `'native'`: the full-size map (`probability`, resized to the image with Lanczos) against the
 *   mask at the image's own size. Closer to what a user sees; numbers differ slightly.
 */
export type EvaluationProtocol = 'imdlbenco' | 'native';

export const EVALUATION_PROTOCOLS: readonly EvaluationProtocol[] = ['imdlbenco', 'native'];

/** The parts of a `DetectionResult` the protocols need. */
export interface PredictionMaps {
  /** `networkSize x networkSize` probability map. */
  networkProbability: ArrayLike<number>;
  networkSize: number;
  /** `height x width` probability map at the image's size. */
  probability: ArrayLike<number>;
  width: number;
  height: number;
}

export interface PreparedPair {
  /** Probabilities compared, row-major `height x width` of this pair. */
  pred: ArrayLike<number>;
  /** Binary mask of the same size. */
  gt: Uint8Array;
  width: number;
  height: number;
  /**
   * The mask's size differed from the image's. IMDLBenCo asserts they match and stops; here the
   * mask is resized with nearest neighbour (to the image's size for `'native'`; to the network
   * size, as always, for `'imdlbenco'`) and this flag records it so a report can list such images.
   */
  maskSizeMismatch: boolean;
}

/** Chooses the prediction and the mask to compare for one image under `protocol`. */
export function preparePair(prediction: PredictionMaps, mask: BinaryMask, protocol: EvaluationProtocol): PreparedPair {
  const { width, height, networkSize } = prediction;
  if (mask.data.length !== mask.width * mask.height) {
    throw new SparseViTError('INVALID_ARGUMENT', `mask data has ${mask.data.length} values, expected ${mask.width}x${mask.height}`);
  }
  const maskSizeMismatch = mask.width !== width || mask.height !== height;
  if (protocol === 'imdlbenco') {
    if (prediction.networkProbability.length !== networkSize * networkSize) {
      throw new SparseViTError(
        'INVALID_ARGUMENT',
        `networkProbability has ${prediction.networkProbability.length} values, expected ${networkSize}x${networkSize}`,
      );
    }
    const gt =
      mask.width === networkSize && mask.height === networkSize
        ? mask.data
        : resizeMaskNearest(mask.data, mask.width, mask.height, networkSize, networkSize);
    return { pred: prediction.networkProbability, gt, width: networkSize, height: networkSize, maskSizeMismatch };
  }
  if (protocol === 'native') {
    if (prediction.probability.length !== width * height) {
      throw new SparseViTError('INVALID_ARGUMENT', `probability has ${prediction.probability.length} values, expected ${width}x${height}`);
    }
    const gt = maskSizeMismatch ? resizeMaskNearest(mask.data, mask.width, mask.height, width, height) : mask.data;
    return { pred: prediction.probability, gt, width, height, maskSizeMismatch };
  }
  throw new SparseViTError('INVALID_ARGUMENT', `unknown evaluation protocol ${JSON.stringify(protocol)}; expected 'imdlbenco' or 'native'`);
}
