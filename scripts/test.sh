#!/usr/bin/env bash
# Runs every test of the workspace: the power-flow engine against the reference solutions,
# the scene format, the headless twin and a real window rendered under Xvfb.
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Build outputs live outside the clone so that later runs are warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
# Reference power flows and MATPOWER cases.
export KOS_SHARED="${KOS_SHARED:-$(cd .. && pwd)/shared}"
cargo test --workspace --locked "$@"
