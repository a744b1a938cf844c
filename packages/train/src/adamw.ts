import type { Tfjs } from '@sparsevit/tfjs';
import type * as tfc from '@tensorflow/tfjs-core';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (`torch.optim.AdamW`); the authors use 0.05. */
  weightDecay?: number;
}

/** The optimizer's state for one parameter, in the checkpoint. */
export interface AdamWSlot {
  m: Float32Array;
  v: Float32Array;
}

/**
 * AdamW exactly as `torch.optim.AdamW` (decay applied to the parameter before the Adam step,
 * bias-corrected moments, epsilon outside the square root), over tfjs variables.
 *
 * Weight decay applies to parameters of rank >= 2 only: biases, norms and layer scales are
 * excluded, as `param_groups_weight_decay` does in the code the authors train with.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly m = new Map<string, tfc.Variable>();
  private readonly v = new Map<string, tfc.Variable>();
  /** Optimizer steps taken (the `t` of the bias correction). */
  steps = 0;

  constructor(
    private readonly tf: Tfjs,
    private readonly params: ReadonlyMap<string, tfc.Variable>,
    options: AdamWOptions = {},
  ) {
    ({ beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay } = adamwDefaults(options));
    for (const [name, p] of params) {
      this.m.set(name, tf.variable(tf.zerosLike(p), false));
      this.v.set(name, tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Applies one step with gradients `grads` (by parameter name) at learning rate `lr`. */
  apply(grads: Record<string, tfc.Tensor>, lr: number): void {
    const tf = this.tf;
    this.steps++;
    const c1 = 1 - this.beta1 ** this.steps;
    const c2 = 1 - this.beta2 ** this.steps;
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) continue;
      const m = this.m.get(name) as tfc.Variable;
      const v = this.v.get(name) as tfc.Variable;
      tf.tidy(() => {
        const decayed = p.rank >= 2 && this.weightDecay > 0 ? tf.mul(p, 1 - lr * this.weightDecay) : p;
        const m2 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v2 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v2), Math.sqrt(c2)), this.epsilon);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m2, denom), lr / c1)));
        m.assign(m2);
        v.assign(v2);
      });
    }
  }

  /** The moments, for a checkpoint. */
  state(): Map<string, AdamWSlot> {
    const out = new Map<string, AdamWSlot>();
    for (const name of this.params.keys()) {
      out.set(name, { m: (this.m.get(name) as tfc.Variable).dataSync() as Float32Array, v: (this.v.get(name) as tfc.Variable).dataSync() as Float32Array });
    }
    return out;
  }

  /** Restores moments and step count from a checkpoint. */
  restore(state: ReadonlyMap<string, AdamWSlot>, steps: number): void {
    const tf = this.tf;
    for (const [name, slot] of state) {
      const m = this.m.get(name);
      const v = this.v.get(name);
      if (!m || !v) continue;
      m.assign(tf.tensor(slot.m, m.shape, 'float32'));
      v.assign(tf.tensor(slot.v, v.shape, 'float32'));
    }
    this.steps = steps;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * The same AdamW step as `AdamW.apply`, on plain arrays (the ONNX Runtime trainer keeps its
 * parameters in JavaScript): updates `param`, `slot.m` and `slot.v` in place for optimizer step
 * `step` (1-based, the `t` of the bias correction). `decay`: the parameter has rank >= 2.
 */
export function adamwUpdate(param: Float32Array, grad: Float32Array, slot: AdamWSlot, lr: number, step: number, options: Required<AdamWOptions>, decay: boolean): void {
  const { beta1, beta2, epsilon, weightDecay } = options;
  const c1 = 1 - beta1 ** step;
  const sqrtC2 = Math.sqrt(1 - beta2 ** step);
  const keep = decay && weightDecay > 0 ? 1 - lr * weightDecay : 1;
  const stepSize = lr / c1;
  const { m, v } = slot;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] = param[i] * keep - (mi / (Math.sqrt(vi) / sqrtC2 + epsilon)) * stepSize;
  }
}

/** `AdamWOptions` with the defaults of `AdamW` filled in. */
export function adamwDefaults(options: AdamWOptions = {}): Required<AdamWOptions> {
  return { beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-8, weightDecay: options.weightDecay ?? 0.05 };
}
