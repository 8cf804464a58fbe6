#!/usr/bin/env bash
# `make demo`: generate text with the model from ../shared/testdata.
# Compiling to a per-SoC bundle (`pocketlm compile`, issue #4) is not built yet, so
# this runs the scalar reference executor on the model file and says so.
set -euo pipefail
BUILD=${1:-build}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${PLM_TESTDATA:-$ROOT/../shared/testdata}"
MODEL="$DATA/models/aidreams260K.bin"
if [ ! -f "$MODEL" ]; then
  echo "demo: $MODEL not found." >&2
  echo "demo: put the shared test data at ../shared/testdata (or set PLM_TESTDATA)." >&2
  echo "demo: (a synthesised stand-in model needs \`pocketlm synth\`, issue #6: not built yet)" >&2
  exit 1
fi
PLM="$ROOT/$BUILD/bin/pocketlm"
echo "== this machine, as pocketlm sees it"
"$PLM" socs | tail -n 3
echo
echo "== aidreams260K (a real 260K-parameter Llama trained on dreamy text), greedy"
echo "   note: \`pocketlm compile\` + the bundle runtime are not built yet (issue #4);"
echo "   this runs the exact but slow scalar reference executor on the model file."
echo
"$PLM" run "$MODEL" -p "Once upon a time" -n 96 --temp 0 --reference
echo
echo "== the same model, sampled (temperature 0.8, top-k 40, top-p 0.95, seed 7)"
"$PLM" run "$MODEL" -p "I dream of" -n 96 --seed 7 --reference
