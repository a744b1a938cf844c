import { constants, createReadStream } from 'node:fs';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { writeError, writeFileAtomic } from '../atomic-write';
import { createInterface } from 'node:readline';

/**
 * `report.csv`: one row per (perturbation, image), written as the run goes. Numbers are written
 * with JavaScript's shortest round-trip representation (`String(x)`), so reading a row back
 * gives the very same doubles: a resumed run feeds the accumulator exactly what an uninterrupted
 * run computed. Fields are quoted when they hold a comma or a quote (RFC 4180); line breaks in
 * paths or messages are replaced by spaces, so every row is one line.
 */
/** One row of the report, as written to the CSV and to `report.json`'s `rows`. */
export interface ReportRow {
  perturbation: string;
  id: string;
  image: string;
  /** Mask path, or `Negative`. */
  mask: string;
  label: 0 | 1;
  status: 'ok' | 'failed';
  error_code: string | null;
  error: string | null;
  width: number | null;
  height: number | null;
  score: number | null;
  pixel_f1: number | null;
  pixel_iou: number | null;
  pixel_auc: number | null;
  pixel_auc_standard: number | null;
  pixel_best_f1: number | null;
  pixel_best_threshold: number | null;
  empty_mask: boolean | null;
  mask_size_mismatch: boolean | null;
  ms: number | null;
}

/** How a cell is read back; an empty cell is `null` for the nullable kinds. */
type CellKind = 'text' | 'nullable-text' | 'number' | 'boolean' | 'label' | 'status';

/**
 * The columns, in file order, each with how it is parsed: the one list the header, the writer and
 * the reader follow (`satisfies` keeps it in step with `ReportRow`).
 */
const COLUMN_KINDS = {
  perturbation: 'text',
  id: 'text',
  image: 'text',
  mask: 'text',
  label: 'label',
  status: 'status',
  error_code: 'nullable-text',
  error: 'nullable-text',
  width: 'number',
  height: 'number',
  score: 'number',
  pixel_f1: 'number',
  pixel_iou: 'number',
  pixel_auc: 'number',
  pixel_auc_standard: 'number',
  pixel_best_f1: 'number',
  pixel_best_threshold: 'number',
  empty_mask: 'boolean',
  mask_size_mismatch: 'boolean',
  ms: 'number',
} as const satisfies Record<keyof ReportRow, CellKind>;

export const CSV_COLUMNS = Object.keys(COLUMN_KINDS) as Array<keyof ReportRow>;

export const CSV_HEADER = CSV_COLUMNS.join(',');

/** The text a value is stored as; line breaks become spaces. */
export function oneLineField(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ');
}

function field(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = oneLineField(String(v));
  return /[",]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatCsvRow(row: ReportRow): string {
  return CSV_COLUMNS.map((c) => field(row[c])).join(',');
}

/** Splits one CSV line (RFC 4180 quoting, no line breaks inside fields). `null` when malformed. */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        s += line.slice(i, q);
        if (line[q + 1] === '"') {
          s += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(s);
      if (i === line.length) return out;
      if (line[i] !== ',') return null;
      i++;
    } else {
      const c = line.indexOf(',', i);
      if (c < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
}

/** Parses a data line into a row; `null` when it is not a complete, well-formed row. */
export function parseCsvRow(line: string): ReportRow | null {
  const cells = splitCsvLine(line);
  if (!cells || cells.length !== CSV_COLUMNS.length) return null;
  const row: Record<string, unknown> = {};
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    const name = CSV_COLUMNS[i];
    const cell = cells[i];
    switch (COLUMN_KINDS[name]) {
      case 'number': {
        const n = Number(cell);
        if (cell !== '' && Number.isNaN(n)) return null;
        row[name] = cell === '' ? null : n;
        break;
      }
      case 'boolean':
        if (cell !== '' && cell !== 'true' && cell !== 'false') return null;
        row[name] = cell === '' ? null : cell === 'true';
        break;
      case 'label':
        if (cell !== '0' && cell !== '1') return null;
        row[name] = Number(cell);
        break;
      case 'status':
        if (cell !== 'ok' && cell !== 'failed') return null;
        row[name] = cell;
        break;
      case 'nullable-text':
        row[name] = cell === '' ? null : cell;
        break;
      case 'text':
        row[name] = cell;
        break;
    }
  }
  const r = row as unknown as ReportRow;
  if (r.status === 'ok' && (r.score === null || r.pixel_f1 === null || r.pixel_iou === null || r.pixel_auc === null || r.pixel_best_f1 === null)) return null;
  return r;
}

/** Streams the rows of a report CSV (the header checked), in file order. */
export async function* readCsvRows(path: string): AsyncGenerator<ReportRow> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let first = true;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (first) {
      first = false;
      if (line.replace(/^\uFEFF/, '') !== CSV_HEADER) throw new Error(`${path}: unexpected header (not a sparsevit eval report?)`);
      continue;
    }
    if (line === '') continue;
    const row = parseCsvRow(line);
    if (!row) throw new Error(`${path}: line ${n} is not a valid report row`);
    yield row;
  }
}

/**
 * Prepares `path` for appending after an interrupted run: checks the header and drops an
 * incomplete last line (a row cut by a kill) or malformed trailing garbage, truncating the file
 * to its last complete row. Returns how many rows remain, or `null` when the file is missing.
 */
export async function repairCsvForResume(path: string): Promise<{ rows: number; droppedBytes: number } | null> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const text = buffer.toString('utf8');
  const headerEnd = text.indexOf('\n');
  const header = (headerEnd < 0 ? text : text.slice(0, headerEnd)).replace(/\r$/, '').replace(/^\uFEFF/, '');
  if (header !== CSV_HEADER) {
    if (text.trim() === '' || CSV_HEADER.startsWith(header)) {
      // Empty, or cut inside the header: start again.
      await truncate(path, 0);
      return { rows: 0, droppedBytes: buffer.length };
    }
    throw new Error(`${path} does not start with the report header (not a sparsevit eval report?)`);
  }
  if (headerEnd < 0) {
    await truncate(path, 0);
    return { rows: 0, droppedBytes: buffer.length };
  }
  // Keep complete, valid lines; stop at the first bad or unterminated one.
  let keep = headerEnd + 1;
  let rows = 0;
  for (;;) {
    const end = text.indexOf('\n', keep);
    if (end < 0) break;
    const line = text.slice(keep, end).replace(/\r$/, '');
    if (line !== '' && !parseCsvRow(line)) break;
    if (line !== '') rows++;
    keep = end + 1;
  }
  const keepBytes = Buffer.byteLength(text.slice(0, keep), 'utf8');
  if (keepBytes < buffer.length) await truncate(path, keepBytes);
  return { rows, droppedBytes: buffer.length - keepBytes };
}

/** Appends rows one by one; each is handed to the OS at once (an interrupted run keeps them). */
export class CsvWriter {
  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private sinceSync = 0,
  ) {}

  /**
   * Opens `path` to append (`fresh`: a new file holding the header, written atomically, which
   * replaces whatever was there, a link included). Never through a link (`O_NOFOLLOW`): a
   * `report.csv` that is a symbolic link when a run resumes is refused with `IO_ERROR`. A row cut
   * by a full disk or a kill is dropped by `repairCsvForResume`.
   */
  static async open(path: string, fresh: boolean): Promise<CsvWriter> {
    if (fresh) await writeFileAtomic(path, `${CSV_HEADER}\n`);
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_NOFOLLOW);
    } catch (error) {
      throw writeError(path, (error as NodeJS.ErrnoException).code === 'ELOOP' ? new Error('it is a symbolic link; refusing to write through it') : error);
    }
    return new CsvWriter(handle, path);
  }

  private async append(text: string): Promise<void> {
    try {
      await this.handle.write(text);
    } catch (error) {
      throw writeError(this.path, error);
    }
  }

  async write(row: ReportRow): Promise<void> {
    await this.append(`${formatCsvRow(row)}\n`);
    if (++this.sinceSync >= 64) await this.sync();
  }

  async sync(): Promise<void> {
    this.sinceSync = 0;
    await this.handle.datasync().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.sync();
    await this.handle.close();
  }
}
