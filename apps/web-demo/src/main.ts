import './style.css';
import { preprocess, renderOverlay, type SparseViTModel } from '@sparsevit/core';
import {
  clearWeightsCache,
  decodeImage,
  drawResult,
  isWeightsCached,
  loadModel,
  maskToPng,
  thresholdMask,
  webGpuSupport,
  type DetectionResult,
  type LoadProgress,
  type WebDevice,
  type WebImageInput,
} from '@sparsevit/web';
import type { LoadTfjsOptions, TfjsDevice } from './tfjs-model';

/** TensorFlow.js, loaded only when chosen (its own chunks): see tfjs-model.ts. */
const tfjsModule = () => import('./tfjs-model');
const loadTfjsModel = async (options: LoadTfjsOptions) => (await tfjsModule()).loadTfjsModel(options);

/** What the page holds: a @sparsevit/web model (ONNX Runtime) or a @sparsevit/tfjs one. */
type DemoModel = SparseViTModel<WebImageInput> & { readonly device: string; readonly fp16: boolean; readonly inWorker: boolean };
const tfjsBackendOf = (choice: string): TfjsDevice | undefined => (choice === 'tfjs-webgl' ? 'webgl' : choice === 'tfjs-webgpu' ? 'webgpu' : undefined);
const deviceLabel = (m: DemoModel) => (m.backend === 'tfjs' ? `TensorFlow.js ${m.device === 'webgl' ? 'WebGL' : 'WebGPU'}` : m.device.toUpperCase());

// The SDK's trained default model (small preset, trained on synthetic manipulations).
const BUNDLED = 'models/sparsevit-small-synth.safetensors';
const BUNDLED_FP16 = 'models/sparsevit-small-synth.f16.safetensors';
// The tiny fixture model's untrained weights: a pipeline check (the browser tests use them).
const UNTRAINED = 'models/sparsevit-tiny-untrained.safetensors';
const UNTRAINED_FP16 = 'models/sparsevit-tiny-untrained.f16.safetensors';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  device: $<HTMLSelectElement>('device'),
  weightsUrl: $<HTMLInputElement>('weights-url'),
  weightsFile: $<HTMLInputElement>('weights-file'),
  config: $<HTMLTextAreaElement>('config'),
  load: $<HTMLButtonElement>('load'),
  progress: $<HTMLProgressElement>('load-progress'),
  modelStatus: $<HTMLParagraphElement>('model-status'),
  drop: $<HTMLLabelElement>('drop'),
  imageFile: $<HTMLInputElement>('image-file'),
  run: $<HTMLButtonElement>('run'),
  view: $<HTMLCanvasElement>('view'),
  placeholder: $<HTMLParagraphElement>('placeholder'),
  opacity: $<HTMLInputElement>('opacity'),
  opacityOut: $<HTMLOutputElement>('opacity-out'),
  threshold: $<HTMLInputElement>('threshold'),
  thresholdOut: $<HTMLOutputElement>('threshold-out'),
  stats: $<HTMLDListElement>('stats'),
  download: $<HTMLButtonElement>('download'),
  timings: $<HTMLParagraphElement>('timings'),
  engineNote: $<HTMLParagraphElement>('engine-note'),
  fileLabel: $<HTMLSpanElement>('file-formats'),
};

type View = 'overlay' | 'heatmap' | 'mask' | 'image';
const state: {
  model?: DemoModel;
  image?: Blob;
  imageName?: string;
  result?: DetectionResult;
  view: View;
  loading?: AbortController;
  busy: boolean;
  runs: number;
} = { view: 'overlay', busy: false, runs: 0 };

const source = () => (document.querySelector('input[name=source]:checked') as HTMLInputElement).value as 'bundled' | 'url' | 'file';
const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} kB`);

function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info') {
  ui.modelStatus.textContent = text;
  ui.modelStatus.dataset.kind = kind;
}

function onProgress(p: LoadProgress | { phase: 'tfjs'; backend: TfjsDevice }) {
  ui.progress.hidden = false;
  if (p.phase === 'tfjs') {
    ui.progress.removeAttribute('value');
    setStatus(`Starting TensorFlow.js ${p.backend === 'webgl' ? 'WebGL' : 'WebGPU'} and uploading the weights…`);
    return;
  }
  if (p.phase === 'download' || p.phase === 'cache') {
    ui.progress.max = p.total || 1;
    ui.progress.value = p.total ? p.loaded : 0;
    setStatus(`${p.phase === 'cache' ? 'Reading cached' : 'Downloading'} weights… ${fmtBytes(p.loaded)}${p.total ? ` / ${fmtBytes(p.total)}` : ''}`);
  } else {
    ui.progress.removeAttribute('value');
    setStatus(p.phase === 'build' ? 'Building the ONNX graph…' : 'Starting ONNX Runtime…');
  }
}

async function load() {
  state.loading?.abort();
  const controller = new AbortController();
  state.loading = controller;
  ui.load.textContent = 'Cancel';
  ui.run.disabled = true;
  await state.model?.dispose();
  state.model = undefined;
  try {
    const kind = source();
    let weights: string | Blob;
    let weightsFp16: string | undefined;
    if (kind === 'bundled') {
      weights = BUNDLED;
      weightsFp16 = BUNDLED_FP16;
    } else if (kind === 'url') {
      if (!ui.weightsUrl.value) throw new Error('enter a weights URL');
      weights = ui.weightsUrl.value;
    } else {
      const file = ui.weightsFile.files?.[0];
      if (!file) throw new Error('pick a weights file');
      weights = file;
    }
    const configText = ui.config.value.trim();
    const config = configText ? JSON.parse(configText) : undefined;
    const started = performance.now();
    const tfjsBackend = tfjsBackendOf(ui.device.value);
    const model: DemoModel = tfjsBackend
      ? // TensorFlow.js: float32 weights (the fp16 copy is for ORT WebGPU), on the page's thread.
        await loadTfjsModel({ weights, name: weights instanceof File ? weights.name : undefined, backend: tfjsBackend, config, signal: controller.signal, onProgress })
      : await loadModel({
          weights,
          weightsFp16,
          config,
          device: ui.device.value as WebDevice,
          signal: controller.signal,
          onProgress,
          onWarning: (m) => setStatus(m),
        });
    state.model = model;
    const params = model.config.embed_dim.join('/');
    setStatus(
      `Ready on ${deviceLabel(model)}${model.fp16 ? ' (fp16 weights)' : ''}${model.inWorker ? '' : ' (main thread)'} in ${fmtMs(performance.now() - started)} · widths ${params}${kind === 'bundled' ? ' · default model, trained on synthetic manipulations (not the authors\' weights)' : ''}`,
      'ok',
    );
    ui.run.disabled = !state.image;
    if (state.image) await detect();
  } catch (error) {
    setStatus(controller.signal.aborted ? 'Loading cancelled.' : `Could not load the model: ${(error as Error).message}`, controller.signal.aborted ? 'info' : 'error');
  } finally {
    if (state.loading === controller) state.loading = undefined;
    ui.load.textContent = 'Load model';
    ui.progress.hidden = true;
  }
}

async function setImage(blob: Blob, name: string) {
  state.image = blob;
  state.imageName = name;
  state.result = undefined;
  ui.drop.querySelector('strong')!.textContent = name;
  ui.run.disabled = !state.model;
  // Show the image right away, decoded as the model will see it.
  const raw = await decodeImage(blob);
  ui.view.width = raw.width;
  ui.view.height = raw.height;
  ui.view.getContext('2d')!.putImageData(new ImageData(renderOverlay(raw, new Float32Array(raw.width * raw.height), { opacity: 0 }) as Uint8ClampedArray<ArrayBuffer>, raw.width, raw.height), 0, 0);
  ui.view.hidden = false;
  ui.placeholder.hidden = true;
  ui.stats.hidden = true;
  ui.download.disabled = true;
  if (state.model) await detect();
}

async function detect() {
  if (!state.model || !state.image || state.busy) return;
  state.busy = true;
  ui.run.disabled = true;
  ui.run.textContent = 'Detecting…';
  try {
    state.result = await state.model.detect(state.image, { returnImage: true, threshold: Number(ui.threshold.value) });
    state.runs++;
    render();
  } catch (error) {
    setStatus(`Detection failed: ${(error as Error).message}`, 'error');
  } finally {
    state.busy = false;
    ui.run.disabled = false;
    ui.run.textContent = 'Detect';
  }
}

function render() {
  const r = state.result;
  if (!r) return;
  const threshold = Number(ui.threshold.value);
  const opacity = Number(ui.opacity.value);
  if (state.view === 'image') {
    drawResult(ui.view, r, { mode: 'overlay', opacity: 0 });
  } else {
    // The overlay tints the mask at the threshold and draws its contour, which reads on any photo.
    drawResult(ui.view, r, { mode: state.view, opacity, maskThreshold: threshold, threshold, outline: true });
  }
  const mask = thresholdMask(r, threshold);
  let on = 0;
  for (let i = 0; i < mask.length; i++) on += mask[i];
  $('score').textContent = r.score.toFixed(3);
  $('area').textContent = `${((100 * on) / mask.length).toFixed(1)} %`;
  $('size').textContent = `${r.width} × ${r.height}`;
  $('runs-on').textContent = state.model ? `${deviceLabel(state.model)} · ${state.model.inWorker ? 'worker' : 'main thread'}` : '–';
  $('t-inference').textContent = fmtMs(r.timings.inferenceMs);
  $('t-total').textContent = fmtMs(r.timings.totalMs);
  ui.timings.textContent = `decode ${fmtMs(r.timings.decodeMs)} · preprocess ${fmtMs(r.timings.preprocessMs)} · inference ${fmtMs(r.timings.inferenceMs)} · resize + mask ${fmtMs(r.timings.postprocessMs)}`;
  ui.stats.hidden = false;
  ui.download.disabled = false;
  ui.view.hidden = false;
  ui.placeholder.hidden = true;
  document.body.dataset.result = 'ready';
}

/** TensorFlow.js cannot read .onnx, and runs on the page's thread: say so when it is chosen. */
function onDeviceChange() {
  const tfjs = tfjsBackendOf(ui.device.value) !== undefined;
  ui.weightsFile.accept = tfjs ? '.safetensors,.pth,.pt,.bin' : '.safetensors,.onnx,.pth,.pt,.bin';
  ui.fileLabel.textContent = tfjs ? '(.safetensors, .pth — not .onnx on TensorFlow.js)' : '(.safetensors, .onnx, .pth)';
  ui.engineNote.hidden = !tfjs;
}

// --- wiring ---
ui.device.addEventListener('change', onDeviceChange);
onDeviceChange();
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name=source]')) {
  radio.addEventListener('change', () => {
    ui.weightsUrl.disabled = source() !== 'url';
    ui.weightsFile.disabled = source() !== 'file';
  });
}
ui.load.addEventListener('click', () => (state.loading ? state.loading.abort() : void load()));
ui.run.addEventListener('click', () => void detect());
ui.imageFile.addEventListener('change', () => {
  const file = ui.imageFile.files?.[0];
  if (file) void setImage(file, file.name);
});
for (const event of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(event, (e) => {
    e.preventDefault();
    ui.drop.classList.add('over');
  });
}
for (const event of ['dragleave', 'drop'] as const) ui.drop.addEventListener(event, () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (file) void setImage(file, file.name);
});
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-sample]')) {
  button.addEventListener('click', async () => {
    const url = button.dataset.sample!;
    void setImage(await (await fetch(url)).blob(), url.split('/').pop()!);
  });
}
for (const tab of document.querySelectorAll<HTMLButtonElement>('[data-view]')) {
  tab.addEventListener('click', () => {
    state.view = tab.dataset.view as View;
    for (const t of document.querySelectorAll('[data-view]')) t.setAttribute('aria-selected', String(t === tab));
    render();
  });
}
ui.opacity.addEventListener('input', () => {
  ui.opacityOut.value = Number(ui.opacity.value).toFixed(2);
  render();
});
ui.threshold.addEventListener('input', () => {
  ui.thresholdOut.value = Number(ui.threshold.value).toFixed(2);
  render();
});
ui.download.addEventListener('click', async () => {
  if (!state.result) return;
  const png = await maskToPng(state.result, Number(ui.threshold.value));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(png);
  a.download = `${(state.imageName ?? 'image').replace(/\.[^.]+$/, '')}-mask.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
});

void webGpuSupport().then(({ available, shaderF16 }) => {
  const option = ui.device.querySelector<HTMLOptionElement>('option[value=webgpu]')!;
  if (!available) option.textContent += ' (not available here)';
  else if (shaderF16) option.textContent += ' (fp16)';
  if (!available) ui.device.querySelector<HTMLOptionElement>('option[value=tfjs-webgpu]')!.textContent += ' (not available here)';
});

// Hooks for the browser tests (and for poking at the SDK from the console).
Object.assign(globalThis, {
  __sparsevit: {
    loadModel,
    loadTfjsModel,
    tfjsInfo: async () => (await tfjsModule()).tfjsInfo(),
    decodeImage,
    preprocess,
    isWeightsCached,
    clearWeightsCache,
    state,
    bundled: { fp32: BUNDLED, fp16: BUNDLED_FP16 },
    untrained: { fp32: UNTRAINED, fp16: UNTRAINED_FP16 },
  },
});
