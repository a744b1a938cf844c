import type { ReportRow } from './csv';
import type { PassSummary, ReportFailure } from './report';
import type { Thumbnails } from './thumbnails';

/**
 * `report.html`: one self-contained page (inline CSS, inline SVG, images as `data:` URIs; no
 * script, no external reference) with the settings, the summary table, the robustness table and
 * charts, and the best / worst images side by side with their ground truth and prediction.
 */

export interface ShownImage {
  row: ReportRow;
  thumbnails: Thumbnails | null;
  /** Why there is no thumbnail (the image could not be read again). */
  note?: string;
}

export interface HtmlReport {
  title: string;
  createdAt: string;
  settings: [string, string][];
  main: PassSummary;
  passes: PassSummary[];
  best: ShownImage[];
  worst: ShownImage[];
  failures: ReportFailure[];
  /** Whether best/worst were ranked among manipulated images only. */
  rankedManipulatedOnly: boolean;
  interrupted: boolean;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (v: number | null | undefined, digits = 4) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));

/** The summary's metrics: key, label, explanation. */
export const METRICS: [keyof PassSummary, string, string][] = [
  ['pixel_f1', 'Pixel F1', 'mean per-image F1 of probability > threshold (IMDLBenCo epsilons; an empty mask counts 0)'],
  ['pixel_iou', 'Pixel IoU', 'mean per-image IoU at the threshold (an empty mask counts 0)'],
  ['pixel_f1_manipulated', 'Pixel F1, manipulated images', 'mean pixel F1 over the images whose mask is not empty (authentic images left out)'],
  ['pixel_iou_manipulated', 'Pixel IoU, manipulated images', 'mean pixel IoU over the images whose mask is not empty'],
  ['pixel_auc', 'Pixel AUC', "mean per-image AUC, IMDLBenCo's convention: an empty mask counts 0"],
  ['pixel_auc_standard', 'Pixel AUC (standard)', 'tie-aware AUC, mean over the images where it is defined (mask neither empty nor full)'],
  ['pixel_best_f1', 'Pixel F1, best threshold', 'per-image F1 at its own best threshold: an oracle, optimistic'],
  ['image_auc', 'Image AUC', 'AUC of the image scores (max probability) against the labels; n/a unless both labels occur'],
  ['image_f1', 'Image F1', 'F1 of score > threshold against the labels'],
  ['image_accuracy', 'Image accuracy', 'fraction of images with (score > threshold) == label'],
];

function summaryTable(s: PassSummary): string {
  const rows = METRICS.map(([key, label, help]) => `<tr><th>${label}</th><td class="num">${fmt(s[key] as number | null)}</td><td class="help">${escapeHtml(help)}</td></tr>`);
  rows.push(
    `<tr><th>Images</th><td class="num">${s.images}</td><td class="help">evaluated (${s.failed} failed, left out of every mean); ${s.positives} manipulated, ${s.negatives} authentic; ${s.empty_masks} with an empty mask; standard AUC over ${s.pixel_auc_standard_images}</td></tr>`,
  );
  return `<table class="summary">${rows.join('')}</table>`;
}

function passesTable(passes: PassSummary[]): string {
  const head = ['Perturbation', 'Images', 'Failed', 'Pixel F1', 'Pixel IoU', 'Pixel AUC', 'Pixel AUC (std)', 'Best-thr. F1', 'Image AUC', 'Image F1', 'Image acc.'];
  const body = passes.map(
    (p) =>
      `<tr${p.name === 'none' ? ' class="ref"' : ''}><td>${escapeHtml(p.name)}</td><td class="num">${p.images}</td><td class="num">${p.failed}</td>` +
      [p.pixel_f1, p.pixel_iou, p.pixel_auc, p.pixel_auc_standard, p.pixel_best_f1, p.image_auc, p.image_f1, p.image_accuracy].map((v) => `<td class="num">${fmt(v)}</td>`).join('') +
      '</tr>',
  );
  return `<table class="passes"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

const KIND_TITLES: Record<string, string> = {
  jpeg: 'JPEG quality',
  blur: 'Gaussian blur kernel size',
  noise: 'Gaussian noise standard deviation',
  noisevar: 'Gaussian noise variance',
  resize: 'Resize factor',
};

const SERIES: { key: 'pixel_f1' | 'pixel_auc'; label: string; color: string }[] = [
  { key: 'pixel_f1', label: 'Pixel F1', color: '#1f77b4' },
  { key: 'pixel_auc', label: 'Pixel AUC', color: '#ff7f0e' },
];

/** A line chart (inline SVG) of pixel F1 and AUC against the strength of one kind; dashed lines: unperturbed. */
export function chartSvg(kind: string, points: PassSummary[], reference: PassSummary): string {
  const W = 380;
  const H = 230;
  const m = { left: 44, right: 12, top: 14, bottom: 52 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const sorted = [...points].sort((a, b) => (a.strength as number) - (b.strength as number));
  const xs = sorted.map((p) => p.strength as number);
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const x = (v: number) => m.left + (hi === lo ? pw / 2 : ((v - lo) / (hi - lo)) * pw);
  const y = (v: number) => m.top + (1 - Math.max(0, Math.min(1, v))) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#ccc"/>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const v of xs) {
    parts.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#888"/>`);
    parts.push(`<text x="${x(v)}" y="${m.top + ph + 16}" text-anchor="middle">${v}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 32}" text-anchor="middle">${escapeHtml(KIND_TITLES[kind] ?? kind)}</text>`);
  SERIES.forEach((s, i) => {
    const ref = reference[s.key];
    if (ref !== null) {
      parts.push(
        `<line x1="${m.left}" x2="${m.left + pw}" y1="${y(ref)}" y2="${y(ref)}" stroke="${s.color}" stroke-dasharray="5 4" opacity="0.7"><title>${s.label}, unperturbed: ${fmt(ref)}</title></line>`,
      );
    }
    const pts = sorted.filter((p) => p[s.key] !== null).map((p) => [x(p.strength as number), y(p[s.key] as number), p] as const);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py, p] of pts) {
      parts.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3.5" fill="${s.color}"><title>${escapeHtml(p.name)}: ${s.label} ${fmt(p[s.key])}</title></circle>`);
    }
    const lx = m.left + i * 100;
    parts.push(`<line x1="${lx}" x2="${lx + 18}" y1="${H - 8}" y2="${H - 8}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 22}" y="${H - 4}">${s.label}</text>`);
  });
  parts.push(`<line x1="${m.left + 200}" x2="${m.left + 218}" y1="${H - 8}" y2="${H - 8}" stroke="#666" stroke-dasharray="5 4"/>`);
  parts.push(`<text x="${m.left + 222}" y="${H - 4}">unperturbed</text>`);
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(`Pixel F1 and AUC against ${KIND_TITLES[kind] ?? kind}`)}">${parts.join('')}</svg>`;
}

function imageCards(shown: ShownImage[]): string {
  if (shown.length === 0) return '<p class="help">No image to show.</p>';
  return shown
    .map(({ row, thumbnails, note }) => {
      const caption =
        `<div class="caption"><b>${escapeHtml(row.id)}</b><br>pixel F1 ${fmt(row.pixel_f1)} · IoU ${fmt(row.pixel_iou)} · AUC ${fmt(row.pixel_auc)} · ` +
        `best-thr. F1 ${fmt(row.pixel_best_f1)} · score ${fmt(row.score)}${row.label === 0 ? ' · authentic' : ''}</div>`;
      const panels = thumbnails
        ? ['image', 'gt', 'pred']
            .map((k, i) => `<figure><img src="${thumbnails[k as keyof Thumbnails]}" alt="${['image', 'ground truth', 'prediction'][i]}"><figcaption>${['Image', 'Ground truth', 'Prediction'][i]}</figcaption></figure>`)
            .join('')
        : `<p class="help">${escapeHtml(note ?? 'thumbnail unavailable')}</p>`;
      return `<div class="card">${caption}<div class="panels">${panels}</div></div>`;
    })
    .join('');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1180px;padding:0 16px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;background:#fff;margin:6px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.help{color:#666;font-size:12.5px}.ref td{background:#f4f8ff}.settings td{word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid #ddd;font-size:11px}
.chart-box h3{font-size:14px;margin:6px 0}
.card{background:#fff;border:1px solid #ddd;padding:8px;margin:8px 0}.caption{font-size:12.5px;margin-bottom:6px;word-break:break-all}
.panels{display:flex;gap:8px;flex-wrap:wrap}figure{margin:0}figure img{display:block;max-width:256px;max-height:256px;border:1px solid #ccc;background:#000}
figcaption{font-size:12px;color:#555;text-align:center}.warn{color:#a40}
`;

export function renderHtml(r: HtmlReport): string {
  const sections: string[] = [];
  sections.push(`<h1>${escapeHtml(r.title)}</h1><p class="help">${escapeHtml(r.createdAt)}${r.interrupted ? ' · <span class="warn">interrupted: partial results</span>' : ''}</p>`);
  sections.push(
    `<h2>Settings</h2><table class="settings">${r.settings.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`,
  );
  sections.push(`<h2>Summary (unperturbed)</h2>${summaryTable(r.main)}`);
  const perturbed = r.passes.filter((p) => p.name !== 'none');
  if (perturbed.length > 0) {
    const kinds = [...new Set(perturbed.map((p) => p.kind))];
    const charts = kinds
      .map((k) => `<div class="chart-box"><h3>${escapeHtml(KIND_TITLES[k] ?? k)}</h3>${chartSvg(k, perturbed.filter((p) => p.kind === k), r.main)}</div>`)
      .join('');
    sections.push(`<h2>Robustness</h2>${passesTable(r.passes)}<div class="charts">${charts}</div>`);
  }
  const among = r.rankedManipulatedOnly ? 'among manipulated images (non-empty masks)' : 'among all evaluated images';
  sections.push(`<h2>Best images by pixel F1</h2><p class="help">Unperturbed, ${among}. Prediction: probability at the image's size, white = 1.</p>${imageCards(r.best)}`);
  sections.push(`<h2>Worst images by pixel F1</h2><p class="help">Unperturbed, ${among}.</p>${imageCards(r.worst)}`);
  if (r.failures.length > 0) {
    const shown = r.failures.slice(0, 100);
    sections.push(
      `<h2>Failures (${r.failures.length})</h2><table><thead><tr><th>Perturbation</th><th>Image</th><th>Code</th><th>Error</th></tr></thead><tbody>` +
        shown.map((f) => `<tr><td>${escapeHtml(f.perturbation)}</td><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.code ?? '')}</td><td>${escapeHtml(f.error)}</td></tr>`).join('') +
        `</tbody></table>${r.failures.length > shown.length ? `<p class="help">... and ${r.failures.length - shown.length} more in report.json / report.csv.</p>` : ''}`,
    );
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(r.title)}</title><style>${CSS}</style></head><body>\n${sections.join('\n')}\n</body></html>\n`;
}
