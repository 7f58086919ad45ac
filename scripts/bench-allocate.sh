#!/usr/bin/env bash
# The commons' allocation, kos-commons beside scipy's linprog (HiGHS) on the same problems in
# one run. The benchmark writes each problem and its allocation; scripts/drf-highs.py solves
# the problem as a lexicographic max-min by sequential LPs, checks its amounts against the
# allocation (to 1e-6 relative) and is timed from Python. Prints each side's median and the
# ratio. scipy comes from PyPI into the cached virtual environment of bench-shortcircuit.sh.
#
#   [METHODS="highs highs-ipm"] scripts/bench-allocate.sh [CASE...]
#   CASE: CONSUMERS, or CONSUMERS:varied for the benchmark's varied problem (feeder limits run
#   out one after another before the last resource does, one LP round each).
#
# Default: 10000 1000:varied 3000:varied. 10000:varied takes about 1,100 LP rounds and 25
# minutes with linprog's default method on 2 cores; ask for it by name.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kos-twin/target}"
venv="$HOME/.cache/kos-twin/pp-venv"
if ! "$venv/bin/python" -c "import scipy.optimize, scipy.sparse" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r scripts/pandapower-requirements.txt
fi
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(10000 1000:varied 3000:varied)
read -r -a methods <<<"${METHODS:-highs highs-ipm}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
status=0
for case in "${cases[@]}"; do
    n=${case%%:*}
    variant=$([ "$case" != "$n" ] && echo "${case#*:}" || true)
    mkdir -p "$dir/$case"
    # shellcheck disable=SC2086
    ours_out=$(KOS_BENCH_OUT="$dir/$case" cargo bench --locked -q -p kos-commons --bench allocate -- "$n" $variant | grep -v written)
    echo "$ours_out"
    ours=$(sed -n 's/^allocation alone: median \([0-9.]*\) ms.*/\1/p' <<<"$ours_out")
    for method in "${methods[@]}"; do
        # Up to 5 runs, none begun after a minute.
        py_out=$("$venv/bin/python" scripts/drf-highs.py "$dir/$case/commons-problem.json" \
            --check "$dir/$case/commons-result.json" --runs 5 --max-seconds 60 --method "$method") || status=1
        echo "$py_out"
        py=$(sed -n 's/.* median \([0-9.]*\) s.*/\1/p' <<<"$py_out")
        awk -v py="$py" -v ours="$ours" -v c="$case" -v m="$method" \
            'BEGIN { printf "%s: kos-commons %.3f ms, scipy/HiGHS (%s) %.3f s: %.0f x faster\n", c, ours, m, py, py * 1000 / ours }'
    done
done
exit $status
