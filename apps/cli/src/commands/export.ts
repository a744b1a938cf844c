import { parseCommandArgs } from '../args';
import { loadConfigOption } from '../config-option';
import { formatBytes } from '../format-bytes';
import { EXPORT_USAGE, printHelp } from '../help';
import { parseDtype } from '../load-cli-model';
import { withWeightsFile, writeModelFile } from '../model-files';
import { UsageError } from '../usage-error';
import { version } from '../version';

/** `sparsevit export`: returns the exit code. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('export', argv, {
    config: { type: 'string', short: 'c' },
    features: { type: 'boolean' },
    dtype: { type: 'string' },
  });
  if (values.help) return printHelp(EXPORT_USAGE);
  if (positionals.length !== 2) throw new UsageError(`expected <weights> <out.onnx>, got ${positionals.length} argument(s)`, 'export');
  const [input, output] = positionals;
  const dtype = parseDtype('export', values.dtype as string | undefined, 'onnx') ?? 'fp32';

  // The ONNX lowering (and its protobuf code) is loaded once the arguments are checked.
  const { buildOnnxModel, ONNX_OPSET } = await import('@sparsevit/onnx');
  const config = await loadConfigOption(values.config as string | undefined);
  const features = Boolean(values.features);
  const built = await withWeightsFile(input, config === undefined, (source) => buildOnnxModel(source, { config, features, dtype, producerVersion: version }));
  await writeModelFile(output, built.model);
  const outputs = features ? 'logits, probability and 6 features' : 'logits and probability';
  const side = built.config.img_size;
  process.stdout.write(
    `sparsevit: wrote ${output}: ${formatBytes(built.model.byteLength)}, ${dtype}, opset ${ONNX_OPSET}, ${side}x${side} input, outputs ${outputs} (from ${built.format})\n`,
  );
  return 0;
}
