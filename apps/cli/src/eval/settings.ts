import type { EvaluationProtocol } from '@sparsevit/core';
import type { ModelCommandSettings } from '../model-options';
import type { Perturbation } from './perturb';

/** `sparsevit eval`'s command line, checked. */
export interface EvalSettings extends ModelCommandSettings {
  dataset: string;
  protocol: EvaluationProtocol;
  skipUnpaired: boolean;
  resume: boolean;
  perturbations: Perturbation[];
  seed: number;
  show: number;
}

/** What each `--protocol` compares, as report.json and report.html say it. */
export const PROTOCOL_DESCRIPTIONS: Record<EvaluationProtocol, string> = {
  imdlbenco:
    "network-resolution probability (img_size x img_size) against the mask resized to that size with OpenCV nearest neighbour (IMDLBenCo's is_resizing test protocol)",
  native: "full-size probability (Lanczos-resized to the image) against the mask at the image's size",
};
