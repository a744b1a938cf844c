import { DEFAULT_MODEL } from '@sparsevit/default-model';
import { numberOption, requiredOption } from './args';
import { parseBackendDevice, parseDtype, type CliBackend, type CliDtype } from './load-cli-model';

/** The flags every command that runs the model shares (`detect`, `eval`). */
export const MODEL_OPTIONS = {
  weights: { type: 'string', short: 'w' },
  out: { type: 'string', short: 'o' },
  config: { type: 'string', short: 'c' },
  backend: { type: 'string' },
  device: { type: 'string', short: 'd' },
  threshold: { type: 'string', short: 't' },
  'batch-size': { type: 'string', short: 'b' },
  'max-pixels': { type: 'string' },
  'fallback-cpu': { type: 'boolean' },
  dtype: { type: 'string' },
} as const;

export interface ModelCommandSettings {
  weights: string;
  outDir: string;
  config?: string;
  backend: CliBackend;
  device: string;
  fallbackCpu: boolean;
  threshold: number;
  batchSize: number;
  maxPixels?: number;
  dtype?: CliDtype;
}

/** Reads and checks the `MODEL_OPTIONS` of a parsed command line (usage errors name `command`). */
export function parseModelOptions(command: string, values: Record<string, string | boolean | undefined>): ModelCommandSettings {
  const str = (name: string) => values[name] as string | undefined;
  const backendDevice = parseBackendDevice(command, str('backend'), str('device'));
  return {
    // Without --weights: the trained default model (loadCliModel says so once).
    weights: str('weights') ?? DEFAULT_MODEL.file,
    outDir: requiredOption(command, 'out', str('out')),
    config: str('config'),
    ...backendDevice,
    dtype: parseDtype(command, str('dtype'), backendDevice.backend),
    fallbackCpu: Boolean(values['fallback-cpu']),
    threshold: numberOption(command, 'threshold', str('threshold'), { min: 0, max: 1 }) ?? 0.5,
    batchSize: numberOption(command, 'batch-size', str('batch-size'), { integer: true, min: 1 }) ?? 1,
    maxPixels: numberOption(command, 'max-pixels', str('max-pixels'), { integer: true, min: 1 }),
  };
}
