#!/usr/bin/env bash
# Builds the browser bundle of the twin (the citizens' view) on a Debian 12 machine, from
# Debian's packages alone: rustc-web/cargo-web (1.96) with rust-web-src build the standard
# library for wasm32 (-Zbuild-std), lld-19 links, wasm-bindgen-cli (pinned to Cargo.lock's
# wasm-bindgen, built with the rustup cargo) writes the JS glue. Idempotent: installs only
# what is missing; caches outside the clone under $KOS_CACHE (default ~/.cache/kos-twin):
#   tools/        wasm-bindgen-cli      tools-target/  its build
#   web-target/   the wasm32 build
# The bundle (index.html, kos-twin.js, kos-twin_bg.wasm, ledger.js) goes to $KOS_WEB_BUNDLE (default
# target-web/bundle in the clone); any static file server can serve it.
#   binaryen/      wasm-opt (npm binaryen 132; Debian's binaryen 108 breaks the module)
# Environment: KOS_WEB_PROFILE: web-release (default: the bundle to publish, optimised for
# size, then wasm-opt -Oz) or web-ci (what CI builds and tests: optimised less, no LTO, no
# wasm-opt, minutes faster). KOS_WEB_WASM_OPT=0/1 overrides whether wasm-opt runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="${KOS_CACHE:-$HOME/.cache/kos-twin}"
bundle="${KOS_WEB_BUNDLE:-$root/target-web/bundle}"
profile="${KOS_WEB_PROFILE:-web-release}"
case "$profile" in
    web-release) wasm_opt="${KOS_WEB_WASM_OPT:-1}" ;;
    *) wasm_opt="${KOS_WEB_WASM_OPT:-0}" ;;
esac
mkdir -p "$cache"

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        echo "installing: ${missing[*]}" >&2
        "${sudo_cmd[@]}" apt-get update -qq
        DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}
apt_install rustc-web cargo-web rust-web-src lld-19 gcc libc6-dev gzip

# wasm-bindgen-cli, the version of the wasm-bindgen crate in Cargo.lock (they must match).
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wb_version" ] || { echo "build-web: no wasm-bindgen in Cargo.lock" >&2; exit 1; }
wasm_bindgen="$cache/tools/bin/wasm-bindgen"
if ! "$wasm_bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
    host_cargo=$(command -v cargo || echo /usr/bin/cargo)
    echo "build-web: installing wasm-bindgen-cli $wb_version with $host_cargo" >&2
    # No --locked: the CLI's own lockfile names a crate version the registry lacks. Built at
    # opt-level 1: it runs for seconds once per bundle, and its build is minutes of CI.
    CARGO_TARGET_DIR="$cache/tools-target" CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        "$host_cargo" install --root "$cache/tools" wasm-bindgen-cli --version "$wb_version" >&2
fi

# The wasm build, with Debian's compiler (rustup's ~/.cargo/bin stays off PATH).
start=$(date +%s)
env PATH=/usr/bin:/bin HOME="$HOME" RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
    CARGO_TARGET_DIR="$cache/web-target" \
    /usr/bin/cargo build --profile "$profile" -Zbuild-std=std,panic_abort \
    --target wasm32-unknown-unknown --bin kos-twin
echo "build-web: cargo build took $(( $(date +%s) - start )) s" >&2

wasm="$cache/web-target/wasm32-unknown-unknown/$profile/kos-twin.wasm"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
"$wasm_bindgen" --target web --no-typescript --remove-name-section \
    --out-dir "$stage" --out-name kos-twin "$wasm"

if [ "$wasm_opt" = 1 ]; then
    if [ ! -x "$cache/binaryen/node_modules/.bin/wasm-opt" ]; then
        command -v npm >/dev/null || apt_install nodejs npm
        npm install --silent --prefix "$cache/binaryen" binaryen@132.0.0 >&2
    fi
    t=$(date +%s)
    "$cache/binaryen/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue \
        --enable-sign-ext --enable-mutable-globals \
        -o "$stage/opt.wasm" "$stage/kos-twin_bg.wasm"
    mv "$stage/opt.wasm" "$stage/kos-twin_bg.wasm"
    echo "build-web: wasm-opt took $(( $(date +%s) - t )) s" >&2
fi

wasm_bytes=$(stat -c %s "$stage/kos-twin_bg.wasm")
sed "s/__WASM_BYTES__/$wasm_bytes/" web/index.html > "$stage/index.html"
mkdir -p "$bundle"
rm -f "$bundle"/index.html "$bundle"/kos-twin.js "$bundle"/kos-twin_bg.wasm "$bundle"/ledger.js "$bundle"/profile.txt
cp "$stage"/index.html "$stage"/kos-twin.js "$stage"/kos-twin_bg.wasm web/ledger.js "$bundle"/
echo "$profile" > "$bundle/profile.txt"
gz=0
for f in index.html kos-twin.js kos-twin_bg.wasm ledger.js; do
    gz=$(( gz + $(gzip -9 -c "$bundle/$f" | wc -c) ))
done
echo "$gz" > "$bundle/gzip-bytes.txt"
echo "build-web: $profile bundle in $bundle: wasm $wasm_bytes bytes, $gz bytes gzip-compressed (all files)"
