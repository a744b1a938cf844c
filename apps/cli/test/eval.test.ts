import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, type DetectionResult } from '@sparsevit/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CASES, CHECKPOINT, CONFIG, readJson, runCli, tempDir, tiny, writeCasesFolder, type CliRun } from './helpers';
import { imageLevel, mean, nearest, readBinaryMask, referenceMetrics, type Reference } from './reference-metrics';

/**
 * `sparsevit eval` end to end on the tiny model. The expected numbers are computed here, from
 * probability maps of `@sparsevit/node` run in the test process and masks read with sharp, with
 * the plain implementations of `reference-metrics.ts` (not core's metrics code).
 */

const MODEL = ['--weights', CHECKPOINT, '--config', CONFIG];
const CSV_HEADER =
  'perturbation,id,image,mask,label,status,error_code,error,width,height,score,pixel_f1,pixel_iou,pixel_auc,pixel_auc_standard,pixel_best_f1,pixel_best_threshold,empty_mask,mask_size_mismatch,ms';

let root: string;
/** Tp/ + Gt/ with CASIA-style `_gt` mask names. */
let folder: string;
const maps = new Map<string, DetectionResult>();

beforeAll(async () => {
  root = await tempDir('eval');
  folder = await writeCasesFolder(join(root, 'casia'));
  const model = await loadModel({ weights: CHECKPOINT, config: JSON.parse(await readFile(CONFIG, 'utf8')) });
  try {
    for (const c of CASES) maps.set(c.stem, await model.detect(tiny('images', c.image)));
  } finally {
    await model.dispose();
  }
});

/** The reference metrics of one fixture image under a protocol (`empty`: an all-zero mask). */
async function expected(stem: string, protocol: 'imdlbenco' | 'native', empty = false): Promise<Reference & { score: number }> {
  const r = maps.get(stem)!;
  const mask = empty
    ? { data: new Uint8Array(r.width * r.height), width: r.width, height: r.height }
    : await readBinaryMask(tiny('images', `${stem}_gt.png`));
  const S = r.networkSize;
  const m =
    protocol === 'imdlbenco'
      ? referenceMetrics(r.networkProbability, nearest(mask.data, mask.width, mask.height, S, S))
      : referenceMetrics(r.probability, mask.data);
  let score = 0;
  for (const v of r.networkProbability) score = Math.max(score, v);
  return { ...m, score };
}

interface Row {
  perturbation: string;
  id: string;
  status: string;
  label: number;
  score: number;
  pixel_f1: number;
  pixel_iou: number;
  pixel_auc: number;
  pixel_auc_standard: number | null;
  pixel_best_f1: number;
  empty_mask: boolean;
  error_code: string | null;
  [key: string]: unknown;
}

function expectRow(row: Row, e: Reference & { score: number }) {
  expect(row.status).toBe('ok');
  expect(row.score).toBeCloseTo(e.score, 6);
  expect(row.pixel_f1).toBeCloseTo(e.f1, 9);
  expect(row.pixel_iou).toBeCloseTo(e.iou, 9);
  expect(row.pixel_best_f1).toBeCloseTo(e.bestF1, 9);
  if (e.auc === null) expect(row.pixel_auc_standard).toBeNull();
  else expect(row.pixel_auc_standard).toBeCloseTo(e.auc, 9);
  expect(row.pixel_auc).toBeCloseTo(e.aucBenco, 6);
  expect(row.empty_mask).toBe(e.empty);
}

/** Every http(s) URL, external src/href, script or import in a page that must stand alone. */
function externalReferences(html: string): string[] {
  const found = [...html.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0]);
  for (const m of html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]+)/gi)) if (!m[1].startsWith('data:') && !m[1].startsWith('#')) found.push(m[0]);
  for (const m of html.matchAll(/<(?:script|link|iframe|object|embed)\b|@import|url\((?!\s*['"]?data:)/gi)) found.push(m[0]);
  return found;
}

describe('sparsevit eval on a Tp/ + Gt/ folder (imdlbenco protocol) with a perturbation sweep', () => {
  let out: string;
  let run: CliRun;
  let report: any;

  beforeAll(async () => {
    out = join(root, 'out-sweep');
    run = await runCli(['eval', folder, ...MODEL, '--out', out, '--perturb', 'jpeg:50,90', '--perturb', 'blur:3']);
    report = await readJson(join(out, 'report.json'));
  });

  it('exits 0 and prints the means', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/eval: 4 images, 0 failed; pixel F1 0\.\d{4}, IoU 0\.\d{4} \(manipulated images: F1 0\.\d{4}, IoU 0\.\d{4}\)/);
    expect(run.stdout).toMatch(/\[jpeg:50\]/);
  });

  it('matches metrics computed independently from the probability maps', async () => {
    const rows = (report.rows as Row[]).filter((r) => r.perturbation === 'none');
    expect(rows.map((r) => r.id).sort()).toEqual(CASES.map((c) => `Tp/${c.image}`).sort());
    const refs: Reference[] = [];
    for (const c of CASES) {
      const e = await expected(c.stem, 'imdlbenco');
      refs.push(e);
      const row = rows.find((r) => r.id === `Tp/${c.image}`)!;
      expectRow(row, e);
      expect(row.label).toBe(1);
      expect(row).toMatchObject({ width: c.width, height: c.height, mask: join(folder, 'Gt', `${c.stem}_gt.png`), mask_size_mismatch: false });
    }
    expect(report.pixel_f1).toBeCloseTo(mean(refs.map((r) => r.f1)), 9);
    expect(report.pixel_iou).toBeCloseTo(mean(refs.map((r) => r.iou)), 9);
    // No mask here is empty, so the manipulated-only means are the same means.
    expect(report.pixel_f1_manipulated).toBeCloseTo(mean(refs.map((r) => r.f1)), 9);
    expect(report.pixel_iou_manipulated).toBeCloseTo(mean(refs.map((r) => r.iou)), 9);
    expect(report.pixel_auc).toBeCloseTo(mean(refs.map((r) => r.aucBenco)), 6);
    expect(report.pixel_best_f1).toBeCloseTo(mean(refs.map((r) => r.bestF1)), 9);
    // Every image is labelled manipulated (IMDLBenCo: a mask file means label 1): no image AUC.
    expect(report.image_auc).toBeNull();
    const image = imageLevel(rows.map((r) => r.score), [1, 1, 1, 1]);
    expect(report.image_f1).toBeCloseTo(image.f1, 12);
    expect(report.image_accuracy).toBe(image.accuracy);
    expect(report).toMatchObject({ images: 4, failed: 0, positives: 4, negatives: 0, empty_masks: 0, complete: true });
  });

  it('records the settings, counts and timing', () => {
    expect(report.settings).toMatchObject({
      protocol: 'imdlbenco',
      threshold: 0.5,
      weights: CHECKPOINT,
      config: CONFIG,
      device: 'cpu',
      dataset: folder,
      layout: 'folder',
      perturbations: ['jpeg:50', 'jpeg:90', 'blur:3'],
    });
    expect(report.settings.protocolDescription).toMatch(/nearest/);
    expect(report.counts).toMatchObject({ images: 4, passes: 4, rows: 16, failed: 0, notRun: 0, resumedRows: 0 });
    expect(report.failures).toEqual([]);
    expect(report.timing.totalMs).toBeGreaterThan(0);
    expect(report.timing.loadMs).toBeGreaterThan(0);
  });

  it('writes one CSV row per image and perturbation', async () => {
    const lines = (await readFile(join(out, 'report.csv'), 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines).toHaveLength(1 + 16);
    const passes = lines.slice(1).map((l) => l.split(',')[0]);
    expect([...new Set(passes)]).toEqual(['none', 'jpeg:50', 'jpeg:90', 'blur:3']);
    // Full precision: the CSV's F1 is the report's F1 to the last bit.
    const none = (report.rows as Row[]).find((r) => r.perturbation === 'none')!;
    expect(lines.some((l) => l.includes(`,${String(none.pixel_f1)},`))).toBe(true);
  });

  it('summarises each perturbation', () => {
    const names = report.perturbations.map((p: { name: string }) => p.name);
    expect(names).toEqual(['none', 'jpeg:50', 'jpeg:90', 'blur:3']);
    for (const p of report.perturbations) {
      expect(p.images).toBe(4);
      expect(p.pixel_f1).toBeGreaterThan(0);
      expect(p.pixel_auc).toBeGreaterThan(0);
    }
    expect(report.perturbations[0].pixel_f1).toBe(report.pixel_f1);
    const [, jpeg50, , blur3] = report.perturbations;
    expect([jpeg50.kind, jpeg50.strength, blur3.kind, blur3.strength]).toEqual(['jpeg', 50, 'blur', 3]);
    // The degradations change the predictions.
    expect(jpeg50.pixel_auc).not.toBe(report.pixel_auc);
    expect(blur3.pixel_auc).not.toBe(report.pixel_auc);
  });

  it('writes a self-contained HTML page with the summary, the sweep chart and thumbnails', async () => {
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(externalReferences(html)).toEqual([]);
    expect(html).toContain('<style>');
    expect(html).toContain('<svg');
    expect(html).toMatch(/<td>jpeg:50<\/td>/);
    expect(html).toMatch(/<td>blur:3<\/td>/);
    expect(html).toContain(report.pixel_f1.toFixed(4));
    // 4 images shown (2 best, 2 worst when there are only 4), 3 thumbnails each.
    const images = [...html.matchAll(/<img src="data:image\/(?:jpeg|png);base64,[A-Za-z0-9+/=]+"/g)];
    expect(images).toHaveLength(12);
    expect(html.length).toBeLessThan(1_000_000);
    expect(report.best).toHaveLength(2);
    expect(report.worst).toHaveLength(2);
  });
});

describe('sparsevit eval --protocol native', () => {
  it('compares the full-size probability with the mask at the image size', async () => {
    const out = join(root, 'out-native');
    const run = await runCli(['eval', folder, ...MODEL, '--out', out, '--protocol', 'native', '--batch-size', '2', '--show', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = await readJson(join(out, 'report.json'));
    expect(report.settings.protocol).toBe('native');
    const refs: Reference[] = [];
    for (const c of CASES) {
      const e = await expected(c.stem, 'native');
      refs.push(e);
      // Batched inference may move a probability by a few ulps: compare less tightly.
      const row = (report.rows as Row[]).find((r) => r.id === `Tp/${c.image}`)!;
      expect(row.pixel_f1).toBeCloseTo(e.f1, 4);
      expect(row.pixel_iou).toBeCloseTo(e.iou, 4);
      expect(row.pixel_auc_standard).toBeCloseTo(e.auc!, 4);
    }
    expect(report.pixel_f1).toBeCloseTo(mean(refs.map((r) => r.f1)), 4);
    expect(report.pixel_auc).toBeCloseTo(mean(refs.map((r) => r.aucBenco)), 4);
    // The two protocols give different numbers on images that are not 512 x 512.
    const imdl = await readJson(join(root, 'out-sweep', 'report.json'));
    expect(report.pixel_f1).not.toBe(imdl.pixel_f1);
  });
});

describe('sparsevit eval on a JSON pair list with a Negative entry and bad files', () => {
  let out: string;
  let run: CliRun;
  let report: any;

  beforeAll(async () => {
    const bad = join(root, 'bad');
    await mkdir(bad, { recursive: true });
    const png = await readFile(tiny('images', 'splice_640x480.png'));
    await writeFile(join(bad, 'truncated.png'), png.subarray(0, 3000));
    await writeFile(join(bad, 'mask.png'), 'not an image\n');
    const lists = join(root, 'lists');
    await mkdir(lists, { recursive: true });
    // Paths relative to the list's own folder.
    const list = [
      ['../casia/Tp/splice_640x480.png', '../casia/Gt/splice_640x480_gt.png'],
      ['../bad/truncated.png', '../casia/Gt/splice_300x500_gt.png'],
      ['../casia/Tp/gray_257x333.png', '../casia/Gt/gray_257x333_gt.png'],
      ['../casia/Tp/splice_300x500.png', '../bad/mask.png'],
      ['../casia/Tp/rgba_512x512.png', 'Negative'],
    ];
    await writeFile(join(lists, 'test.json'), JSON.stringify(list));
    out = join(root, 'out-list');
    run = await runCli(['eval', join(lists, 'test.json'), ...MODEL, '--out', out]);
    report = await readJson(join(out, 'report.json'));
  });

  it('exits 1, reports each failure on stderr and keeps going', () => {
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/truncated\.png/);
    expect(run.stderr).toMatch(/mask\.png/);
    expect(report.counts).toMatchObject({ images: 5, rows: 5, failed: 2, notRun: 0 });
    expect(report).toMatchObject({ images: 3, failed: 2, positives: 2, negatives: 1, empty_masks: 1 });
    const failed = (report.rows as Row[]).filter((r) => r.status === 'failed');
    expect(failed.map((r) => [r.id, r.error_code])).toEqual([
      ['../bad/truncated.png', 'INVALID_IMAGE'],
      ['../casia/Tp/splice_300x500.png', 'INVALID_IMAGE'],
    ]);
    expect(failed[1].error).toMatch(/ground-truth mask/);
    expect(report.failures).toHaveLength(2);
  });

  it('labels "Negative" 0 with an empty mask, the others 1, and matches the independent metrics', async () => {
    const rows = report.rows as Row[];
    const get = (id: string) => rows.find((r) => r.id === id)!;
    const e640 = await expected('splice_640x480', 'imdlbenco');
    const e257 = await expected('gray_257x333', 'imdlbenco');
    const eNeg = await expected('rgba_512x512', 'imdlbenco', true);
    expectRow(get('../casia/Tp/splice_640x480.png'), e640);
    expectRow(get('../casia/Tp/gray_257x333.png'), e257);
    const neg = get('../casia/Tp/rgba_512x512.png');
    expectRow(neg, eNeg);
    expect([neg.label, neg.mask, neg.pixel_f1, neg.pixel_iou, neg.pixel_auc, neg.pixel_auc_standard, neg.empty_mask]).toEqual([0, 'Negative', 0, 0, 0, null, true]);
    expect(get('../casia/Tp/splice_640x480.png').label).toBe(1);

    const refs = [e640, e257, eNeg];
    expect(report.pixel_f1).toBeCloseTo(mean(refs.map((r) => r.f1)), 9);
    expect(report.pixel_iou).toBeCloseTo(mean(refs.map((r) => r.iou)), 9);
    // The manipulated-only means leave the authentic image out.
    expect(report.pixel_f1_manipulated).toBeCloseTo(mean([e640.f1, e257.f1]), 9);
    expect(report.pixel_iou_manipulated).toBeCloseTo(mean([e640.iou, e257.iou]), 9);
    // IMDLBenCo's AUC counts the authentic image as 0; the standard AUC leaves it out.
    expect(report.pixel_auc).toBeCloseTo(mean(refs.map((r) => r.aucBenco)), 6);
    expect(report.pixel_auc_standard).toBeCloseTo(mean([e640.auc!, e257.auc!]), 9);
    expect(report.pixel_auc_standard_images).toBe(2);
    const image = imageLevel([e640.score, e257.score, eNeg.score], [1, 1, 0]);
    expect(report.image_auc).toBeCloseTo(image.auc!, 12);
    expect(report.image_f1).toBeCloseTo(image.f1, 12);
    expect(report.image_accuracy).toBeCloseTo(image.accuracy, 12);
  });

  it('lists the failures in the HTML report', async () => {
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/Failures \(2\)/);
    expect(externalReferences(html)).toEqual([]);
  });
});

describe('sparsevit eval pairing', () => {
  let dir: string;

  beforeAll(async () => {
    dir = join(root, 'unpaired');
    await cp(folder, dir, { recursive: true });
    await copyFile(tiny('images', 'splice_300x500.png'), join(dir, 'Tp', 'lonely.png'));
    await copyFile(tiny('images', 'splice_300x500_gt.png'), join(dir, 'Gt', 'orphan_gt.png'));
    // `_mask` pairs too (CASIA-like naming variants).
    await copyFile(tiny('images', 'gray_257x333.png'), join(dir, 'Tp', 'extra.png'));
    await copyFile(tiny('images', 'gray_257x333_gt.png'), join(dir, 'Gt', 'extra_mask.png'));
  });

  it('fails with one error listing every unpaired file, before loading the model', async () => {
    const out = join(root, 'out-unpaired');
    const run = await runCli(['eval', dir, ...MODEL, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^sparsevit: INVALID_ARGUMENT: dataset has unpaired files/);
    expect(run.stderr).toMatch(/1 image\(s\) without a mask:\n\s+lonely\.png/);
    expect(run.stderr).toMatch(/1 mask\(s\) without an image:\n\s+orphan_gt\.png/);
    expect(run.stderr).toMatch(/--skip-unpaired/);
    expect(run.stderr.match(/sparsevit:/g)).toHaveLength(1);
    expect(existsSync(join(out, 'report.csv'))).toBe(false);
  });

  it('--skip-unpaired leaves them out and lists them in the report', async () => {
    const out = join(root, 'out-skip');
    const run = await runCli(['eval', dir, ...MODEL, '--out', out, '--skip-unpaired', '--show', '0']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/left out 1 image\(s\) without a mask and 1 mask\(s\) without an image/);
    const report = await readJson(join(out, 'report.json'));
    expect(report.dataset.unpaired).toEqual({ imagesWithoutMask: ['Tp/lonely.png'], masksWithoutImage: ['Gt/orphan_gt.png'] });
    expect(report.counts.images).toBe(5);
    const extra = (report.rows as Row[]).find((r) => r.id === 'Tp/extra.png')!;
    expect(extra.mask).toBe(join(dir, 'Gt', 'extra_mask.png'));
    expectRow(extra, await expected('gray_257x333', 'imdlbenco'));
  });
});

describe('sparsevit eval --resume', () => {
  it('continues an interrupted run and ends with the report of an uninterrupted one', async () => {
    const full = join(root, 'out-sweep');
    const out = join(root, 'out-resume');
    await cp(full, out, { recursive: true });
    // Interrupted after 5 rows, the 6th cut half-way through.
    const lines = (await readFile(join(out, 'report.csv'), 'utf8')).split('\n');
    await writeFile(join(out, 'report.csv'), `${lines.slice(0, 6).join('\n')}\n${lines[6].slice(0, 40)}`);

    // Settings that would change the rows are refused.
    const other = await runCli(['eval', folder, ...MODEL, '--out', out, '--resume', '--protocol', 'native']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--resume: .*protocol "imdlbenco"/);

    const run = await runCli(['eval', folder, ...MODEL, '--out', out, '--resume', '--perturb', 'jpeg:50,90;blur:3']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/dropped an incomplete last row/);
    const resumed = await readJson(join(out, 'report.json'));
    const reference = await readJson(join(full, 'report.json'));
    expect(resumed.counts).toMatchObject({ rows: 16, resumedRows: 5, rowsThisRun: 11, failed: 0, notRun: 0 });
    const keys = ['pixel_f1', 'pixel_iou', 'pixel_auc', 'pixel_auc_standard', 'pixel_best_f1', 'image_auc', 'image_f1', 'image_accuracy', 'images'];
    for (const k of keys) expect(resumed[k], k).toBe(reference[k]);
    expect(resumed.perturbations).toEqual(reference.perturbations);
    const strip = (rows: Row[]) => rows.map(({ ms: _ms, ...rest }) => rest);
    expect(strip(resumed.rows)).toEqual(strip(reference.rows));
    expect(resumed.best).toEqual(reference.best);
    const csv = (await readFile(join(out, 'report.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv).toHaveLength(17);
    expect(csv[0]).toBe(CSV_HEADER);

    // Nothing left to do: a second --resume rewrites the same report.
    const again = await runCli(['eval', folder, ...MODEL, '--out', out, '--resume', '--perturb', 'jpeg:50,90', '--perturb', 'blur:3']);
    expect(again.code).toBe(0);
    const twice = await readJson(join(out, 'report.json'));
    expect(twice.counts).toMatchObject({ rows: 16, resumedRows: 16, rowsThisRun: 0 });
    expect(twice.pixel_f1).toBe(reference.pixel_f1);
  });
});

describe('sparsevit eval --resume with batches', () => {
  it('reruns a batch cut in the middle whole, so batched numbers match too', async () => {
    const full = join(root, 'out-native');
    const out = join(root, 'out-native-resume');
    await cp(full, out, { recursive: true });
    // Batch size 2: the run stopped after the first row of the second batch.
    const lines = (await readFile(join(out, 'report.csv'), 'utf8')).split('\n');
    await writeFile(join(out, 'report.csv'), `${lines.slice(0, 4).join('\n')}\n`);
    const run = await runCli(['eval', folder, ...MODEL, '--out', out, '--protocol', 'native', '--batch-size', '2', '--show', '1', '--resume']);
    expect(run.code).toBe(0);
    const resumed = await readJson(join(out, 'report.json'));
    const reference = await readJson(join(full, 'report.json'));
    expect(resumed.counts).toMatchObject({ rows: 4, resumedRows: 3, rowsThisRun: 1 });
    const strip = (rows: Row[]) => rows.map(({ ms: _ms, ...rest }) => rest);
    expect(strip(resumed.rows)).toEqual(strip(reference.rows));
    expect(resumed.perturbations).toEqual(reference.perturbations);
  });
});

describe('sparsevit eval says what it resized and which mask it took', () => {
  it('warns about a mask of the wrong size, counts it, and names the mask taken of two', async () => {
    const ds = join(root, 'ambiguous');
    await mkdir(join(ds, 'Tp'), { recursive: true });
    await mkdir(join(ds, 'Gt'), { recursive: true });
    await copyFile(tiny('images', 'splice_300x500.png'), join(ds, 'Tp', 'x.png'));
    // Two masks match x.png; the bare stem wins, and it is the 640 x 480 mask of another image.
    await copyFile(tiny('images', 'splice_640x480_gt.png'), join(ds, 'Gt', 'x.png'));
    await copyFile(tiny('images', 'splice_300x500_gt.png'), join(ds, 'Gt', 'x_gt.png'));
    const out = join(root, 'out-ambiguous');
    const run = await runCli(['eval', ds, ...MODEL, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('sparsevit: x.png: 2 masks match (x.png, x_gt.png); using x.png (report.json: dataset.ambiguous)');
    expect(run.stderr).toContain('sparsevit: Tp/x.png: the mask is 640x480, the image 300x500; the mask was resized (nearest) to score it');
    const report = await readJson(join(out, 'report.json'));
    expect(report.counts.maskSizeMismatch).toBe(1);
    expect(report.rows[0].mask_size_mismatch).toBe(true);
    expect(report.dataset.ambiguous).toEqual(expect.arrayContaining([expect.objectContaining({ file: 'x.png', side: 'image', chosen: 'x.png' })]));
  });
});

describe('sparsevit eval outputs', () => {
  it('refuses --out inside Tp/ or Gt/, and over its pair list, before loading the model', async () => {
    const missingWeights = ['--weights', '/nonexistent/weights.pth', '--config', CONFIG];
    for (const out of [join(folder, 'Tp'), join(folder, 'Gt', 'report')]) {
      const run = await runCli(['eval', folder, ...missingWeights, '--out', out]);
      expect(run.code, out).toBe(2);
      expect(run.stderr).toMatch(/inside the input folder|is the input folder/);
    }
    const lists = join(root, 'list-as-report');
    await mkdir(lists, { recursive: true });
    await writeFile(join(lists, 'report.json'), JSON.stringify([[join(folder, 'Tp', CASES[0].image), join(folder, 'Gt', `${CASES[0].stem}_gt.png`)]]));
    const run = await runCli(['eval', join(lists, 'report.json'), ...missingWeights, '--out', lists]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/would write over its input .*report\.json/);
  });

  it('replaces a link at report.json instead of writing through it, and stops on SIGTERM with valid reports', async () => {
    const out = join(root, 'out-link');
    await mkdir(out, { recursive: true });
    const elsewhere = join(root, 'elsewhere.json');
    await writeFile(elsewhere, 'keep\n');
    await symlink(elsewhere, join(out, 'report.json'));
    const child = spawn(process.execPath, [BIN, 'eval', folder, ...MODEL, '--out', out, '--perturb', 'jpeg:30,40,50,60,70,80,90'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    const csv = join(out, 'report.csv');
    const until = Date.now() + 60_000;
    while (!(existsSync(csv) && (await readFile(csv, 'utf8')).split('\n').length > 3) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    expect(await done, stderr).toBe(130);
    expect(stderr).toMatch(/SIGTERM: stopping after the current batch/);
    expect(await readFile(elsewhere, 'utf8')).toBe('keep\n');
    const report = await readJson(join(out, 'report.json'));
    expect(report).toMatchObject({ interrupted: true, complete: false });
    expect(report.counts.notRun).toBeGreaterThan(0);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readdirSync(out).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

afterAll(() => {
  maps.clear();
});
