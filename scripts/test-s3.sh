#!/usr/bin/env bash
# The ledger on S3-compatible object storage: builds kos-ledger with its `object-store`
# feature and the twin with its `s3` feature (both off in the default build) and runs their
# S3 tests against moto's S3 server, installed with pip into $KOS_CACHE/s3-venv (default
# ~/.cache/kos-twin). Idempotent and cached.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${KOS_CACHE:-$HOME/.cache/kos-twin}"
venv="$cache/s3-venv"
if [ ! -x "$venv/bin/moto_server" ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3-venv >&2
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'moto[server]==5.*' >&2
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
export KOS_MOTO_SERVER="$venv/bin/moto_server"
cargo test --locked -p kos-ledger --features object-store --test s3
cargo test --locked -p kos-twin --features s3 --test ledger_s3
