#!/usr/bin/env bash
# pocketlm against llama.cpp on the same GGUF files, on this machine.
#
#   bench/peer/run.sh [PRESET ...]        (default: tinyllama-1.1b)
#   bench/peer/run.sh --install-only      (just node-llama-cpp and the binaries)
#   env: QUANTS="q4_0 q8_0 q4_k_m"  THREADS=1,2  REPS=3  PP=512  TG=128
#
# Installs the pinned node-llama-cpp (its prebuilt CPU build of llama.cpp) into
# build/peer, synthesises each preset with `pocketlm synth`, compiles it for the host
# with `pocketlm compile` (timed), and prints one table per model (compare.mjs).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
work="$build/peer"
quants="${QUANTS:-q4_0 q8_0 q4_k_m}"
threads="${THREADS:-1,2}"
reps="${REPS:-3}"
pp="${PP:-512}"
tg="${TG:-128}"
presets=("$@")
install_only=0
if [ "${1:-}" = "--install-only" ]; then install_only=1; presets=(); fi
[ ${#presets[@]} -gt 0 ] || [ $install_only = 1 ] || presets=(tinyllama-1.1b)

mkdir -p "$work"
cp "$root/bench/peer/package.json" "$root/bench/peer/llama_cpp_bench.mjs" "$root/bench/peer/compare.mjs" "$work/"
want="$(node -p "require('$work/package.json').dependencies['node-llama-cpp']")"
have="$(node -p "try { require('$work/node_modules/node-llama-cpp/package.json').version } catch { '' }")"
if [ "$have" != "$want" ]; then
  echo "peer: installing node-llama-cpp $want into $work" >&2
  (cd "$work" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
cmake --build "$build" --target pocketlm pocketlm-kernel-bench >&2
[ $install_only = 0 ] || exit 0

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; $(date -u +%Y-%m-%d)"
for preset in "${presets[@]}"; do
  for q in $quants; do
    gguf="$work/$preset-$q.gguf"
    plm="$work/$preset-$q.host.plm"
    [ -f "$gguf" ] || "$build/bin/pocketlm" synth --preset "$preset" --quant "$q" -o "$gguf" >&2
    if [ ! -f "$plm" ] || [ "$plm" -ot "$build/bin/pocketlm" ]; then
      start=$(date +%s%N)
      "$build/bin/pocketlm" compile "$gguf" --soc host -o "$plm" --force >&2
      echo "compile $preset $q for host: $(awk "BEGIN { printf \"%.1f\", ($(date +%s%N) - $start) / 1e9 }") s"
    fi
    (cd "$work" && node compare.mjs --model "$gguf" --bundle "$plm" --pocketlm "$build/bin/pocketlm" \
      --kernel-bench "$build/bin/pocketlm-kernel-bench" --threads "$threads" --reps "$reps" --pp "$pp" --tg "$tg")
    echo
  done
done
