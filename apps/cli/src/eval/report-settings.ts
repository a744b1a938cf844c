import { version } from '../version';
import type { EvalDataset } from './dataset';
import { PROTOCOL_DESCRIPTIONS, type EvalSettings } from './settings';

/** The device the model runs on, as the loaded model reports it. */
export interface RunningModel {
  backend: string;
  device: string;
}

/** The run's settings as report.json records them (its `settings`). */
export function reportSettings(settings: EvalSettings, dataset: EvalDataset, model: RunningModel) {
  return {
    dataset: settings.dataset,
    datasetPath: dataset.path,
    layout: dataset.layout,
    protocol: settings.protocol,
    protocolDescription: PROTOCOL_DESCRIPTIONS[settings.protocol],
    threshold: settings.threshold,
    weights: settings.weights,
    config: settings.config ?? null,
    backend: model.backend,
    device: model.device,
    requestedDevice: settings.device,
    dtype: settings.dtype ?? null,
    batchSize: settings.batchSize,
    perturbations: settings.perturbations.map((p) => p.name),
    seed: settings.seed,
    skipUnpaired: settings.skipUnpaired,
    resume: settings.resume,
    maxPixels: settings.maxPixels ?? null,
    show: settings.show,
  };
}

export type ReportSettings = ReturnType<typeof reportSettings>;

/** How many rows the run planned and what became of them. */
export interface RowCounts {
  /** Rows in the report (resumed or run now). */
  rows: number;
  /** Rows planned: images x passes. */
  total: number;
  failed: number;
  notRun: number;
  resumed: number;
}

/** The settings table at the top of report.html: `[label, value]` rows. */
export function htmlSettings(settings: EvalSettings, dataset: EvalDataset, model: RunningModel, counts: RowCounts): [string, string][] {
  const { rows, total, failed, notRun, resumed } = counts;
  return [
    ['dataset', `${dataset.path} (${dataset.layout === 'folder' ? 'Tp/ + Gt/ folder' : 'JSON pair list'}, ${dataset.items.length} images)`],
    ['weights', settings.weights],
    ['config', settings.config ?? '(from the weights, else base)'],
    ['device', `${model.device} (${model.backend})`],
    ['protocol', `${settings.protocol}: ${PROTOCOL_DESCRIPTIONS[settings.protocol]}`],
    ['threshold', String(settings.threshold)],
    ['perturbations', settings.perturbations.length ? settings.perturbations.map((p) => p.name).join(', ') : 'none'],
    ['rows', `${rows} of ${total} (${failed} failed${notRun > 0 ? `, ${notRun} not run` : ''}; ${resumed} resumed)`],
    ['version', `@sparsevit/cli ${version}`],
  ];
}
