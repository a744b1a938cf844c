import { resolve } from 'node:path';
import { PRESETS } from '@sparsevit/core';
import { checkResumeIdentity } from '../resume-identity';
import { UsageError } from '../usage-error';
import { readCsvRows, repairCsvForResume } from './csv';
import type { EvalDataset } from './dataset';
import { rowKey } from './report';
import type { EvalSettings } from './settings';

/** What must not change between an interrupted run and its `--resume` (they change the rows). */
export function resumeIdentity(s: EvalSettings, dataset: EvalDataset) {
  return {
    dataset: dataset.path,
    weights: resolve(s.weights),
    config: s.config === undefined ? null : Object.hasOwn(PRESETS, s.config) ? s.config : resolve(s.config),
    protocol: s.protocol,
    threshold: s.threshold,
    seed: s.seed,
    // Rows from two backends differ in their last bits; a resumed report keeps to one.
    backend: s.backend,
    dtype: s.dtype ?? null,
  };
}

/** The rows of report.csv a run keeps and does not run again. */
export interface ResumeState {
  /** `rowKey(pass, id)` of each row kept. */
  done: Set<string>;
  /** Rows kept, and how many of them failed. */
  rows: number;
  failed: number;
  /** Whether report.csv is started anew (nothing kept), else appended to. */
  fresh: boolean;
}

/** A run from the beginning: nothing kept. */
export const freshStart = (): ResumeState => ({ done: new Set(), rows: 0, failed: 0, fresh: true });

export interface ResumeFiles {
  csvPath: string;
  jsonPath: string;
}

/**
 * `--resume`: refuses a report.json made with another `identity`, drops an incomplete last row of
 * report.csv, and keeps each row whose pass is in `passNames` and whose id is in `ids` (the first
 * one of each pass and id). Without a report.csv it is a fresh start. `warn` gets each notice.
 */
export async function readResumeState(
  files: ResumeFiles,
  identity: Record<string, unknown>,
  passNames: ReadonlySet<string>,
  ids: ReadonlySet<string>,
  warn: (line: string) => void,
): Promise<ResumeState> {
  const { csvPath, jsonPath } = files;
  await checkResumeIdentity('eval', jsonPath, identity);
  let repaired;
  try {
    repaired = await repairCsvForResume(csvPath);
  } catch (error) {
    throw new UsageError(`--resume: ${(error as Error).message}`, 'eval');
  }
  const state = freshStart();
  if (repaired === null) {
    warn(`sparsevit: --resume: no ${csvPath} yet, starting from the beginning`);
    return state;
  }
  state.fresh = false;
  if (repaired.droppedBytes > 0) warn(`sparsevit: --resume: dropped an incomplete last row of ${csvPath}`);
  for await (const row of readCsvRows(csvPath)) {
    const key = rowKey(row.perturbation, row.id);
    if (!passNames.has(row.perturbation) || !ids.has(row.id) || state.done.has(key)) continue;
    state.done.add(key);
    state.rows++;
    if (row.status === 'failed') state.failed++;
  }
  return state;
}
