#!/usr/bin/env bash
# Every synth preset x quantisation, 2 layers: llama.cpp loads the file, and pocketlm's
# bundle of it decodes the same greedy tokens (bench/peer/agree.mjs).
#   bench/peer/agree.sh          (env: QUANTS="q4_0 q8_0 q4_k_m" LAYERS=2 N=8)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
work="$build/peer"
"$root/bench/peer/run.sh" --install-only
pairs=()
for preset in tinyllama-1.1b llama-3.2-1b qwen2.5-0.5b smollm2-360m; do
  for q in ${QUANTS:-q4_0 q8_0 q4_k_m}; do
    gguf="$work/agree-$preset-$q.gguf"
    "$build/bin/pocketlm" synth --preset "$preset" --quant "$q" --layers "${LAYERS:-2}" -o "$gguf" --force 2>/dev/null
    "$build/bin/pocketlm" compile "$gguf" --soc host -o "$gguf.plm" --force 2>/dev/null
    pairs+=("$gguf:$gguf.plm")
  done
done
cp "$root/bench/peer/agree.mjs" "$work/"
(cd "$work" && node agree.mjs --pocketlm "$build/bin/pocketlm" --n "${N:-8}" "${pairs[@]}")
