import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, CsvWriter, formatCsvRow, parseCsvRow, readCsvRows, repairCsvForResume, type ReportRow } from './csv';

const row: ReportRow = {
  perturbation: 'jpeg:50',
  id: 'Tp/a, "quoted".png',
  image: '/data/Tp/a, "quoted".png',
  mask: 'Negative',
  label: 0,
  status: 'ok',
  error_code: null,
  error: null,
  width: 640,
  height: 480,
  score: 0.8702458143234253,
  pixel_f1: 0.1 + 0.2,
  pixel_iou: 1 / 3,
  pixel_auc: 0,
  pixel_auc_standard: null,
  pixel_best_f1: 5e-324,
  pixel_best_threshold: null,
  empty_mask: true,
  mask_size_mismatch: false,
  ms: 12.5,
};

describe('report CSV', () => {
  it('round-trips every value exactly, with quoting', () => {
    const line = formatCsvRow(row);
    expect(line).toContain('"Tp/a, ""quoted"".png"');
    expect(parseCsvRow(line)).toEqual(row);
    const failed: ReportRow = { ...row, status: 'failed', error_code: 'INVALID_IMAGE', error: 'line one\nline two', score: null, pixel_f1: null, pixel_iou: null, pixel_auc: null, pixel_best_f1: null, empty_mask: null };
    expect(parseCsvRow(formatCsvRow(failed))).toEqual({ ...failed, error: 'line one line two' });
  });

  it('rejects incomplete or malformed lines', () => {
    const line = formatCsvRow(row);
    expect(parseCsvRow(line.slice(0, 30))).toBeNull();
    expect(parseCsvRow(line.replace(',ok,', ',maybe,'))).toBeNull();
    expect(parseCsvRow(line.replace('0.30000000000000004', 'x'))).toBeNull();
  });

  it('repairs a cut file for --resume and appends after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sparsevit-csv-'));
    const path = join(dir, 'report.csv');
    const writer = await CsvWriter.open(path, true);
    await writer.write(row);
    await writer.write({ ...row, id: 'b.png' });
    await writer.close();
    const text = await readFile(path, 'utf8');
    await writeFile(path, `${text}${formatCsvRow({ ...row, id: 'c.png' }).slice(0, 25)}`);
    expect(await repairCsvForResume(path)).toEqual({ rows: 2, droppedBytes: 25 });
    expect(await readFile(path, 'utf8')).toBe(text);
    const appender = await CsvWriter.open(path, false);
    await appender.write({ ...row, id: 'c.png' });
    await appender.close();
    const ids: string[] = [];
    for await (const r of readCsvRows(path)) ids.push(r.id);
    expect(ids).toEqual([row.id, 'b.png', 'c.png']);
    expect(await repairCsvForResume(join(dir, 'missing.csv'))).toBeNull();
    await writeFile(path, CSV_HEADER.slice(0, 10));
    expect((await repairCsvForResume(path))?.rows).toBe(0);
    await writeFile(path, 'a,b,c\n1,2,3\n');
    await expect(repairCsvForResume(path)).rejects.toThrow(/header/);
  });
});
