/**
 * The names of the files `detect` writes for one input, apart from the writer (which needs
 * sharp), so the output folder can be checked before anything heavy is loaded.
 */

/** File names of one input's outputs, relative to the output folder. */
export interface OutputFiles {
  prob: string;
  mask: string;
  overlay: string;
  json: string;
}

export function outputFiles(stem: string): OutputFiles {
  return { prob: `${stem}.prob.npy`, mask: `${stem}.mask.png`, overlay: `${stem}.overlay.png`, json: `${stem}.json` };
}

/** The names of every file `writeOutputs` writes for `stem`. */
export function outputNames(stem: string): string[] {
  return Object.values(outputFiles(stem));
}
