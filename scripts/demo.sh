#!/usr/bin/env bash
# `make demo`: compile the model from ../shared/testdata for this machine and
# generate text with the compiled bundle (then once more with the reference executor).
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
PLAN="$ROOT/$BUILD/aidreams260K.host.plm"
echo "== compile aidreams260K (a real 260K-parameter Llama trained on dreamy text) for this machine"
"$PLM" compile "$MODEL" --soc host -o "$PLAN" --force 2>&1 | tr '\r' '\n' | grep -v "^  \(weights\|kernels\) [0-9]"
echo
echo "== generate, greedy"
"$PLM" run "$PLAN" -p "Once upon a time" -n 96 --temp 0
echo
echo "== generate, sampled (temperature 0.8, top-k 40, top-p 0.95, seed 7)"
"$PLM" run "$PLAN" -p "I dream of" -n 96 --seed 7
echo
echo "== the same greedy text from the exact scalar reference executor (the oracle)"
"$PLM" run "$MODEL" -p "Once upon a time" -n 96 --temp 0 --reference
