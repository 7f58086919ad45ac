#!/usr/bin/env bash
# Telemetry throughput: messages per second applied to the ECS by a headless twin, next to
# mosquitto_sub reading the same stream from the same broker in the same run.
# `kos-twin telemetry-sim --rate 0` publishes N messages (QoS 0) for the default scene as
# fast as the broker takes them; both readers are timed from the publisher's start to their
# N-th message. Prints both rates and their ratio.
# Usage: scripts/bench-telemetry.sh [N]   (KOS_BENCH_PROFILE=dev to use the debug build,
# whose dependencies are at opt-level 1, the solver's at 3, and whose own code is at 1)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-300000}"
profile="${KOS_BENCH_PROFILE:-release}"
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
if [ "$profile" = release ]; then
    cargo build --release --locked -q --bin kos-twin >&2
    bin="$CARGO_TARGET_DIR/release/kos-twin"
else
    cargo build --locked -q --bin kos-twin >&2
    bin="$CARGO_TARGET_DIR/debug/kos-twin"
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
user $(id -un)
CONF
/usr/sbin/mosquitto -c "$tmp/mosquitto.conf" 2>"$tmp/mosquitto.log" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.05; done
url="mqtt://127.0.0.1:$port"
site=aldermoor-commons
# The twin: no per-asset flood limit in the way of a load test; states every 10 ticks.
cat > "$tmp/twin.ron" <<CONF
(site: Some("$site"), asset_rate_hz: 1e9, asset_burst: 1e9, state_every_ticks: 10)
CONF
"$bin" headless --mqtt "$url" --mqtt-config "$tmp/twin.ron" --wall-seconds 300 \
    --until-messages "$n" --until-idle 5 --report "$tmp/report.json" 2>"$tmp/twin.log" &
twin=$!
pids+=($twin)
(mosquitto_sub -p "$port" -t 'kos/v1/+/+/telemetry' -C "$n" -W 300 > /dev/null; date +%s.%N > "$tmp/sub_end") &
sub=$!
pids+=($sub)
# Both subscribed: the twin says so in its summary; mosquitto_sub has had a second.
until mosquitto_sub -p "$port" -C 1 -W 30 -t "kos/v1/$site/twin/summary" | grep -q '"connected":true'; do :; done
sleep 1
start=$(date +%s.%N)
"$bin" telemetry-sim --broker "$url" --rate 0 --count "$n" --qos 0 > "$tmp/sim.json"
wait "$sub" || true
wait "$twin" || true
python3 - "$tmp" "$start" "$n" <<'PY'
import json, os, sys
tmp, start, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
sim = json.load(open(os.path.join(tmp, "sim.json")))
rep = json.load(open(os.path.join(tmp, "report.json")))["telemetry"]
sub_end = float(open(os.path.join(tmp, "sub_end")).read())
twin_end = rep["last_applied_unix_ms"] / 1000.0
handled = rep["applied"] + sum(rep["rejected"].values())
sub_rate = n / (sub_end - start)
twin_rate = rep["applied"] / (twin_end - start)
print(f"machine: {os.cpu_count()} cores; messages: {n}; publisher: {sim['rate_per_s']:.0f} msg/s")
print(f"mosquitto_sub: {sub_rate:.0f} msg/s")
print(f"kos-twin applied to the ECS: {twin_rate:.0f} msg/s ({rep['applied']} applied, {handled - rep['applied']} rejected: {rep['rejected']})")
print(f"ratio kos-twin / mosquitto_sub: {twin_rate / sub_rate:.2f}")
PY
