// @sparsevit/train: trains SparseViT on TensorFlow.js, through the one graph definition of
// @sparsevit/core that every inference backend runs.
import './register-gradients';
export { Trainer, checkTrainingBatch, type StepResult, type TrainerOptions, type TrainerState, type TrainingBatch } from './trainer';
export { OrtTrainer, type OrtRuntime, type OrtTrainerOptions } from './ort-trainer';
export { AdamW, adamwDefaults, adamwUpdate, type AdamWOptions, type AdamWSlot } from './adamw';
export { AUTHORS_LR, AUTHORS_MIN_LR, learningRate, type LrSchedule } from './lr-schedule';
export { bceWithLogitsLoss, diceLoss, DICE_SMOOTH, imageScoreLoss, TRAINING_LOSSES, trainingLoss, type TrainingLoss } from './loss';
export { initialStateDict } from './initial-weights';
export { widenStateDict, widthFactors, type WidenOptions } from './widen-state-dict';
export { exportInferenceWeights, graphWeightsToStateDict, type InferenceWeightsOptions } from './export-state-dict';
export { TRAINING_METADATA_KEY, decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from './checkpoint';
export { WASM_GRADIENT_KERNELS, registerWasmTrainingKernels } from './wasm-training-kernels';
export { Random } from './random';
export { runTraining, validate, type StepRecord, type TrainingRunOptions, type TrainingEngine, type TrainingRunResult, type ValidationPoint, type ValidationSet } from './training-run';
export { installResizeBilinearGradient } from './resize-bilinear-gradient';
