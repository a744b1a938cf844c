import {
  bytesSource,
  checkOneOf,
  CONFIG_METADATA_KEY,
  SparseViTError,
  type ByteSource,
  FEATURE_NAMES,
  sparseViTGraph,
  stageSides,
  type GraphWeights,
  type SparseViTConfig,
} from '@sparsevit/core';
import { onnx, type OnnxProto } from './onnx-proto';
import { OnnxGraphBuilder, type ExternalDataLayout, type OnnxDtype, type OnnxWeightStorage, type Q8Target } from './onnx-graph-builder';

/** Opset 17: the first with `LayerNormalization`, supported by every ONNX Runtime EP we target. */
export const ONNX_OPSET = 17;
/** The model's input, the preprocessed batch `[batch, 3, img, img]`. */
export const INPUT_NAME = 'input';
/** The output the detection pipeline reads: the probability maps `[batch, 1, img, img]`. */
export const PROBABILITY_NAME = 'probability';
/** Model metadata key holding the lowering's `dtype` (`fp32`, `fp16`, `q8`). */
export const DTYPE_METADATA_KEY = 'sparsevit.dtype';

export interface LowerToOnnxOptions {
  /** Add the six backbone features (`third1`, ..., `last`) as extra outputs. Default false. */
  features?: boolean;
  /**
   * The model's arithmetic (see `OnnxDtype`): `fp32` (default), `fp16` (FLOAT16 weights, float32
   * arithmetic, half the file) or `q8` (the linears and 1x1 convs of the encoder in int8 with
   * dynamic activation quantization, the rest as `fp16`: about a quarter of the file).
   */
  dtype?: OnnxDtype;
  /**
   * Where a `q8` model will run (see `Q8Target`): `cpu` (default; ONNX Runtime CPU) keeps the
   * convolutional stages NHWC around their int8 products; `wasm` (onnxruntime-web) runs those
   * products on the NCHW map. Both quantize the same weights; each runs slower on the other.
   */
  q8Target?: Q8Target;
  /** The older spelling of `dtype: 'fp16'` (`float16`) and `'fp32'` (`float32`). */
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
  return encodeModel(config, new OnnxGraphBuilder(weights, resolveDtype(options), undefined, options.q8Target), options);
}

/** The values of `dtype`. */
export const ONNX_DTYPES: readonly OnnxDtype[] = ['fp32', 'fp16', 'q8'];

/** `dtype`, or the dtype `weightStorage` means; a typed error for an unknown or contradicting one. */
export function resolveDtype(options: Pick<LowerToOnnxOptions, 'dtype' | 'weightStorage'>): OnnxDtype {
  // The adapters check `dtype` as they load (before reading any weights); this is the check for
  // callers of the lowering itself, with the same rule and message.
  const dtype = options.dtype === undefined ? undefined : checkOneOf('dtype', options.dtype, ONNX_DTYPES);
  const weightStorage = options.weightStorage === undefined ? undefined : checkOneOf('weightStorage', options.weightStorage, ['float32', 'float16'] as const);
  const fromStorage = weightStorage === 'float16' ? 'fp16' : weightStorage === 'float32' ? 'fp32' : undefined;
  if (dtype !== undefined && fromStorage !== undefined && dtype !== fromStorage) {
    throw new SparseViTError('INVALID_ARGUMENT', `dtype ${dtype} contradicts weightStorage ${weightStorage}; give dtype only`);
  }
  return dtype ?? fromStorage ?? 'fp32';
}

/** A model whose weights live in a separate file (ONNX external data). */
export interface OnnxModelWithExternalData {
  /** The model without weights (a few hundred KB). */
  model: Uint8Array;
  /** The weights file's bytes, in order: write them to `location` beside the model. */
  data: Uint8Array[];
  dataSize: number;
  location: string;
}

/**
 * `lowerToOnnx` with the weights as ONNX external data, each tensor 64 KiB-aligned so a runtime
 * can map it from disk. The data chunks are views of `weights` (nothing is copied).
 */
export function lowerToOnnxWithExternalData(
  config: SparseViTConfig,
  weights: GraphWeights,
  layout: ExternalDataLayout,
  options: LowerToOnnxOptions = {},
): OnnxModelWithExternalData {
  const builder = new OnnxGraphBuilder(weights, resolveDtype(options), layout, options.q8Target);
  const model = encodeModel(config, builder, options);
  return { model, data: builder.externalChunks, dataSize: builder.externalSize, location: layout.location };
}

/**
 * Moves the initializers of a serialized ONNX model (weights larger than 1 KiB) into external
 * data, 64 KiB-aligned like `lowerToOnnxWithExternalData`: for an `.onnx` file from elsewhere,
 * so a runtime can map its weights too. The data chunks are views of `bytes`.
 */
export function externalizeOnnxWeights(bytes: Uint8Array, layout: ExternalDataLayout): OnnxModelWithExternalData {
  let model: OnnxProto.IModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new SparseViTError('CORRUPT_WEIGHTS', 'the .onnx file is not a valid ONNX model', { cause: error });
  }
  const alignment = layout.alignment ?? 65536;
  const data: Uint8Array[] = [];
  let size = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    if (!raw || raw.byteLength <= 1024 || tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) continue;
    const offset = Math.ceil(size / alignment) * alignment;
    if (offset > size) data.push(new Uint8Array(offset - size));
    data.push(raw);
    size = offset + raw.byteLength;
    tensor.rawData = new Uint8Array(0);
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: layout.location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.byteLength) },
    ];
  }
  return { model: onnx.ModelProto.encode(model).finish(), data, dataSize: size, location: layout.location };
}

function encodeModel(config: SparseViTConfig, builder: OnnxGraphBuilder, options: LowerToOnnxOptions): Uint8Array {
  const outputs = sparseViTGraph(builder, config, INPUT_NAME, { features: options.features });
  const [, , s3, s4] = stageSides(config);
  const [, , c3, c4] = config.embed_dim;

  const graphOutputs: Array<[string, string, (number | string)[]]> = [
    [outputs.logits, 'logits', ['batch', 1, s3, s3]],
    [outputs.probability, PROBABILITY_NAME, ['batch', 1, config.img_size, config.img_size]],
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

  const graph = builder.liveGraph(graphOutputs.map(([, name]) => name));
  const model: OnnxProto.IModelProto = {
    irVersion: 8,
    producerName: '@sparsevit/onnx',
    producerVersion: options.producerVersion ?? '',
    domain: 'ai.sparsevit',
    docString: 'SparseViT image manipulation localization (AAAI 2025), lowered from @sparsevit/core.',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: [
      { key: CONFIG_METADATA_KEY, value: JSON.stringify(config) },
      { key: DTYPE_METADATA_KEY, value: builder.dtype },
    ],
    graph: {
      name: 'sparsevit',
      node: graph.nodes,
      initializer: graph.initializers,
      input: [valueInfo(INPUT_NAME, ['batch', 3, config.img_size, config.img_size])],
      output: graphOutputs.map(([, name, shape]) => valueInfo(name, shape)),
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** A float32 graph input or output of `dims` (a string is a named dynamic dimension). */
export function valueInfo(name: string, dims: (number | string)[]): OnnxProto.IValueInfoProto {
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
 * Reads the `SparseViTConfig` JSON stored by `lowerToOnnx`, if any, from a serialized model
 * behind a ByteSource. Walks only the top-level fields of the ModelProto, reading their headers
 * and skipping their bodies, so a 200 MB model costs a few small reads.
 */
export async function readOnnxConfig(source: ByteSource | Uint8Array): Promise<unknown> {
  return (await readOnnxDescription(source)).config;
}

/** The `dtype` recorded by `lowerToOnnx` in a serialized model, or undefined (a file from elsewhere). */
export async function readOnnxDtype(source: ByteSource | Uint8Array): Promise<OnnxDtype | undefined> {
  return (await readOnnxDescription(source)).dtype;
}

/**
 * What `lowerToOnnx` records in a serialized model, read in one scan of its top-level fields:
 * the config (parsed JSON, not yet validated) and the dtype; each undefined when absent.
 */
export async function readOnnxDescription(source: ByteSource | Uint8Array): Promise<{ config: unknown; dtype: OnnxDtype | undefined }> {
  const found = await readOnnxMetadata(source, [CONFIG_METADATA_KEY, DTYPE_METADATA_KEY]);
  const config = found[CONFIG_METADATA_KEY];
  return { config: config === undefined ? undefined : JSON.parse(config), dtype: ONNX_DTYPES.find((d) => d === found[DTYPE_METADATA_KEY]) };
}

/** The values of the given `metadata_props` keys, read as `readOnnxConfig` reads (headers only). */
export async function readOnnxMetadata(source: ByteSource | Uint8Array, keys: readonly string[]): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const src = source instanceof Uint8Array ? bytesSource(source) : source;
  let pos = 0;
  const varint = async (): Promise<number> => {
    const bytes = await src.read(pos, Math.min(10, src.size - pos));
    let value = 0;
    for (let i = 0; i < bytes.length; i++) {
      value += (bytes[i] & 0x7f) * 2 ** (7 * i);
      if ((bytes[i] & 0x80) === 0) {
        pos += i + 1;
        return value;
      }
    }
    throw new SparseViTError('CORRUPT_WEIGHTS', `malformed varint at byte ${pos} of the .onnx file`);
  };
  while (pos < src.size) {
    const tag = await varint();
    const wireType = tag % 8;
    const field = Math.floor(tag / 8);
    let skip: number;
    if (wireType === 0) {
      await varint();
      continue;
    } else if (wireType === 1) skip = 8;
    else if (wireType === 5) skip = 4;
    else if (wireType === 2) skip = await varint();
    else throw new SparseViTError('CORRUPT_WEIGHTS', `the .onnx file has an unsupported protobuf wire type ${wireType} at byte ${pos}`);
    if (pos + skip > src.size) throw new SparseViTError('CORRUPT_WEIGHTS', 'the .onnx file is truncated');
    if (field === MODEL_METADATA_PROPS_FIELD && wireType === 2) {
      const entry = onnx.StringStringEntryProto.decode(await src.read(pos, skip));
      if (keys.includes(entry.key)) found[entry.key] = entry.value;
    }
    pos += skip;
  }
  return found;
}
