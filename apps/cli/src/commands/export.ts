import { writeFile } from 'node:fs/promises';
import { parseCommandArgs } from '../args';
import { explainLoadError } from '../errors';
import { formatBytes } from '../format-bytes';
import { EXPORT_USAGE, printHelp } from '../help';
import { UsageError } from '../usage-error';
import { version } from '../version';

/** `sparsevit export`: returns the exit code. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('export', argv, {
    config: { type: 'string', short: 'c' },
    features: { type: 'boolean' },
  });
  if (values.help) return printHelp(EXPORT_USAGE);
  if (positionals.length !== 2) throw new UsageError(`expected <weights> <out.onnx>, got ${positionals.length} argument(s)`, 'export');
  const [input, output] = positionals;

  const [{ openFileSource, SparseViTError }, { buildOnnxModel, ONNX_OPSET }, { loadConfigOption }] = await Promise.all([
    import('@sparsevit/node'),
    import('@sparsevit/onnx'),
    import('../config-option'),
  ]);
  const config = await loadConfigOption(values.config as string | undefined);
  const features = Boolean(values.features);
  let built;
  try {
    const source = await openFileSource(input);
    try {
      built = await buildOnnxModel(source, { config, features, producerVersion: version });
    } finally {
      await source.close();
    }
  } catch (error) {
    throw explainLoadError(error, input, config === undefined);
  }
  try {
    await writeFile(output, built.model);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot write ${output}: ${(error as Error).message}`, { cause: error });
  }
  const outputs = features ? 'logits, probability and 6 features' : 'logits and probability';
  const side = built.config.img_size;
  process.stdout.write(
    `sparsevit: wrote ${output}: ${formatBytes(built.model.byteLength)}, opset ${ONNX_OPSET}, ${side}x${side} input, outputs ${outputs} (from ${built.format})\n`,
  );
  return 0;
}
