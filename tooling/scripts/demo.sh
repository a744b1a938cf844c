#!/bin/sh
# The main job: SparseViT's trained default model (@sparsevit/default-model: small preset,
# trained by `sparsevit train` on synthetic manipulations of Debian photos, not by the paper's
# authors) on the bundled sample images, four synthetic manipulations of held-out photos with
# their true masks (tooling/samples). Writes the maps and overlays, then scores them against the
# masks with `sparsevit eval` (per-image F1 and IoU in demo-output/eval/report.html).
set -eu
cd "$(dirname "$0")/../.."
sh tooling/scripts/bootstrap.sh
echo
echo "Running sparsevit detect with the default model on tooling/samples/Tp"
pnpm --silent sparsevit detect tooling/samples/Tp --out demo-output
echo
echo "Scoring the masks against tooling/samples/Gt"
pnpm --silent sparsevit eval tooling/samples --out demo-output/eval
echo "Outputs: demo-output/<name>.overlay.png, .mask.png, .prob.npy, .json, summary.json; scores: demo-output/eval/report.html"
