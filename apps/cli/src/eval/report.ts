import { createEvaluationAccumulator, type EvaluationSummary } from '@sparsevit/core';
import { openAtomic, writeError } from '../atomic-write';
import { readCsvRows, type ReportRow } from './csv';

/** One evaluation pass: the unperturbed reference (`none`) or one perturbation. */
export interface PassInfo {
  name: string;
  kind: string;
  strength: number | null;
}

export type PassSummary = PassInfo & EvaluationSummary;

export interface ReportFailure {
  perturbation: string;
  id: string;
  code: string | null;
  error: string;
}

/** Keeps the `n` first items under `cmp` (ascending) of a stream, in order. */
class Bounded<T> {
  readonly items: T[] = [];
  constructor(
    private readonly n: number,
    private readonly cmp: (a: T, b: T) => number,
  ) {}
  offer(x: T): void {
    if (this.n <= 0) return;
    if (this.items.length === this.n && this.cmp(x, this.items[this.n - 1]) >= 0) return;
    let i = this.items.length;
    while (i > 0 && this.cmp(x, this.items[i - 1]) < 0) i--;
    this.items.splice(i, 0, x);
    if (this.items.length > this.n) this.items.pop();
  }
}

interface Ranked {
  row: ReportRow;
  order: number;
}

/** Best first: higher pixel F1, then earlier in the dataset. */
const bestFirst = (a: Ranked, b: Ranked) => (b.row.pixel_f1 as number) - (a.row.pixel_f1 as number) || a.order - b.order;
const worstFirst = (a: Ranked, b: Ranked) => -bestFirst(a, b);

class Selection {
  private readonly best: Bounded<Ranked>;
  private readonly worst: Bounded<Ranked>;
  count = 0;
  constructor(private readonly n: number) {
    this.best = new Bounded(2 * n, bestFirst);
    this.worst = new Bounded(2 * n, worstFirst);
  }
  offer(r: Ranked): void {
    this.count++;
    this.best.offer(r);
    this.worst.offer(r);
  }
  /** Best `n` and worst `n`, disjoint; with at most `2n` candidates they split them in two. */
  pick(): { best: ReportRow[]; worst: ReportRow[] } {
    if (this.count <= 2 * this.n) {
      const all = this.best.items;
      const half = Math.ceil(all.length / 2);
      return { best: all.slice(0, half).map((r) => r.row), worst: all.slice(half).reverse().map((r) => r.row) };
    }
    return { best: this.best.items.slice(0, this.n).map((r) => r.row), worst: this.worst.items.slice(0, this.n).map((r) => r.row) };
  }
}

export interface CsvSummary {
  passes: PassSummary[];
  failures: ReportFailure[];
  /** Rows counted (in the plan, first occurrence of each key). */
  rows: number;
  /** Sum of the `ms` column of the counted rows. */
  rowMs: number;
  /** Images of the unperturbed pass whose mask is not at the image's size (resized to score them). */
  maskSizeMismatch: number;
  /** Best / worst rows of the unperturbed pass by pixel F1 (manipulated images when there are any). */
  best: ReportRow[];
  worst: ReportRow[];
}

export const rowKey = (perturbation: string, id: string) => `${perturbation}\u0000${id}`;

/**
 * The report's numbers, recomputed from `report.csv` (so a resumed run and an uninterrupted one
 * agree exactly): every row whose pass and id are in the plan, first occurrence only, in file
 * order, fed to one core accumulator per pass.
 */
export async function summarizeCsv(
  csvPath: string,
  passes: readonly PassInfo[],
  ids: ReadonlySet<string>,
  threshold: number,
  show: number,
): Promise<CsvSummary> {
  const accumulators = new Map(passes.map((p) => [p.name, createEvaluationAccumulator({ threshold })]));
  const seen = new Set<string>();
  const failures: ReportFailure[] = [];
  const manipulated = new Selection(show);
  const any = new Selection(show);
  let rows = 0;
  let rowMs = 0;
  let maskSizeMismatch = 0;
  for await (const row of readCsvRows(csvPath)) {
    const acc = accumulators.get(row.perturbation);
    if (!acc || !ids.has(row.id)) continue;
    const key = rowKey(row.perturbation, row.id);
    if (seen.has(key)) continue;
    seen.add(key);
    rows++;
    rowMs += row.ms ?? 0;
    if (row.perturbation === 'none' && row.mask_size_mismatch === true) maskSizeMismatch++;
    if (row.status === 'failed') {
      acc.add({ id: row.id, error: row.error ?? '', ...(row.error_code ? { code: row.error_code } : {}) });
      failures.push({ perturbation: row.perturbation, id: row.id, code: row.error_code, error: row.error ?? '' });
      continue;
    }
    acc.add({
      id: row.id,
      pixel_f1: row.pixel_f1 as number,
      pixel_iou: row.pixel_iou as number,
      pixel_auc: row.pixel_auc as number,
      pixel_auc_standard: row.pixel_auc_standard,
      pixel_best_f1: row.pixel_best_f1 as number,
      pixel_best_threshold: row.pixel_best_threshold,
      score: row.score as number,
      label: row.label,
      empty_mask: row.empty_mask === true,
    });
    if (row.perturbation === 'none') {
      const ranked = { row, order: rows };
      any.offer(ranked);
      if (!row.empty_mask) manipulated.offer(ranked);
    }
  }
  const picked = (manipulated.count > 0 ? manipulated : any).pick();
  return {
    passes: passes.map((p) => ({ ...p, ...accumulators.get(p.name)!.summary() })),
    failures,
    rows,
    rowMs,
    maskSizeMismatch,
    ...picked,
  };
}

/**
 * Writes `report.json`: `head` (pretty-printed), then `rows` streamed from the CSV (one compact
 * object a line; same filter as {@link summarizeCsv}), so the rows never sit in memory. Written to
 * a temporary file and renamed.
 */
export async function writeReportJson(
  path: string,
  head: Record<string, unknown>,
  csvPath: string | null,
  passes: readonly PassInfo[],
  ids: ReadonlySet<string>,
): Promise<void> {
  // Through a temporary file beside it (never through a link), renamed when complete.
  const file = await openAtomic(path);
  let buffered: string[] = [];
  let size = 0;
  const flush = async () => {
    const text = buffered.join('');
    buffered = [];
    size = 0;
    await file.handle.write(text);
  };
  const write = async (s: string) => {
    buffered.push(s);
    size += s.length;
    if (size >= 1 << 16) await flush();
  };
  try {
    await writeRows(write, head, csvPath, passes, ids);
    await flush();
  } catch (error) {
    await file.abort();
    throw writeError(path, error);
  }
  await file.commit();
}

async function writeRows(
  write: (s: string) => Promise<void>,
  head: Record<string, unknown>,
  csvPath: string | null,
  passes: readonly PassInfo[],
  ids: ReadonlySet<string>,
): Promise<void> {
  const text = JSON.stringify(head, null, 2);
  await write(`${text.slice(0, text.lastIndexOf('}')).replace(/\s*$/, '')},\n  "rows": [`);
  if (csvPath) {
    const names = new Set(passes.map((p) => p.name));
    const seen = new Set<string>();
    let first = true;
    for await (const row of readCsvRows(csvPath)) {
      if (!names.has(row.perturbation) || !ids.has(row.id)) continue;
      const key = rowKey(row.perturbation, row.id);
      if (seen.has(key)) continue;
      seen.add(key);
      await write(`${first ? '' : ','}\n    ${JSON.stringify(row)}`);
      first = false;
    }
    if (!first) await write('\n  ');
  }
  await write(']\n}\n');
}
