/** Usage texts, printed by `--help` (stdout) and after a usage error (stderr). */

export const MAIN_USAGE = `Usage: sparsevit <command> [options]

SparseViT image manipulation localization.

Commands:
  detect   Localize manipulated regions in images (probability map, mask, overlay)
  convert  Convert .pth / .safetensors weights to a validated .safetensors (optionally fp16)
  export   Export weights to a self-describing ONNX model

Options:
  -h, --help     Show help (also: sparsevit <command> --help)
  -v, --version  Show the version

Exit codes: 0 success, 1 failure (an input or the weights), 2 usage error.`;

export const DETECT_USAGE = `Usage: sparsevit detect <files or folders...> --weights <file> --out <dir> [options]

Runs SparseViT on every input and writes, for each input <stem>:
  <stem>.prob.npy     float32 H x W manipulation probability (NumPy .npy)
  <stem>.mask.png     8-bit grayscale mask, 255 where probability > threshold
  <stem>.overlay.png  the image tinted red in proportion to the probability
  <stem>.json         size, score, threshold, device, timings, input path
and <out>/summary.json for the whole run. Folders are expanded (not recursively) to
their .jpg .jpeg .png .webp .tif .tiff .gif .avif files, sorted by name.

Options:
  -w, --weights <file>    .pth, .safetensors or .onnx weights (required)
  -o, --out <dir>         Output folder, created if missing (required)
  -c, --config <json>     Model config JSON file (default: from the weights, else "base")
  -d, --device <name>     cpu | cuda | webgpu (default cpu)
      --fallback-cpu      Run on the CPU when the device is not available
  -t, --threshold <p>     Mask threshold in [0, 1] (default 0.5)
  -b, --batch-size <n>    Images per forward pass (default 1)
      --max-pixels <n>    Largest accepted image in pixels (default 100000000)
  -h, --help              Show this help

Exit codes: 0 every input succeeded; 1 any input failed (see summary.json) or the
weights could not be loaded; 2 usage error.`;

export const CONVERT_USAGE = `Usage: sparsevit convert <in.pth|in.safetensors> <out.safetensors> [options]

Reads the model weights (a training checkpoint is read for its "model" entry only),
checks them against the config and writes safetensors with the config in its metadata.

Options:
  -c, --config <json>  Model config JSON file (default: from the weights, else "base")
      --fp16           Store floating-point tensors as float16 (half the size)
  -h, --help           Show this help`;

export const EXPORT_USAGE = `Usage: sparsevit export <weights> <out.onnx> [options]

Builds the ONNX model (input "input" [batch, 3, S, S]; outputs "logits" and
"probability") from .pth, .safetensors or .onnx weights; the config travels in its metadata.

Options:
  -c, --config <json>  Model config JSON file (default: from the weights, else "base")
      --features       Also output the six backbone features
  -h, --help           Show this help`;

export const USAGE: Record<string, string> = {
  detect: DETECT_USAGE,
  convert: CONVERT_USAGE,
  export: EXPORT_USAGE,
};

/** Prints a usage text on stdout (for `--help`); returns exit code 0. */
export function printHelp(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}
