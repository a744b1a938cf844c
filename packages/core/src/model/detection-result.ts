import type { RawImage } from '../image/raw-image';

/** What every adapter returns for one image, whatever the backend. */
export interface DetectionResult {
  /** The input image's own width and height; `probability` and `mask` have this size. */
  width: number;
  height: number;
  /**
   * Per-pixel probability that the pixel was manipulated, row-major `height x width`, in [0, 1].
   * The network-resolution map resized to the image's size with a Lanczos filter, as the
   * reference evaluation does it (PIL `Image.resize(LANCZOS)` on the float map).
   */
  probability: Float32Array;
  /** 1 where `probability > threshold`, else 0; row-major `height x width`. */
  mask: Uint8Array;
  threshold: number;
  /**
   * Image-level score in [0, 1]: the maximum of the network-resolution probability map
   * (`networkProbability`). A localization model has no separate classifier; the strongest
   * pixel response is the image-level evidence IMDLBenCo's image metrics use. It does not depend
   * on the resampling to the image's size.
   */
  score: number;
  /** `sigmoid(upsampled logits)` at the network's input size (`prob512` of the reference). */
  networkProbability: Float32Array;
  /** Side of `networkProbability` (the config's `img_size`). */
  networkSize: number;
  /** Milliseconds spent in each step for this image. Inference is the batch's time when batched. */
  timings: DetectionTimings;
  /** The decoded pixels, when `returnImage` was asked for (to render an overlay without decoding twice). */
  image?: RawImage;
}

export interface DetectionTimings {
  decodeMs: number;
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface DetectOptions {
  /** Threshold for `mask`; default 0.5. Prediction is `probability > threshold`. */
  threshold?: number;
  /** Keep the decoded image on the result (`result.image`). Default false. */
  returnImage?: boolean;
  /** Abort the call; pending inputs fail with an `AbortError`-like `SparseViTError`. */
  signal?: AbortSignal;
}

export interface DetectBatchOptions extends DetectOptions {
  /** Images per forward pass. Default: the model's `batchSize`. */
  batchSize?: number;
  /** Called after each input settles (for progress bars). */
  onProgress?: (done: number, total: number) => void;
}
