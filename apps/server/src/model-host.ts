import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import sharp from 'sharp';
import { sha256OfFile } from './file-hash';
import { loadModel, PRESETS, SparseViTError, validateConfig, type ConfigInput, type NodeDevice, type NodeSparseViTModel, type SparseViTConfig } from '@sparsevit/node';

/** How the service and the workers load the model. */
export interface ModelSettings {
  /** A `.pth`, `.safetensors` or `.onnx` file. */
  weights: string;
  /** A config JSON file or a preset name; default: the weights' metadata, else `base`. */
  config?: string;
  device: NodeDevice;
  /** Run on the CPU when `device` cannot start (with a warning) instead of failing. */
  fallbackCpu: boolean;
  /** Largest accepted image, in pixels (checked from the header, before decoding). */
  maxPixels: number;
  /** ONNX Runtime threads per operator; default: every core. */
  threads?: number;
}

/** Which model answers: reported by `/readyz`, `/v1/model`, every detection and every scan result. */
export interface ModelIdentity {
  /** The weights file's name. */
  weights: string;
  /** SHA-256 of the weights file, hex: the model's identity whatever the file is called. */
  sha256: string;
  backend: string;
  device: string;
  /** Side of the square the network sees. */
  imgSize: number;
  config: SparseViTConfig;
}

async function sha256File(path: string): Promise<string> {
  try {
    return await sha256OfFile(path);
  } catch (error) {
    throw new SparseViTError('IO_ERROR', `cannot read the weights ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/** `--config`: a preset name as it is, else a JSON file, validated. */
async function resolveConfigOption(value: string | undefined): Promise<ConfigInput | undefined> {
  if (value === undefined || Object.hasOwn(PRESETS, value)) return value as ConfigInput | undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(value, 'utf8'));
  } catch (error) {
    throw new SparseViTError('INVALID_CONFIG', `cannot read the config ${value} as JSON: ${(error as Error).message}`, { cause: error });
  }
  return validateConfig(json);
}

/**
 * Loads the model through `@sparsevit/node` and runs one warm-up detection, so the first
 * request does not pay for ONNX Runtime's first-run allocations. Resolves once the model is
 * ready to answer.
 */
export async function loadServiceModel(settings: ModelSettings, onWarning: (message: string) => void): Promise<{ model: NodeSparseViTModel; identity: ModelIdentity }> {
  const [config, sha256] = await Promise.all([resolveConfigOption(settings.config), sha256File(settings.weights)]);
  const model = await loadModel({
    weights: settings.weights,
    config,
    device: settings.device,
    fallbackToCpu: settings.fallbackCpu,
    onWarning,
    maxPixels: settings.maxPixels,
    intraOpNumThreads: settings.threads,
  });
  try {
    await warmUp(model);
  } catch (error) {
    await model.dispose();
    throw error;
  }
  const identity: ModelIdentity = {
    weights: basename(settings.weights),
    sha256,
    backend: model.backend,
    device: model.device,
    imgSize: model.config.img_size,
    config: model.config,
  };
  return { model, identity };
}

/**
 * One detection through the whole pipeline, from encoded bytes: a synthetic 640x480 JPEG is
 * decoded (sharp and its threads start), preprocessed, run (ONNX Runtime allocates its buffers)
 * and resampled. The first request then costs what every request costs, and the memory a
 * steady stream of photos needs is already taken when the service reports ready.
 */
async function warmUp(model: NodeSparseViTModel): Promise<void> {
  const [width, height] = [640, 480];
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + (i >> 11)) & 255;
  const jpeg = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  await model.detect(jpeg);
}
