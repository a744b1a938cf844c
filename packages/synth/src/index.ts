// @sparsevit/synth: synthetic image manipulations with exact masks, deterministic from a seed,
// from natural photos; for training SparseViT on the fly and for writing evaluation datasets.
export {
  createSynthesizer,
  kindWeights,
  DEFAULT_KIND_WEIGHTS,
  MANIPULATION_KINDS,
  type ManipulationKind,
  type SampleOverrides,
  type SkippedPhoto,
  type SynthSample,
  type Synthesizer,
  type SynthesizerOptions,
} from './synthesizer';
export { writeSynthDataset, kindSchedule, PAIR_LIST, SYNTH_MANIFEST, type SynthDatasetItem, type SynthDatasetResult, type WriteSynthDatasetOptions } from './dataset';
export { loadPhotoManifest, findPhotos, decodePhoto, RESERVED_PACKAGES, type PhotoSplits } from './photos';
export { splice, copyMove, removal, type ManipulationInfo, type ManipulationOptions, type ManipulationResult } from './manipulate';
export { type ShapeKind } from './shapes';
export { type Raster } from './raster';
export { Random, hashSeed } from './random';
