import { FEATURE_NAMES, sparseViTGraph, type Conv2dOptions, type SparseViTConfig, type SparseViTGraphOptions, type TensorOps } from '@sparsevit/core';

/**
 * When each intermediate value of one forward pass is dead. An eager backend that kept every
 * intermediate until the end of the pass (a plain `tf.tidy`) would hold the whole graph's
 * activations at once: gigabytes for the base model, more than the 4 GB a wasm heap can address.
 *
 * The SparseViT definition has no data-dependent control flow, so the sequence of op calls is a
 * function of the config and options alone. Running the definition once against `TracingOps`
 * numbers every value an op creates, in creation order, and counts its uses; the eager run numbers
 * its tensors the same way and frees each one after its last use.
 */
export interface ReleasePlan {
  /** How many values ops create in one pass. */
  readonly values: number;
  /** Uses of each value as an op input. */
  readonly uses: Int32Array;
  /** Values the graph returns (never freed by the plan). */
  readonly pinned: Uint8Array;
  /**
   * Linear layers: a `matmul` output (by value number) read only by an `add` of a weight, mapped
   * to that weight's name. The eager pass computes such a product and its bias as one fused
   * MatMul (one XNNPACK GEMM with the bias in its epilogue) and the `add` passes it on.
   */
  readonly fusedBias: ReadonlyMap<number, string>;
}

/**
 * Not created by an op (the graph input): never counted, never freed. Weights are external too,
 * numbered below it (`-2 - i`) so that the trace knows which weight an op reads.
 */
const EXTERNAL = -1;

/** Core's `TensorOps` recording only which values each call reads and creates. */
class TracingOps implements TensorOps<number> {
  readonly uses: number[] = [];
  readonly weightNames: string[] = [];
  /** `matmul` outputs. */
  readonly products = new Set<number>();
  /** Value -> the weight added to it, for `add(product, weight)`. */
  readonly addedWeight = new Map<number, number>();

  private op(inputs: ReadonlyArray<number | undefined>, outputs = 1): number[] {
    for (const id of inputs) if (id !== undefined && id >= 0) this.uses[id]++;
    const ids: number[] = [];
    for (let i = 0; i < outputs; i++) ids.push(this.uses.push(0) - 1);
    return ids;
  }

  weight(name: string): number {
    return -2 - (this.weightNames.push(name) - 1);
  }
  conv2d(x: number, weight: number, bias: number | undefined, _options: Conv2dOptions): number {
    return this.op([x, weight, bias])[0];
  }
  matmul(a: number, b: number): number {
    const id = this.op([a, b])[0];
    this.products.add(id);
    return id;
  }
  add(a: number, b: number): number {
    if (this.products.has(a) && b < EXTERNAL) this.addedWeight.set(a, b);
    return this.op([a, b])[0];
  }
  mul(a: number, b: number): number {
    return this.op([a, b])[0];
  }
  reshape(x: number): number {
    return this.op([x])[0];
  }
  transpose(x: number): number {
    return this.op([x])[0];
  }
  split(x: number, _axis: number, sizes: readonly number[]): number[] {
    return this.op([x], sizes.length);
  }
  layerNorm(x: number, scale: number, bias: number): number {
    return this.op([x, scale, bias])[0];
  }
  gelu(x: number): number {
    return this.op([x])[0];
  }
  softmax(x: number): number {
    return this.op([x])[0];
  }
  sigmoid(x: number): number {
    return this.op([x])[0];
  }
  resizeBilinear(x: number): number {
    return this.op([x])[0];
  }
}

export function planReleases(config: SparseViTConfig, options: SparseViTGraphOptions = {}): ReleasePlan {
  const tracer = new TracingOps();
  const out = sparseViTGraph(tracer, config, EXTERNAL, options);
  const pinned = new Uint8Array(tracer.uses.length);
  const outputs = [out.logits, out.probability, ...(out.features ? FEATURE_NAMES.map((n) => out.features![n]) : [])];
  for (const id of outputs) if (id >= 0) pinned[id] = 1;
  const fusedBias = new Map<number, string>();
  for (const [id, weight] of tracer.addedWeight) {
    if (tracer.uses[id] === 1 && !pinned[id]) fusedBias.set(id, tracer.weightNames[-2 - weight]);
  }
  return { values: tracer.uses.length, uses: Int32Array.from(tracer.uses), pinned, fusedBias };
}

/**
 * The eager side of a plan, for one pass: numbers the values the pass creates in the order the
 * trace did, counts down their uses, and names each input whose last reader has just run. The
 * backend frees those; the pinned outputs are never named.
 */
export class PlannedPass<T extends object> {
  private readonly remaining: Int32Array;
  private readonly ids = new WeakMap<T, number>();
  private created = 0;

  constructor(readonly plan: ReleasePlan) {
    this.remaining = Int32Array.from(plan.uses);
  }

  /** The number the next value created will get (as in the trace). */
  get nextId(): number {
    return this.created;
  }

  /**
   * Records one op: numbers its `outputs` and returns the `inputs` it was the last reader of, to
   * be freed; `undefined` when the pass created more values than the trace, i.e. does not follow
   * the plan (the caller then stops planning and leaves the rest to its tidy).
   */
  record(inputs: ReadonlyArray<T | undefined>, outputs: readonly T[]): T[] | undefined {
    for (const t of outputs) this.ids.set(t, this.created++);
    if (this.created > this.plan.values) return undefined;
    const dead: T[] = [];
    for (const t of inputs) {
      const id = t === undefined ? undefined : this.ids.get(t);
      if (id !== undefined && --this.remaining[id] === 0 && !this.plan.pinned[id]) dead.push(t!);
    }
    return dead;
  }
}
