#!/usr/bin/env bash
# Tests the browser bundle written by scripts/build-web.sh: serves it on 127.0.0.1, opens it
# in headless Chromium (SwiftShader WebGL2) through playwright-core, waits for the first
# frame and more frames, fails on any console error, checks by pixel statistics that the
# canvas shows the scene and the citizens' overlay, saves docs/web-screenshot.png, prints
# the time to first frame and the gzip-compressed size of the bundle (at most 10 MB for the
# web-release bundle).
# Installs chromium (apt) and playwright-core (npm, into $KOS_CACHE/web-test) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${KOS_CACHE:-$HOME/.cache/kos-twin}"
bundle="${KOS_WEB_BUNDLE:-$PWD/target-web/bundle}"
shot="${KOS_WEB_SCREENSHOT:-$PWD/docs/web-screenshot.png}"
[ -f "$bundle/kos-twin_bg.wasm" ] || { echo "test-web: no bundle in $bundle: run scripts/build-web.sh" >&2; exit 1; }

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
pw="$cache/web-test/node_modules/playwright-core"
if [ ! -f "$pw/package.json" ]; then
    mkdir -p "$cache/web-test"
    npm install --silent --no-audit --no-fund --prefix "$cache/web-test" playwright-core@1.65.1 >&2
fi

# The size limit holds for the bundle to publish (web-release); CI's lighter build is bigger.
limit=$((10 * 1000 * 1000))
profile=$(cat "$bundle/profile.txt" 2>/dev/null || echo web-release)
gz=0
for f in index.html kos-twin.js kos-twin_bg.wasm ledger.js; do
    gz=$(( gz + $(gzip -9 -c "$bundle/$f" | wc -c) ))
done
if [ "$profile" = web-release ]; then
    echo "test-web: $profile bundle $(( gz / 1000 )) kB gzip-compressed (limit $(( limit / 1000 )) kB)"
    (( gz <= limit )) || { echo "test-web: FAILED: the bundle is over 10 MB gzip-compressed" >&2; exit 1; }
else
    echo "test-web: $profile bundle $(( gz / 1000 )) kB gzip-compressed (the size limit applies to web-release)"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$bundle" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break
    sleep 0.1
done
mkdir -p "$(dirname "$shot")"
PLAYWRIGHT_CORE="$pw" node scripts/test-web.mjs "http://127.0.0.1:$port/" "$shot"

# The ledger, checked by the page's own verifier (web/ledger.js, written from the public
# specifications): a day's log of the default scene, in Node from disk (a changed entry, a
# changed tile and a changed signature must each fail), then in the page (Chromium's
# WebCrypto), which must prove the clinic's entries and reject a tampered copy.
twin="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}/debug/kos-twin"
[ -x "$twin" ] || cargo build --locked --bin kos-twin
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work" "$bundle/ledger" "$bundle/ledger-tampered"' EXIT
"$twin" headless --ticks 1440 --ledger "$work/ledger" --report /dev/null 2>/dev/null
vkey=$(cat "$work/ledger.vkey")
node scripts/ledger-check.mjs "$work/ledger" "$vkey" clinic
tamper() { # COPY HOW: a copy of the log with one thing changed
    rm -rf "$work/$1" && cp -r "$work/ledger" "$work/$1"
    python3 - "$work/$1" "$2" <<'PY'
import sys, pathlib
d, how = pathlib.Path(sys.argv[1]), sys.argv[2]
if how == "entry":  # a digit of the clinic's first energy entry
    p = next(f for f in sorted((d / "tile/entries").rglob("*")) if f.is_file() and b'"consumer":"clinic"' in f.read_bytes())
    b = bytearray(p.read_bytes())
    b[b.index(b'"wh":', b.index(b'"consumer":"clinic"')) + 5] ^= 1
elif how == "tile":
    p = d / "tile/0/000"; b = bytearray(p.read_bytes()); b[32 * 3 + 7] ^= 1
else:
    p = d / "checkpoint"; b = bytearray(p.read_bytes()); b[-10] = ord("A") if b[-10] != ord("A") else ord("B")
p.write_bytes(bytes(b))
PY
}
for how in entry tile signature; do
    tamper "tampered-$how" "$how"
    if node scripts/ledger-check.mjs "$work/tampered-$how" "$vkey" clinic 2>/dev/null; then
        echo "test-web: FAILED: the page's verifier accepted a log with a changed $how" >&2
        exit 1
    fi
done
echo "test-web: the page's verifier rejects a changed entry, tile and signature"
cp -r "$work/ledger" "$bundle/ledger"
cp -r "$work/tampered-entry" "$bundle/ledger-tampered"
PLAYWRIGHT_CORE="$pw" node scripts/test-web-ledger.mjs "http://127.0.0.1:$port/" "$vkey" clinic
