/**
 * The backend-neutral op set SparseViT is written against. The model is defined once, in this
 * folder, as calls on a `TensorOps<T>`; a backend decides what a call means:
 *
 * - the ONNX lowering (`@sparsevit/onnx`) records each call as a graph node, so `T` is a symbolic
 *   value name;
 * - the TensorFlow.js backend (`@sparsevit/tfjs`) executes each call eagerly, so `T` is a
 *   `tf.Tensor`.
 *
 * The set is deliberately small and made of ops every runtime has. Layout conventions: 4-D
 * feature maps are NCHW (as in the reference PyTorch code), token sequences are `[batch, tokens,
 * channels]`. Shapes passed to `reshape` use `-1` for the batch dimension only, so a graph is
 * valid for any batch size.
 */
export interface TensorOps<T> {
  /** A prepared graph weight by name (see `prepareGraphWeights`), as a constant tensor. */
  weight(name: string): T;
  /** 2-D convolution on NCHW input, OIHW weight, symmetric zero padding. */
  conv2d(x: T, weight: T, bias: T | undefined, options: Conv2dOptions): T;
  /** Matrix product with NumPy broadcasting over leading dimensions. */
  matmul(a: T, b: T): T;
  /** Elementwise sum with NumPy broadcasting. */
  add(a: T, b: T): T;
  /** Elementwise product with NumPy broadcasting. */
  mul(a: T, b: T): T;
  reshape(x: T, shape: readonly number[]): T;
  transpose(x: T, perm: readonly number[]): T;
  /** Splits `x` along `axis` into consecutive parts of the given sizes. */
  split(x: T, axis: number, sizes: readonly number[]): T[];
  /** Layer normalisation over the last axis (biased variance, as `torch.nn.LayerNorm`). */
  layerNorm(x: T, scale: T, bias: T, epsilon: number): T;
  /** GELU in its exact form, `0.5 x (1 + erf(x / sqrt 2))`, as `torch.nn.GELU()`. */
  gelu(x: T): T;
  /** Softmax over the last axis. */
  softmax(x: T): T;
  sigmoid(x: T): T;
  /**
   * Bilinear resize of an NCHW map of spatial size `from` to `to` (`[height, width]`), with
   * half-pixel centres and no anti-aliasing: `F.interpolate(mode='bilinear', align_corners=False)`.
   * Both sizes are given because a recording backend does not track shapes.
   */
  resizeBilinear(x: T, from: readonly [number, number], to: readonly [number, number]): T;
}

export interface Conv2dOptions {
  stride: number;
  padding: number;
  groups: number;
}

/** A prepared, float32 graph weight. */
export interface GraphWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Graph weights by name, ready for a backend (folded and laid out as the graph uses them). */
export type GraphWeights = ReadonlyMap<string, GraphWeight>;
