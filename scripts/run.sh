#!/usr/bin/env bash
# Builds and opens the desktop twin (on the built-in default scene unless --scene FILE is
# given); any kos-twin arguments pass through, e.g. `scripts/run.sh headless --ticks 1440`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
exec cargo run --locked --bin kos-twin -- "$@"
