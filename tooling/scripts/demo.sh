#!/bin/sh
# The main job on the bundled fixtures: SparseViT on four sample images with the tiny,
# UNTRAINED weights from the parity fixtures. The maps it writes exercise the whole pipeline
# (checkpoint reading, ONNX lowering, ONNX Runtime, pre/postprocessing); they are not forgery
# detections. For real results, convert the authors' released checkpoint (see README.md).
set -eu
cd "$(dirname "$0")/../.."
sh tooling/scripts/bootstrap.sh
images=tooling/fixtures/sparsevit-tiny/images
echo
echo "Running sparsevit detect with UNTRAINED tiny weights (pipeline check, not real detections)"
pnpm --silent sparsevit detect \
  "$images/splice_640x480.png" "$images/splice_300x500.png" "$images/gray_257x333.png" "$images/rgba_512x512.png" \
  --weights tooling/fixtures/sparsevit-tiny/checkpoint.pth \
  --config tooling/fixtures/sparsevit-tiny/config.json \
  --out demo-output
echo "Outputs (probability .npy, mask and overlay PNGs, per-image JSON, summary.json): demo-output/"
