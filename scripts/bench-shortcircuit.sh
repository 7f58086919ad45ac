#!/usr/bin/env bash
# Short-circuit currents at every bus, kos-protection beside pandapower's calc_sc (IEC 60909,
# 3ph, max, ip) on the same networks in one run: case9241pegase (exported from pandapower's
# own case) and a generated 10,000-bus community scene (exported by the benchmark), both in
# sc-case/1. Prints each side's time and the ratio. pandapower comes from PyPI into a cached
# virtual environment.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
venv="$HOME/.cache/kos-twin/pp-venv"
if ! "$venv/bin/python" -c "import pandapower" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r scripts/pandapower-requirements.txt
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$venv/bin/python" scripts/pandapower-sc.py export case9241pegase "$dir/case9241pegase.json" >/dev/null
cargo bench --locked -q -p kos-protection --bench shortcircuit -- --export "$dir" >/dev/null
for case in case9241pegase generated-10000; do
    # inverse_y=False is pandapower's faster option at this size (one solve per bus).
    pp_out=$("$venv/bin/python" scripts/pandapower-sc.py time "$dir/$case.json" --inverse-y false)
    echo "$pp_out"
    pp=$(sed -n 's/.*fastest: inverse_y=[A-Za-z]* \([0-9.]*\) s.*/\1/p' <<<"$pp_out")
    ours_out=$(cargo bench --locked -q -p kos-protection --bench shortcircuit -- "$dir/$case.json")
    echo "$ours_out"
    ours=$(sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' <<<"$ours_out")
    awk -v pp="$pp" -v ours="$ours" -v c="$case" \
        'BEGIN { printf "%s: pandapower %.3f s, kos-protection %.2f ms: %.0f x faster\n", c, pp, ours, pp * 1000 / ours }'
done
# The default and a generated 10,000-bus scene, and one fault's whole sequence with FLISR.
cargo bench --locked -q -p kos-protection --bench shortcircuit
