/**
 * A small seeded PRNG (mulberry32) for initial weights and shuffling: a run is a pure function of
 * its seed, on every engine (tfjs's own random ops differ between backends).
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator's state, to checkpoint and restore. */
  get seedState(): number {
    return this.state;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** `torch.nn.init.trunc_normal_(std=std)`: normal resampled outside [-2, 2] (absolute bounds). */
  truncatedNormal(std: number): number {
    for (;;) {
      const v = this.normal() * std;
      if (v >= -2 && v <= 2) return v;
    }
  }
}
