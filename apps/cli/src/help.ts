/** Usage texts, printed by `--help` (stdout) and after a usage error (stderr). */
// The server commands' texts live with them (plain strings: nothing heavy is loaded here).
import { SCAN_USAGE, SERVE_USAGE, WORKER_USAGE } from '@sparsevit/server/commands';

/** Help for the flags every model-running command shares (see model-options.ts). */
const MODEL_OPTION_HELP = `  -w, --weights <file>    .pth, .safetensors or .onnx weights (default: the trained
                          default model, small preset, synthetic training data)
  -o, --out <dir>         Output folder, created if missing (required)
  -c, --config <json>     Model config JSON file (default: from the weights, else "base")
      --backend <name>    onnx (ONNX Runtime, default) | tfjs (TensorFlow.js)
  -d, --device <name>     onnx: cpu | cuda | webgpu; tfjs: wasm | cpu (default: the first)
      --fallback-cpu      Run on the CPU when the device is not available
      --dtype <type>      onnx: fp32 (default) | fp16 (fp16 weights) | q8 (int8 attention
                          linears, dynamic activations: smaller, faster on CPU and WASM)`;

export const MAIN_USAGE = `Usage: sparsevit <command> [options]

SparseViT image manipulation localization.

Commands:
  detect     Localize manipulated regions in images (probability map, mask, overlay)
  convert    Convert .pth / .safetensors weights to a validated .safetensors (optionally fp16)
  export     Export weights to a self-describing ONNX model
  eval       Evaluate on a labelled dataset (F1, IoU, AUC; robustness sweeps; HTML report)
  calibrate  Choose the mask threshold on validation images and write weights whose 0.5 is it
  synth      Make a dataset of synthetic manipulations with exact masks from photos
  train      Train SparseViT (TensorFlow.js): checkpoints, resume, report, inference export
  serve      Serve the model over HTTP (limits, API keys, metrics, OpenAPI, graceful shutdown)
  scan       Queue images for workers on Redis (BullMQ); --status shows the progress
  worker     Run queued scan jobs: any number, on any number of machines

Options:
  -h, --help     Show help (also: sparsevit <command> --help)
  -v, --version  Show the version

Exit codes: 0 success, 1 failure (an input or the weights), 2 usage error, 130 interrupted.`;

export const DETECT_USAGE = `Usage: sparsevit detect <files or folders...> --out <dir> [--weights <file>] [options]

Runs SparseViT on every input and writes, for each input <stem>:
  <stem>.prob.npy     float32 H x W manipulation probability (NumPy .npy)
  <stem>.mask.png     8-bit grayscale mask, 255 where probability > threshold
  <stem>.overlay.png  the image tinted red in proportion to the probability
  <stem>.json         size, score, threshold, device, timings, input path
and <out>/summary.json for the whole run. Folders are expanded (not recursively) to
their .jpg .jpeg .png .webp .tif .tiff .gif .avif files, sorted by name.

Options:
${MODEL_OPTION_HELP}
  -t, --threshold <p>     Mask threshold in [0, 1] (default 0.5)
  -b, --batch-size <n>    Images per forward pass (default 1)
      --max-pixels <n>    Largest accepted image in pixels (default 100000000)
      --resume            Skip the inputs whose outputs in <out> are complete, run the rest
  -h, --help              Show this help

Exit codes: 0 every input succeeded; 1 any input failed (see summary.json) or the
weights could not be loaded; 2 usage error; 130 interrupted (Ctrl-C or SIGTERM; the
summary covers what was done, --resume continues).`;

export const CONVERT_USAGE = `Usage: sparsevit convert <in.pth|in.safetensors> <out.safetensors> [options]

Reads the model weights (a training checkpoint is read for its "model" entry only),
checks them against the config and writes safetensors with the config in its metadata.

Options:
  -c, --config <json>  Model config JSON file (default: from the weights, else "base")
      --fp16           Store floating-point tensors as float16 (half the size)
      --dtype <type>   fp32 (default) | fp16 (the same as --fp16); q8 is an ONNX
                       lowering: sparsevit export --dtype q8
  -h, --help           Show this help`;

export const EXPORT_USAGE = `Usage: sparsevit export <weights> <out.onnx> [options]

Builds the ONNX model (input "input" [batch, 3, S, S]; outputs "logits" and
"probability") from .pth, .safetensors or .onnx weights; the config travels in its metadata.

Options:
  -c, --config <json>  Model config JSON file (default: from the weights, else "base")
      --features       Also output the six backbone features
      --dtype <type>   fp32 (default) | fp16 (weights stored as fp16) | q8 (the attention
                       stages' linears int8 per output channel, activations quantized at
                       run time: about a quarter of the fp32 file)
  -h, --help           Show this help`;

export const EVAL_USAGE = `Usage: sparsevit eval <dataset dir | list.json> --out <dir> [--weights <file>] [options]

Evaluates the model on a dataset with ground-truth masks: a folder with Tp/ (images)
and Gt/ (masks, paired by name: x.jpg with x.png, x_gt.png or x_mask.png), or an
IMDLBenCo JSON pair list [["img", "mask" | "Negative"], ...] (paths relative to it).
Writes <out>/report.csv (one row per image, as it goes), <out>/report.json (means,
settings, rows) and <out>/report.html (one self-contained page).

Options:
${MODEL_OPTION_HELP}
  -p, --protocol <name>   imdlbenco (default: network-size map vs mask resized to it)
                          | native (full-size map vs mask at the image's size)
  -t, --threshold <p>     Pixel and image threshold in [0, 1] (default 0.5)
      --skip-unpaired     Leave out unpaired Tp/ and Gt/ files (listed in the report)
      --resume            Keep the rows of <out>/report.csv and run the rest
      --perturb <spec>    Robustness sweep, repeatable or ';'-separated, e.g.
                          jpeg:50,70,90 | blur:3,7,11,15 | noise:3,7 | noisevar:3,7
                          | resize:0.5,0.75 (reruns the evaluation for each value)
      --seed <n>          Seed of the noise perturbations (default 0)
      --show <n>          Best and worst images shown in the HTML (default 4 each)
  -b, --batch-size <n>    Images per forward pass (default 1)
      --max-pixels <n>    Largest accepted image in pixels (default 100000000)
  -h, --help              Show this help

Exit codes: 0 every row evaluated; 1 any image or mask failed (reports still written),
unpaired files without --skip-unpaired, or the weights could not be loaded; 2 usage
error; 130 interrupted (rows so far kept; --resume continues).`;

export const CALIBRATE_USAGE = `Usage: sparsevit calibrate <validation dataset dir | list.json> --out <out.safetensors> [--weights <file>] [options]

Runs the model on validation images (read as eval reads them), finds the threshold
with the best mean pixel F1 (0.01 to 0.99), and writes the weights with the output
bias shifted so that the usual 0.5 is that threshold: every runtime, the ONNX export
and q8 then use it with no setting. Image scores move monotonically (image AUC is
unchanged). The file records what was done (metadata "sparsevit.calibration").
Choose it on validation images, never on the images you report.

Options:
${MODEL_OPTION_HELP.replace('.pth, .safetensors or .onnx weights', '.pth or .safetensors weights').replace('-o, --out <dir>         Output folder, created if missing (required)', '-o, --out <file>        The calibrated .safetensors to write (required)')}
  -p, --protocol <name>   imdlbenco (default) | native, as in eval
      --skip-unpaired     Leave out unpaired Tp/ and Gt/ files
  -b, --batch-size <n>    Images per forward pass (default 1)
      --max-pixels <n>    Largest accepted image in pixels (default 100000000)
  -h, --help              Show this help

Exit codes: 0 written; 1 an image failed (the file is still written from the rest),
no manipulated image, or the weights could not be read; 2 usage error.`;

export const SYNTH_USAGE = `Usage: sparsevit synth --photos <dir> --count <n> --out <dir> [options]

Makes synthetic manipulations with exact masks (splice, copy-move, removal) and
authentic images from photos, deterministic from the seed, as a dataset eval reads:
  Tp/<name>.png      manipulated images        Gt/<name>_gt.png  their masks (0/255)
  Au/<name>.png      authentic images
  pairs.json         IMDLBenCo pair list, authentic images as "Negative" (evaluate this
                     file to score them as authentic; the folder alone pairs Tp/ and Gt/)
  synth.json         settings, photos, and each image's kind, mask fraction and steps
A folder from tooling/scripts/fetch-photos.mjs has a manifest.json with train/val/test
splits; any other folder of images is used whole. An existing output folder is replaced
only when it is an earlier synth dataset.

Options:
  -p, --photos <dir>            Folder of photos (required)
      --manifest <file>         Photo manifest (default: <photos>/manifest.json if present)
      --split <name>            train | val | test (default test; needs a manifest)
  -n, --count <n>               Number of images (required)
      --seed <n>                Seed (default 0); image i depends on (seed, i, photos) only
  -o, --out <dir>               Output folder (required)
      --size <n>                Square n x n images (default: photo-shaped)
      --max-side <n>            Long side of photo-shaped images (default 512)
      --kinds <k=w,...>         Weights of splice, copy-move, removal, authentic
                                (default splice=0.4,copy-move=0.2,removal=0.15,authentic=0.25)
      --authentic-fraction <f>  Fraction of authentic images; the others keep their ratios
      --area <min,max>          Manipulated area as a fraction of the image (default 0.02,0.35)
      --no-postprocess          No flips, scale, brightness/contrast, JPEG or blur
  -h, --help                    Show this help

Exit codes: 0 all written; 1 any image failed (a photo unreadable since the start; the
rest written) or no photo could be decoded; 2 usage error; 130 interrupted (what was
written is listed).`;

export const TRAIN_USAGE = `Usage: sparsevit train --out <dir> [options]

Trains SparseViT on the CPU with ONNX Runtime (the training step, gradients included,
lowered to ONNX from the same graph every backend infers with) or TensorFlow.js. The run folder gets, every few minutes and at the end:
  checkpoint.safetensors   weights, AdamW state, step, settings, history (--resume)
  model.safetensors        inference weights (authors' key layout, config in metadata)
  model-fp16.safetensors   the same in float16
  train-report.html        loss curve, validation F1/AUC over time, sample predictions
  train-log.jsonl          one line per step and per validation
Ctrl-C (or SIGTERM) stops after the current step and writes a checkpoint.

Options:
      --data <source>            synth:<photos dir>[#split] (synthetic manipulations made on
                                 the fly, default synth:data/photos, the train split), a
                                 Tp/Gt folder or a JSON pair list as eval reads them
      --val <source>             Validation data (default synth:data/photos#val)
      --kinds <k=w,...>          Weights of the synthetic training samples' kinds, as synth
                                 takes them (default splice=0.4,copy-move=0.2,removal=0.15,
                                 authentic=0.25); validation keeps the default mix
      --photo-shaped <f>         Fraction (0-1, default 0) of synthetic samples made
                                 photo-shaped like synth's evaluation sets (long side 512)
                                 and resized to the input, as detect resizes every image;
                                 the rest are square crops. Validation is made the same way
      --preset <name>            small (default), medium (small at twice the width) or
                                 base; --init weights of a narrower model of the same
                                 topology are widened to it, computing the same function
      --config <file>            A config JSON instead of a preset
      --init <weights>           Start from these weights (.pth, .safetensors): fine-tuning
      --steps <n>                Optimizer steps (default 2000; with --resume: extend the run)
      --batch <n>                Images per micro-batch (default 4; on wasm, 8 at 256x256
                                 overflows its heap)
      --accumulate <n>           Micro-batches per optimizer step (default 2)
      --lr <x>                   Peak learning rate (default 2e-4, the authors')
      --min-lr <x>               Final learning rate of the cosine decay (default 5e-7)
      --warmup-steps <n>         Linear warm-up (default 5% of the steps, at most 500)
      --weight-decay <x>         AdamW decoupled weight decay (default 0.05)
      --loss <kind>              bce: the reference's loss (default); bce+dice adds the soft Dice
                                 loss per image, against predicting nothing on small regions;
                                 bce+dice+image adds BCE of each image's score (its largest
                                 logit), against authentic images that score high
      --seed <n>                 Seed of the initial weights and the data (default 1)
      --validate-every <n>       Steps between validations (default 100)
      --val-count <n>            Validation images (default 32)
      --checkpoint-minutes <x>   Minutes between checkpoints (default 3)
      --backend <ort|wasm|cpu>   ort: ONNX Runtime CPU (default; about 10x tfjs-wasm);
                                 wasm or cpu: TensorFlow.js. May change on --resume
      --threads <n>              ONNX Runtime threads (default: every core)
      --out <dir>                Run folder (required)
      --resume                   Continue the run in --out from its checkpoint
  -h, --help                     Show this help

Exit codes: 0 done; 1 failed (bad data everywhere, a diverged loss, a write error: the
last good checkpoint is kept); 2 usage error; 130 stopped with a checkpoint.`;

export const USAGE: Record<string, string> = {
  detect: DETECT_USAGE,
  convert: CONVERT_USAGE,
  export: EXPORT_USAGE,
  eval: EVAL_USAGE,
  calibrate: CALIBRATE_USAGE,
  synth: SYNTH_USAGE,
  train: TRAIN_USAGE,
  serve: SERVE_USAGE,
  scan: SCAN_USAGE,
  worker: WORKER_USAGE,
};

/** Prints a usage text on stdout (for `--help`); returns exit code 0. */
export function printHelp(text: string): number {
  process.stdout.write(`${text}\n`);
  return 0;
}
