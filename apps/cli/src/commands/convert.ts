import { convertStore, numel, type TensorStore } from '@sparsevit/core';
import { parseCommandArgs } from '../args';
import { loadConfigOption } from '../config-option';
import { formatBytes } from '../format-bytes';
import { CONVERT_USAGE, printHelp } from '../help';
import { readCheckedWeights, safetensorsWithConfig, writeModelFile } from '../model-files';
import { UsageError } from '../usage-error';

/** `F32 424, I64 4`: how many tensors of each dtype. */
function dtypeCounts(store: TensorStore): string {
  const counts = new Map<string, number>();
  for (const t of store.tensors.values()) counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + 1);
  return [...counts].map(([dtype, n]) => `${dtype} ${n}`).join(', ');
}

/** `sparsevit convert`: returns the exit code. */
export async function convertCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('convert', argv, {
    config: { type: 'string', short: 'c' },
    fp16: { type: 'boolean' },
    dtype: { type: 'string' },
  });
  if (values.help) return printHelp(CONVERT_USAGE);
  if (positionals.length !== 2) throw new UsageError(`expected <in> <out.safetensors>, got ${positionals.length} argument(s)`, 'convert');
  const [input, output] = positionals;
  const dtype = values.dtype as string | undefined;
  if (dtype === 'q8') throw new UsageError('--dtype q8 is a quantized ONNX lowering, not a weights file: sparsevit export <weights> <out.onnx> --dtype q8', 'convert');
  if (dtype !== undefined && dtype !== 'fp32' && dtype !== 'fp16') throw new UsageError(`--dtype must be fp32 or fp16, got "${dtype}"`, 'convert');
  if (dtype === 'fp32' && values.fp16) throw new UsageError('--dtype fp32 and --fp16 contradict each other', 'convert');
  const fp16 = Boolean(values.fp16) || dtype === 'fp16';

  const explicit = await loadConfigOption(values.config as string | undefined);

  // The shapes are checked against the config before any tensor is read.
  const { store, config } = await readCheckedWeights(input, explicit);

  const converted = fp16 ? convertStore(store, 'F16') : store;
  const bytes = safetensorsWithConfig(converted, config);
  await writeModelFile(output, bytes);

  let values_ = 0;
  for (const t of converted.tensors.values()) values_ += numel(t.shape);
  process.stdout.write(
    `sparsevit: wrote ${output}: ${converted.tensors.size} tensors, ${values_} values (${dtypeCounts(converted)}), ${formatBytes(bytes.byteLength)}\n`,
  );
  return 0;
}
