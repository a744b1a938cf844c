import { probabilityToMask, renderHeatmap, renderMask, renderOverlay, SparseViTError, type DetectionResult, type OverlayOptions, type RawImage } from '@sparsevit/core';

export type RenderMode = 'overlay' | 'heatmap' | 'mask';

export interface RenderOptions extends OverlayOptions {
  /** Default `overlay` when the image is known, else `heatmap`. */
  mode?: RenderMode;
  /** The image under the overlay; default `result.image` (ask for it with `returnImage: true`). */
  image?: RawImage;
  /**
   * Threshold for `mask` mode; default the result's own mask (`result.threshold`). A different
   * value re-thresholds `result.probability` without running the model again.
   */
  maskThreshold?: number;
}

/** A mask at a threshold: 1 where `probability > threshold`. */
export function thresholdMask(result: DetectionResult, threshold: number): Uint8Array {
  return threshold === result.threshold ? result.mask : probabilityToMask(result.probability, threshold);
}

/** A result as `ImageData` (core's renderers: overlay, Turbo heatmap or black/white mask). */
export function resultToImageData(result: DetectionResult, options: RenderOptions = {}): ImageData {
  const image = options.image ?? result.image;
  const mode = options.mode ?? (image ? 'overlay' : 'heatmap');
  const { width, height } = result;
  let rgba: Uint8ClampedArray;
  if (mode === 'overlay') {
    if (!image) throw new SparseViTError('INVALID_ARGUMENT', 'overlay needs the image: detect with `returnImage: true` or pass `image`');
    rgba = renderOverlay(image, result.probability, options);
  } else if (mode === 'heatmap') {
    rgba = renderHeatmap(result.probability, width, height);
  } else {
    rgba = renderMask(thresholdMask(result, options.maskThreshold ?? result.threshold), width, height);
  }
  return new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height);
}

/** Draws a result onto a canvas (resized to the image's size) with `putImageData`. */
export function drawResult(canvas: HTMLCanvasElement | OffscreenCanvas, result: DetectionResult, options: RenderOptions = {}): void {
  const imageData = resultToImageData(result, options);
  canvas.width = result.width;
  canvas.height = result.height;
  const context = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!context) throw new SparseViTError('INVALID_ARGUMENT', 'the canvas has no 2D context (is it already used for WebGL?)');
  context.putImageData(imageData, 0, 0);
}

/** The binary mask as a PNG file (white = manipulated), e.g. for a download link. */
export async function maskToPng(result: DetectionResult, threshold: number = result.threshold): Promise<Blob> {
  const canvas = new OffscreenCanvas(result.width, result.height);
  drawResult(canvas, result, { mode: 'mask', maskThreshold: threshold });
  return canvas.convertToBlob({ type: 'image/png' });
}
