// @sparsevit/core/testing: writers for test and benchmark inputs (PyTorch-layout checkpoints,
// zips, pickles, hostile ones included) and a byte source that counts what readers read.
// Not needed to run the model; kept out of the main entry point.
export { writeCheckpoint, picklePV, PickleWriter, f32Bytes, type CheckpointSpec, type PV, type StorageSpec, type TensorSpec } from './weights/testing/pickle-writer';
export { writeZip, type ZipWriteEntry, type ZipWriteOptions } from './weights/testing/zip-writer';
export { countingSource, type CountingSource } from './weights/testing/sources';
