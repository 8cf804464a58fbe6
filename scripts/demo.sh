#!/usr/bin/env bash
# `make demo`: compile the model from ../shared/testdata for this machine and
# generate text with the compiled bundle (then once more with the reference executor).
# Without the shared data it synthesises a small model instead, and says so.
set -euo pipefail
BUILD=${1:-build}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${PLM_TESTDATA:-$ROOT/../shared/testdata}"
MODEL="$DATA/models/aidreams260K.bin"
PLM="$ROOT/$BUILD/bin/pocketlm"
if [ ! -f "$MODEL" ]; then
  echo "demo: $MODEL not found (the shared test data lives at ../shared/testdata, or set PLM_TESTDATA)."
  echo "demo: synthesising a 2-layer smollm2-360m-shaped model with RANDOM weights and a synthetic"
  echo "demo: vocabulary instead: everything below runs for real, but the text it writes is random."
  echo
  SYNTH="$ROOT/$BUILD/smollm2-360m-2layers-q4_0.gguf"
  PLAN="$ROOT/$BUILD/smollm2-360m-2layers-q4_0.host.plm"
  "$PLM" synth --preset smollm2-360m --quant q4_0 --layers 2 -o "$SYNTH" --force
  echo
  "$PLM" compile "$SYNTH" --soc host -o "$PLAN" --force 2>&1 | tr '\r' '\n' | grep -v "^  \(weights\|kernels\) [0-9]"
  echo
  echo "== generate (random weights: random text)"
  "$PLM" run "$PLAN" -p "Once upon a time" -n 48 --seed 7
  exit 0
fi
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
