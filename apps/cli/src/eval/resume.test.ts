import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../usage-error';
import { CsvWriter, formatCsvRow } from './csv';
import type { EvalDataset, EvalItem } from './dataset';
import { failedRow, scoredRow } from './report-rows';
import { freshStart, readResumeState, resumeIdentity } from './resume';
import type { EvalSettings } from './settings';

const item = (name: string): EvalItem => ({ id: `Tp/${name}`, image: `/data/Tp/${name}`, mask: `/data/Gt/${name}`, label: 1 });
const metrics = {
  pixel_f1: 0.5,
  pixel_iou: 1 / 3,
  pixel_auc: 0.75,
  pixel_auc_standard: 0.75,
  pixel_best_f1: 0.6,
  pixel_best_threshold: 0.4,
  score: 0.9,
  label: 1 as const,
  empty_mask: false,
};
const ok = (pass: string, name: string) => scoredRow(pass, { item: item(name), width: 4, height: 3 }, metrics, false, 1);
const failed = (pass: string, name: string) => failedRow(pass, { item: item(name) }, { code: 'INVALID_IMAGE', message: 'not an image' }, 1);

const settings = {
  weights: 'w.pth',
  config: 'base',
  protocol: 'imdlbenco',
  threshold: 0.5,
  seed: 0,
  backend: 'onnx',
} as EvalSettings;
const dataset = { path: '/data', layout: 'folder', items: [], pairing: { imagesWithoutMask: [], masksWithoutImage: [], ambiguous: [], ignored: [] } } as EvalDataset;

async function folder() {
  const dir = await mkdtemp(join(tmpdir(), 'sparsevit-resume-'));
  return { dir, files: { csvPath: join(dir, 'report.csv'), jsonPath: join(dir, 'report.json') } };
}

describe('eval --resume', () => {
  it('keeps a preset name and resolves the paths of the identity', () => {
    expect(resumeIdentity(settings, dataset)).toEqual({
      dataset: '/data',
      weights: resolve('w.pth'),
      config: 'base',
      protocol: 'imdlbenco',
      threshold: 0.5,
      seed: 0,
      backend: 'onnx',
      dtype: null,
    });
    expect(resumeIdentity({ ...settings, dtype: 'q8' }, dataset).dtype).toBe('q8');
    expect(resumeIdentity({ ...settings, config: 'my/config.json' }, dataset).config).toBe(resolve('my/config.json'));
    expect(resumeIdentity({ ...settings, config: undefined }, dataset).config).toBeNull();
  });

  it('starts afresh without a report.csv, and says so', async () => {
    const { files } = await folder();
    const lines: string[] = [];
    const state = await readResumeState(files, {}, new Set(['none']), new Set(['Tp/a.png']), (l) => lines.push(l));
    expect(state).toEqual(freshStart());
    expect(lines).toEqual([`sparsevit: --resume: no ${files.csvPath} yet, starting from the beginning`]);
  });

  it('keeps the first row of each planned pass and id, counts the failed ones and drops a cut last row', async () => {
    const { files } = await folder();
    const csv = await CsvWriter.open(files.csvPath, true);
    for (const row of [ok('none', 'a.png'), failed('none', 'b.png'), ok('none', 'a.png'), ok('blur:3', 'a.png'), ok('none', 'gone.png'), failed('jpeg:50', 'a.png')]) {
      await csv.write(row);
    }
    await csv.close();
    const complete = await readFile(files.csvPath, 'utf8');
    await writeFile(files.csvPath, `${complete}${formatCsvRow(ok('none', 'c.png')).slice(0, 20)}`);
    const lines: string[] = [];
    const state = await readResumeState(files, {}, new Set(['none', 'jpeg:50']), new Set(['Tp/a.png', 'Tp/b.png', 'Tp/c.png']), (l) => lines.push(l));
    expect(state.fresh).toBe(false);
    expect(state.rows).toBe(3);
    expect(state.failed).toBe(2);
    expect([...state.done].map((k) => k.split('\u0000'))).toEqual([
      ['none', 'Tp/a.png'],
      ['none', 'Tp/b.png'],
      ['jpeg:50', 'Tp/a.png'],
    ]);
    expect(lines).toEqual([`sparsevit: --resume: dropped an incomplete last row of ${files.csvPath}`]);
    expect(await readFile(files.csvPath, 'utf8')).toBe(complete);
  });

  it('refuses a report.json made with other settings, and accepts the same ones', async () => {
    const { files } = await folder();
    const identity = resumeIdentity(settings, dataset);
    await writeFile(files.jsonPath, JSON.stringify({ resumeIdentity: { ...identity, threshold: 0.4 } }));
    const refused = readResumeState(files, identity, new Set(['none']), new Set(), () => undefined);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(`--resume: ${files.jsonPath} was made with threshold 0.4, not 0.5; use the same settings`);
    // A key the earlier report does not record is no objection.
    const { seed: _seed, ...older } = identity;
    await writeFile(files.jsonPath, JSON.stringify({ resumeIdentity: older }));
    await expect(readResumeState(files, identity, new Set(['none']), new Set(), () => undefined)).resolves.toMatchObject({ fresh: true });
  });

  it('refuses a report.csv that is not an eval report as a usage error', async () => {
    const { files } = await folder();
    await writeFile(files.csvPath, 'a,b,c\n1,2,3\n');
    await expect(readResumeState(files, {}, new Set(['none']), new Set(), () => undefined)).rejects.toThrow(/^--resume: .*does not start with the report header/);
  });
});
