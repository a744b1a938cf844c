import { DEFAULT_MODEL } from '@sparsevit/default-model';
import type { ModelSettings } from '../model-host';
import { CommandUsageError, type OptionTable } from './option-table';

/** The flags `serve` and `worker` share: which model, where it runs, the pixel limit, logging. */
export const MODEL_FLAGS = {
  weights: { kind: 'string', short: 'w' },
  config: { kind: 'string', short: 'c' },
  device: { kind: 'string', short: 'd' },
  'fallback-cpu': { kind: 'flag' },
  threads: { kind: 'integer', min: 1 },
  'max-pixels': { kind: 'integer', min: 1 },
  'log-level': { kind: 'string' },
} as const satisfies OptionTable;

/** 40 MP: a 7300x5500 photo. Decoding one takes ~120 MB (RGB) and its probability map ~160 MB. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

const DEVICES = ['cpu', 'cuda', 'webgpu'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type ModelFlagValues = {
  weights?: string;
  config?: string;
  device?: string;
  'fallback-cpu'?: boolean;
  threads?: number;
  'max-pixels'?: number;
  'log-level'?: string;
};

/**
 * The model flags as settings. Without `--weights`, the SDK's default model
 * (`@sparsevit/default-model`); `defaultModelNotice` then says which it is, for the log.
 */
export function modelSettingsFrom(command: string, options: ModelFlagValues): ModelSettings & { logLevel: string; defaultModelNotice?: string } {
  const device = (options.device ?? 'cpu') as ModelSettings['device'];
  if (!DEVICES.includes(device)) throw new CommandUsageError(command, `--device must be one of ${DEVICES.join(', ')}, got "${options.device}"`);
  const logLevel = options['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new CommandUsageError(command, `--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  return {
    weights: options.weights ?? DEFAULT_MODEL.file,
    defaultModelNotice: options.weights === undefined ? `no --weights given: using ${DEFAULT_MODEL.notice}` : undefined,
    config: options.config,
    device,
    fallbackCpu: Boolean(options['fallback-cpu']),
    threads: options.threads,
    maxPixels: options['max-pixels'] ?? DEFAULT_MAX_PIXELS,
    logLevel,
  };
}

/** `--redis`, else `SPARSEVIT_REDIS_URL`. */
export function redisUrlFrom(command: string, value: string | undefined): string {
  const url = value ?? process.env.SPARSEVIT_REDIS_URL;
  if (!url) throw new CommandUsageError(command, '--redis is required (or set SPARSEVIT_REDIS_URL)');
  if (!/^rediss?:\/\//.test(url)) throw new CommandUsageError(command, `--redis must be a redis:// or rediss:// URL, got "${url}"`);
  return url;
}
