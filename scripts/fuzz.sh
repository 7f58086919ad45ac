#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, AddressSanitizer) of the MATPOWER, pf-refdata/1 and scene
# readers, each followed by AC, DC and fast-decoupled solves of what they accept (finite
# numbers only). Seeds come from ../shared (cases, reference files) and scenes/.
# Usage: scripts/fuzz.sh [SECONDS per target, default 300] [TARGET...]
# Installs cargo-fuzz into ~/.cache/kos-twin/tools once; builds with the stable compiler in
# its nightly mode (RUSTC_BOOTSTRAP=1), which libFuzzer's sanitizer flags need.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(matpower refdata scene)
cache="${KOS_CACHE:-$HOME/.cache/kos-twin}"
shared="${KOS_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -x "$cache/tools/bin/cargo-fuzz" ]; then
    CARGO_TARGET_DIR="$cache/tools-target" cargo install --locked --root "$cache/tools" cargo-fuzz@0.13.2 >&2
fi
export RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$cache/fuzz-target"
work="$cache/fuzz"
for t in "${targets[@]}"; do
    corpus="$work/corpus/$t"
    mkdir -p "$corpus" "$work/artifacts/$t"
    case "$t" in
        matpower) cp -n "$shared"/matpower/case{14,30,33bw,118}.m "$corpus"/ ;;
        refdata) cp -n "$shared"/refdata/case{9,14,30}.json "$shared"/refdata/cigre_mv_der.json "$corpus"/ ;;
        scene) cp -n scenes/*.ron "$corpus"/ ;;
    esac
    echo "fuzz: $t for $seconds s" >&2
    (cd fuzz && "$cache/tools/bin/cargo-fuzz" run "$t" "$corpus" -- \
        -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=4096 \
        -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1) 2>&1 | tail -n 12
done
