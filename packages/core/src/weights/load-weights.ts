/**
 * Format detection and dispatch for weight files: safetensors and `torch.save` checkpoints are read
 * here; ONNX models carry their weights inside the graph and are loaded through an adapter.
 */
import { SparseViTError } from '../errors';
import type { ByteSource } from './byte-source';
import { isLegacyTorchFile, readPyTorchCheckpoint, type PyTorchCheckpointOptions } from './pytorch-checkpoint';
import { readSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from './safetensors';
import { readExact, toByteSource } from './source-io';
import type { TensorCheck, TensorStore } from './tensor';
import { hasZipMagic } from './zip';

export type WeightsFormat = 'safetensors' | 'pytorch' | 'onnx' | 'unknown';

/** Bytes `detectWeightsFormat` looks at. */
export const WEIGHTS_SNIFF_BYTES = 16;

/**
 * Guesses the format from the first bytes of a file (16 are enough): a zip local header is a
 * `torch.save` checkpoint (as is the legacy pickle magic, so its reader can explain it); an
 * 8-byte little-endian length within safetensors' limit followed by `{` is safetensors; a first
 * byte 0x08 (protobuf field 1, varint: ModelProto.ir_version) is taken as ONNX, best effort.
 */
export function detectWeightsFormat(firstBytes: Uint8Array): WeightsFormat {
  if (hasZipMagic(firstBytes) || isLegacyTorchFile(firstBytes)) return 'pytorch';
  if (firstBytes.length >= 9 && firstBytes[8] === 0x7b) {
    const view = new DataView(firstBytes.buffer, firstBytes.byteOffset, firstBytes.byteLength);
    const n = view.getBigUint64(0, true);
    if (n >= 2n && n <= BigInt(SAFETENSORS_MAX_HEADER_BYTES)) return 'safetensors';
  }
  if (firstBytes.length >= 1 && firstBytes[0] === 0x08) return 'onnx';
  return 'unknown';
}

export interface ReadWeightsOptions {
  readonly pytorch?: PyTorchCheckpointOptions;
  /**
   * Runs on every tensor's name, dtype and shape and the file's metadata before any tensor data
   * is read or copied; throw to refuse the file. Pass `validateStateDict` against the config the
   * weights are for, and a file whose shapes are not the model's is refused for the price of its
   * header:
   *
   * ```ts
   * const store = await readWeights(source, undefined, {
   *   checkTensors: (tensors, metadata) => validateStateDict({ tensors }, resolveConfig(config, metadata)),
   * });
   * ```
   */
  readonly checkTensors?: TensorCheck;
}

/**
 * The format of a weights file: `format` when given, else detected from its first bytes. An empty
 * file is refused here, the one place every loader goes through.
 */
export async function sniffWeightsFormat(input: ByteSource | Uint8Array, format?: WeightsFormat): Promise<WeightsFormat> {
  const source = toByteSource(input);
  if (source.size === 0) throw new SparseViTError('CORRUPT_WEIGHTS', 'the weights file is empty (0 bytes)');
  if (format !== undefined) return format;
  return detectWeightsFormat(await readExact(source, 0, Math.min(source.size, WEIGHTS_SNIFF_BYTES), 'file header'));
}

/** Reads a safetensors file or a PyTorch checkpoint, detecting which unless `format` says. */
export async function readWeights(
  input: ByteSource | Uint8Array,
  format?: WeightsFormat,
  options: ReadWeightsOptions = {},
): Promise<TensorStore> {
  const source = toByteSource(input);
  const fmt = await sniffWeightsFormat(source, format);
  switch (fmt) {
    case 'safetensors':
      return readSafetensors(source, { checkTensors: options.checkTensors });
    case 'pytorch':
      return readPyTorchCheckpoint(source, { checkTensors: options.checkTensors, ...options.pytorch });
    case 'onnx':
      throw new SparseViTError(
        'UNSUPPORTED_FORMAT',
        'an .onnx file is a compiled graph for ONNX Runtime, with its weights inside: load it with @sparsevit/node (Node) or @sparsevit/web (browsers), or pass the .safetensors / .pth it was made from',
      );
    default:
      throw new SparseViTError(
        'UNSUPPORTED_FORMAT',
        'unrecognized weights format: expected a .safetensors file or a torch.save (.pth) checkpoint',
      );
  }
}
