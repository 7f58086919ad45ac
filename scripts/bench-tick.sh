#!/usr/bin/env bash
# Times one full simulation tick (weather, dispatch, power flow with relief, stores,
# monitors with flow tracing, wear, report) on the built-in scene and on generated scenes.
# Usage: scripts/bench-tick.sh [BUSES...]   (default: 10000)
# Built in the dev profile: kos-grid, kos-energy, faer, libm and num-complex at opt-level 3,
# the other dependencies (Bevy) at 1, the app crate at 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cargo bench --locked --profile dev --bench tick -- "$@"
