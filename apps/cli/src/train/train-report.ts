import { IMAGENET_MEAN, IMAGENET_STD, renderHeatmap, renderOverlay, type SparseViTConfig } from '@sparsevit/core';
import type { StepRecord, TrainingLoss, TrainingBatch, ValidationPoint } from '@sparsevit/train';

const LOSS_LABELS: Record<TrainingLoss, string> = { bce: 'BCE', 'bce+dice': 'BCE + Dice', 'bce+dice+image': 'BCE + Dice + image score BCE' };

export interface TrainReportInput {
  title: string;
  settings: Record<string, unknown>;
  config: SparseViTConfig;
  history: StepRecord[];
  validation: ValidationPoint[];
  skipped: { id: string; code: string; message: string }[];
  /** Sample predictions: the validation batch and the model's probability maps for it. */
  samples?: { batch: TrainingBatch; probability: Float32Array };
  wallSeconds: number;
  status: string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** An SVG line chart of one or more series over the step axis. */
function lineChart(title: string, series: { name: string; color: string; points: [number, number][] }[], yRange?: [number, number]): string {
  const w = 640;
  const h = 240;
  const pad = 40;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return `<p>${esc(title)}: no points yet.</p>`;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  const [y0, y1] = yRange ?? [Math.min(...ys), Math.max(...ys, Math.min(...ys) + 1e-6)];
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0)) * (w - 2 * pad);
  const sy = (y: number) => h - pad - ((y - y0) / (y1 - y0)) * (h - 2 * pad);
  // Sparse series (validation every N steps) also get a dot per point, so one point shows.
  const lines = series
    .map((s) => {
      const line = `<polyline fill="none" stroke="${s.color}" stroke-width="1.5" points="${s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`;
      const dots = s.points.length <= 60 ? s.points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`).join('') : '';
      return line + dots;
    })
    .join('');
  const legend = series.map((s, i) => `<text x="${pad + 10 + i * 150}" y="16" fill="${s.color}" font-size="12">${esc(s.name)}</text>`).join('');
  const ticks = [0, 0.5, 1].map((t) => {
    const y = y0 + t * (y1 - y0);
    return `<text x="2" y="${sy(y) + 4}" font-size="10">${y.toPrecision(3)}</text><line x1="${pad}" x2="${w - pad}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`;
  });
  const xt = `<text x="${pad}" y="${h - 10}" font-size="10">step ${x0}</text><text x="${w - pad - 60}" y="${h - 10}" font-size="10">step ${x1}</text>`;
  return `<figure><figcaption>${esc(title)}</figcaption><svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" xmlns="http://www.w3.org/2000/svg">${ticks.join('')}${lines}${legend}${xt}</svg></figure>`;
}

/** Moving average over `window` points, for a readable loss curve. */
function smooth(points: [number, number][], window: number): [number, number][] {
  const out: [number, number][] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i][1];
    if (i >= window) sum -= points[i - window][1];
    out.push([points[i][0], sum / Math.min(i + 1, window)]);
  }
  return out;
}

/** The normalised CHW image `i` of a batch back to interleaved RGB bytes. */
export function denormalize(batch: TrainingBatch, i: number, size: number): Uint8Array {
  const plane = size * size;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const base = (i * 3 + c) * plane;
    for (let p = 0; p < plane; p++) rgb[p * 3 + c] = Math.max(0, Math.min(255, Math.round((batch.images[base + p] * IMAGENET_STD[c] + IMAGENET_MEAN[c]) * 255)));
  }
  return rgb;
}

async function png(data: Uint8Array, width: number, height: number, channels: 1 | 3 | 4): Promise<string> {
  const { default: sharp } = await import('sharp');
  const bytes = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } }).png().toBuffer();
  return `data:image/png;base64,${bytes.toString('base64')}`;
}

/** `train-report.html`: self-contained (inline SVG and PNGs), like the eval report. */
export async function renderTrainReport(input: TrainReportInput): Promise<string> {
  const loss = input.history.map((r) => [r.step, r.loss] as [number, number]);
  const window = Math.max(1, Math.round(loss.length / 50));
  const charts = [
    lineChart(`training loss (${LOSS_LABELS[(input.settings.loss as TrainingLoss | undefined) ?? 'bce']}), raw and moving average`, [
      { name: 'loss', color: '#bbb', points: loss },
      { name: `average of ${window}`, color: '#1f77b4', points: smooth(loss, window) },
    ]),
    lineChart('validation', [
      { name: 'pixel F1 @0.5', color: '#d62728', points: input.validation.map((v) => [v.step, v.pixelF1]) },
      { name: 'image AUC', color: '#2ca02c', points: input.validation.filter((v) => v.imageAuc !== null).map((v) => [v.step, v.imageAuc as number]) },
    ], [0, 1]),
    lineChart('learning rate', [{ name: 'lr', color: '#9467bd', points: input.history.map((r) => [r.step, r.lr]) }]),
  ];
  let samples = '';
  if (input.samples) {
    const s = input.config.img_size;
    const { batch, probability } = input.samples;
    const cells: string[] = [];
    for (let i = 0; i < batch.n; i++) {
      const rgb = denormalize(batch, i, s);
      const prob = probability.subarray(i * s * s, (i + 1) * s * s);
      const gt = new Uint8Array(s * s);
      for (let p = 0; p < gt.length; p++) gt[p] = batch.masks[i * s * s + p] > 0.5 ? 255 : 0;
      const image = { data: rgb, width: s, height: s, channels: 3 as const };
      const heat = renderHeatmap(prob, s, s);
      const overlay = renderOverlay(image, prob, { threshold: 0.5, outline: true });
      cells.push(
        `<tr><td><img src="${await png(rgb, s, s, 3)}"></td><td><img src="${await png(gt, s, s, 1)}"></td><td><img src="${await png(new Uint8Array(heat.buffer), s, s, 4)}"></td><td><img src="${await png(new Uint8Array(overlay.buffer), s, s, 4)}"></td></tr>`,
      );
    }
    samples = `<h2>Validation samples at the last validation</h2><table class="samples"><tr><th>input</th><th>ground truth</th><th>probability</th><th>overlay</th></tr>${cells.join('')}</table>`;
  }
  const last = input.validation[input.validation.length - 1];
  const settings = Object.entries(input.settings).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`).join('');
  const skipped = input.skipped.length === 0 ? '<p>No sample was skipped.</p>' : `<p>${input.skipped.length} samples skipped:</p><ul>${input.skipped.slice(0, 200).map((s) => `<li>${esc(s.id)}: ${esc(s.code)} ${esc(s.message)}</li>`).join('')}</ul>`;
  const steps = input.history.length > 0 ? input.history[input.history.length - 1].step : 0;
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(input.title)}</title><style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;font-size:13px}
.samples img{width:160px;height:160px;image-rendering:pixelated}figure{margin:8px 0}figcaption{font-weight:600}</style></head><body>
<h1>${esc(input.title)}</h1>
<p>${esc(input.status)}. ${steps} optimizer steps in ${(input.wallSeconds / 60).toFixed(1)} min.${last ? ` Last validation (step ${last.step}): pixel F1 ${last.pixelF1.toFixed(3)}, image AUC ${last.imageAuc?.toFixed(3) ?? 'n/a'}, loss ${last.loss.toFixed(4)}.` : ''}</p>
${charts.join('\n')}
${samples}
<h2>Settings</h2><table>${settings}<tr><th>config</th><td>${esc(JSON.stringify(input.config))}</td></tr></table>
<h2>Skipped data</h2>${skipped}
</body></html>`;
}
