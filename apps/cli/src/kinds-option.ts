import type { ManipulationKind } from '@sparsevit/synth';
import { numberOption } from './args';
import { UsageError } from './usage-error';

export type KindWeights = Record<ManipulationKind, number>;

/**
 * `--kinds splice=0.5,removal=0.5`: weights of the kinds named (the others weigh 0). One parser
 * for `synth` (what a dataset holds) and `train` (what its on-the-fly samples hold). Async:
 * @sparsevit/synth (and sharp with it) loads only for the commands that use it.
 */
export async function parseKindsOption(command: string, spec: string): Promise<KindWeights> {
  const { MANIPULATION_KINDS } = await import('@sparsevit/synth');
  const weights = Object.fromEntries(MANIPULATION_KINDS.map((k) => [k, 0])) as KindWeights;
  for (const part of spec.split(',')) {
    const [name, value, extra] = part.split('=');
    if (!MANIPULATION_KINDS.includes(name as ManipulationKind) || value === undefined || extra !== undefined) {
      throw new UsageError(`--kinds expects kind=weight pairs (kinds: ${MANIPULATION_KINDS.join(', ')}), got "${part}"`, command);
    }
    weights[name as ManipulationKind] = numberOption(command, 'kinds', value, { min: 0 })!;
  }
  if (!MANIPULATION_KINDS.some((k) => weights[k] > 0)) throw new UsageError('--kinds needs a weight > 0', command);
  return weights;
}

/** `splice=0.4,copy-move=0.2,...`, as `--kinds` takes it. */
export const formatKinds = (weights: KindWeights): string =>
  Object.entries(weights)
    .map(([k, w]) => `${k}=${w}`)
    .join(',');
