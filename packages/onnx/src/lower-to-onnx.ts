import {
  CONFIG_METADATA_KEY,
  FEATURE_NAMES,
  sparseViTGraph,
  stageSides,
  type GraphWeights,
  type SparseViTConfig,
} from '@sparsevit/core';
import { onnx, Reader, type OnnxProto } from './onnx-proto';
import { OnnxGraphBuilder, type OnnxWeightStorage } from './onnx-graph-builder';

/** Opset 17: the first with `LayerNormalization`, supported by every ONNX Runtime EP we target. */
export const ONNX_OPSET = 17;
/** Metadata key under which the model's `SparseViTConfig` travels as JSON. */
export const INPUT_NAME = 'input';

export interface LowerToOnnxOptions {
  /** Add the six backbone features (`third1`, ..., `last`) as extra outputs. Default false. */
  features?: boolean;
  /** `float16` halves the file (weights stored as FLOAT16, computed in float32). Default `float32`. */
  weightStorage?: OnnxWeightStorage;
  /** Free-form producer version written into the model. */
  producerVersion?: string;
}

/**
 * Lowers SparseViT (the one definition in `@sparsevit/core`) with prepared weights to a
 * serialized ONNX model: input `input` `[batch, 3, img, img]` (dynamic batch), outputs `logits`
 * `[batch, 1, img/16, img/16]` and `probability` `[batch, 1, img, img]`, plus the features on
 * request. The config is stored in the model's metadata so an `.onnx` file is self-describing.
 */
export function lowerToOnnx(config: SparseViTConfig, weights: GraphWeights, options: LowerToOnnxOptions = {}): Uint8Array {
  const builder = new OnnxGraphBuilder(weights, options.weightStorage);
  const outputs = sparseViTGraph(builder, config, INPUT_NAME, { features: options.features });
  const [, , s3, s4] = stageSides(config);
  const [, , c3, c4] = config.embed_dim;

  const graphOutputs: Array<[string, string, (number | string)[]]> = [
    [outputs.logits, 'logits', ['batch', 1, s3, s3]],
    [outputs.probability, 'probability', ['batch', 1, config.img_size, config.img_size]],
  ];
  if (outputs.features) {
    FEATURE_NAMES.forEach((name, i) => {
      const [c, s] = i < 4 ? [c3, s3] : [c4, s4];
      graphOutputs.push([outputs.features![name], name, ['batch', c, s, s]]);
    });
  }
  // Give graph outputs their public names with Identity nodes, so the recorded value names stay
  // internal and the same value can back two outputs.
  for (const [value, name] of graphOutputs) {
    builder.nodes.push({ opType: 'Identity', name: `output_${name}`, input: [value], output: [name] });
  }

  const model: OnnxProto.IModelProto = {
    irVersion: 8,
    producerName: '@sparsevit/onnx',
    producerVersion: options.producerVersion ?? '',
    domain: 'ai.sparsevit',
    docString: 'SparseViT image manipulation localization (AAAI 2025), lowered from @sparsevit/core.',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [{ key: CONFIG_METADATA_KEY, value: JSON.stringify(config) }],
    graph: {
      name: 'sparsevit',
      node: builder.nodes,
      initializer: builder.initializers,
      input: [valueInfo(INPUT_NAME, ['batch', 3, config.img_size, config.img_size])],
      output: graphOutputs.map(([, name, shape]) => valueInfo(name, shape)),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

function valueInfo(name: string, dims: (number | string)[]): OnnxProto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** `ModelProto.metadata_props` field number (onnx.proto). */
const MODEL_METADATA_PROPS_FIELD = 14;

/**
 * Reads the `SparseViTConfig` JSON stored by `lowerToOnnx`, if any. Walks only the top-level
 * fields of the ModelProto and skips the graph, so a 200 MB model is not decoded for a few bytes
 * of metadata.
 */
export function readOnnxConfig(bytes: Uint8Array): unknown {
  const reader = Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === MODEL_METADATA_PROPS_FIELD && (tag & 7) === 2) {
      const entry = onnx.StringStringEntryProto.decode(reader, reader.uint32());
      if (entry.key === CONFIG_METADATA_KEY) return JSON.parse(entry.value);
    } else {
      reader.skipType(tag & 7);
    }
  }
  return undefined;
}
