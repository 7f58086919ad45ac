#!/usr/bin/env python3
"""The commons' allocation solved as a user would without kos-commons: scipy's linprog (HiGHS).

    python drf-highs.py PROBLEM.json [--out RESULT.json] [--check RUST.json] [--runs N]
                        [--max-seconds S] [--method highs|highs-ds|highs-ipm]

Reads a problem in the format of docs/commons.md (the one `cargo bench -p kos-commons --bench
allocate` writes with KOS_BENCH_OUT set) and allocates it by the same rule as
crates/kos-commons/src/drf.rs, but with linear programs:

1. Critical minimums by priority class, highest first; a class whose minimums do not all fit
   under every cap (a resource's capacity, a group's limit) is scaled down together by the
   largest common factor <= 1.
2. Weighted DRF of what each consumer asks beyond its minimum, as a lexicographic max-min by
   sequential LPs. f_i in [0, 1] is the fraction of consumer i's extra bundle e_i served; its
   weighted dominant share is f_i * d_i with d_i = sigma_i / w_i, sigma_i = max_k e_ik / C_k
   over the full capacities. Each round maximises t subject to f_i * d_i >= t for every
   consumer not yet frozen, the capacity and group rows on what is left, frozen f_i fixed
   (moved to the right-hand side). Then it freezes, at share t, the consumers whose t-row has
   a nonzero dual in HiGHS's solution (by complementary slackness they are at t in every
   optimal solution, so they cannot grow), and at f_i = 1 those whose demand is met (d_i <= t).
   Should a round freeze no one (a degenerate dual), each consumer at t in the primal is
   checked by an LP of its own. Repeats until all are frozen.

The LPs are scaled for HiGHS's absolute tolerances: t is measured in units of the smallest
d_i (so the t-rows read (d_min / d_i) tau - f_i <= 0) and each cap row is divided by the
resource's full capacity.

--check compares the amounts with the Rust allocation (`amounts`, per consumer per resource)
and prints the largest relative difference. --runs N times the whole solve up to N times
(JSON reading excluded; no further run once S seconds, default 60, are spent) and prints the
median. --method is linprog's: `highs` (its default, which picks HiGHS's dual simplex here),
`highs-ds` or `highs-ipm` (interior point, then crossover to a vertex, whose duals are used).

Tested with scipy 1.17.1 (HiGHS inside), numpy 2.4.
"""
import argparse
import json
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

# A dual this large (relative to the largest) marks a t-row as binding.
DUAL_TOL = 1e-9
# Demand met: d_i <= t within this relative margin.
MET_TOL = 1e-9


def load(problem):
    """Arrays of a problem: capacities, demands, weights, minimums, priorities, and the caps
    (resource capacities first, then group limits in the order drf.rs builds them) as a
    sparse membership matrix."""
    res = problem["resources"]
    r = len(res)
    cap = np.asarray(problem["capacity"], dtype=float)
    cons = problem["consumers"]
    n = len(cons)
    demand = np.array([c["demand"] for c in cons], dtype=float).reshape(n, r)
    weight = np.array([float(c.get("weight", 1.0)) for c in cons])
    minimum = np.zeros((n, r))
    has_min = np.zeros(n, dtype=bool)
    for i, c in enumerate(cons):
        if c.get("minimum"):
            minimum[i] = c["minimum"]
            has_min[i] = True
    priority = np.array([int(c.get("priority", 0)) for c in cons])
    index = {c["id"]: i for i, c in enumerate(cons)}
    cap_res = list(range(r))
    cap_left = list(cap)
    rows, cols = [], []
    for g in problem.get("groups", []):
        members = [index[m] for m in g["members"] if m in index]
        for k, c in enumerate(g["cap"]):
            if c is not None:
                row = len(cap_res)
                cap_res.append(k)
                cap_left.append(float(c))
                rows.extend([row] * len(members))
                cols.extend(members)
    ncap = len(cap_res)
    groups = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(ncap, n))
    # Every resource's own cap covers all consumers.
    everyone = sp.csr_matrix(
        (np.ones(r * n), (np.repeat(np.arange(r), n), np.tile(np.arange(n), r))),
        shape=(ncap, n),
    )
    member = (groups + everyone).tocsr()
    return dict(
        n=n, r=r, cap=cap, demand=demand, weight=weight, minimum=minimum, has_min=has_min,
        priority=priority, cap_res=np.array(cap_res), cap_left=np.array(cap_left),
        member=member, ids=[c["id"] for c in cons], resources=res,
    )


def draws(m, per_consumer):
    """Sparse (caps x consumers) matrix of what each consumer draws through each cap, given a
    (consumers x resources) array of amounts."""
    coo = m["member"].tocoo()
    vals = coo.data * per_consumer[coo.col, m["cap_res"][coo.row]]
    return sp.csc_matrix((vals, (coo.row, coo.col)), shape=coo.shape)


def minimums(m):
    """Step 1: the critical minimums, class by class. Returns (amounts, caps' left, shortfalls)."""
    n, r = m["n"], m["r"]
    left = m["cap_left"].copy()
    amounts = np.zeros((n, r))
    shortfalls = []
    need_all = draws(m, m["minimum"])
    for prio in sorted(set(m["priority"][m["has_min"]].tolist()), reverse=True):
        cls = np.flatnonzero(m["has_min"] & (m["priority"] == prio))
        need = np.asarray(need_all[:, cls].sum(axis=1)).ravel()
        pos = need > 0
        scale = min(1.0, float(np.min(np.minimum(np.maximum(left[pos], 0) / need[pos], 1.0)))) \
            if pos.any() else 1.0
        got = m["minimum"][cls] * scale
        amounts[cls] = got
        for j, i in enumerate(cls):
            for k in range(r):
                if got[j, k] < m["minimum"][i, k]:
                    shortfalls.append(dict(
                        consumer=m["ids"][i], priority=int(prio), resource=m["resources"][k],
                        minimum=float(m["minimum"][i, k]),
                        missing=float(m["minimum"][i, k] - got[j, k])))
        left -= need * scale
    return amounts, left, shortfalls


def solve_round(free, d, dmin, caps_scaled, rhs, method):
    """One LP: maximise tau subject to (dmin / d_i) tau - f_i <= 0 for the free consumers and the
    cap rows. Returns (tau, f of the free, duals of their t-rows)."""
    u = len(free)
    rows_t = sp.hstack([-sp.identity(u, format="csc"), sp.csc_matrix((dmin / d[free])[:, None])])
    rows_c = sp.hstack([caps_scaled, sp.csc_matrix((caps_scaled.shape[0], 1))])
    a = sp.vstack([rows_t, rows_c]).tocsc()
    b = np.concatenate([np.zeros(u), rhs])
    c = np.zeros(u + 1)
    c[-1] = -1.0
    bounds = np.zeros((u + 1, 2))
    bounds[:u, 1] = 1.0
    bounds[-1, 1] = np.inf
    res = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method=method)
    if res.status != 0:
        raise RuntimeError(f"HiGHS: {res.message}")
    return res.x[-1], res.x[:u], res.ineqlin.marginals[:u]


def grows(i, free, tau, d, dmin, caps_scaled, rhs, method):
    """Whether free consumer i (an index into free) can rise above tau while every other free
    one keeps tau: maximise f_i with the others' t-rows at tau."""
    u = len(free)
    lo = np.minimum(tau * dmin / d[free], 1.0)
    bounds = np.column_stack([lo, np.ones(u)])
    c = np.zeros(u)
    c[i] = -1.0
    res = linprog(c, A_ub=caps_scaled, b_ub=rhs, bounds=bounds, method=method)
    return res.status == 0 and res.x[i] > lo[i] * (1 + 1e-7)


def allocate(m, method="highs"):
    n, r = m["n"], m["r"]
    amounts, left, shortfalls = minimums(m)
    extra = np.maximum(m["demand"] - amounts, 0.0)
    cap = m["cap"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(extra > 0, np.where(cap > 0, extra / np.where(cap > 0, cap, 1), np.inf), 0)
    sigma = ratio.max(axis=1)
    w = m["weight"]
    d = sigma / w
    f = np.zeros(n)
    f[sigma == 0] = 1.0
    frozen = ~((sigma > 0) & np.isfinite(sigma))
    # Each cap row in units of its resource's full capacity (a zero capacity: unit 1).
    unit = np.where(cap > 0, cap, 1.0)[m["cap_res"]]
    e = draws(m, extra)
    e_scaled = sp.diags(1.0 / unit) @ e
    e_scaled = e_scaled.tocsc()
    dmin = d[~frozen].min() if (~frozen).any() else 1.0
    rounds = checks = 0
    levels = []
    while not frozen.all():
        free = np.flatnonzero(~frozen)
        fixed = np.where(frozen, f, 0.0)
        rhs = left / unit - e_scaled @ fixed
        caps_free = e_scaled[:, free]
        # Only caps the free consumers draw on.
        live = np.diff(caps_free.tocsr().indptr) > 0
        caps_free = caps_free.tocsr()[live].tocsc()
        rhs = rhs[live]
        tau, fx, duals = solve_round(free, d, dmin, caps_free, rhs, method)
        rounds += 1
        t = tau * dmin
        levels.append(t)
        y = np.abs(duals)
        stop = y > DUAL_TOL * max(y.max(), 1e-300)
        met = d[free] <= t * (1 + MET_TOL)
        if not (stop | met).any():
            # Degenerate duals: check each consumer at t in the primal by an LP of its own.
            at_t = np.flatnonzero(np.abs(fx * d[free] - t) <= 1e-9 * t)
            for i in at_t:
                checks += 1
                if not grows(i, free, tau, d, dmin, caps_free, rhs, method):
                    stop[i] = True
            if not stop.any():
                raise RuntimeError(f"round {rounds}: no consumer can be frozen at t = {t}")
        f[free[stop]] = np.minimum(t / d[free[stop]], 1.0)
        f[free[met]] = 1.0
        frozen[free[stop | met]] = True
    amounts = amounts + f[:, None] * extra
    with np.errstate(invalid="ignore"):
        weighted = np.where(np.isfinite(sigma), f * sigma / w, 0.0)
    return dict(amounts=amounts, satisfied=f, weighted_share=weighted, shortfalls=shortfalls,
                rounds=rounds, checks=checks, levels=levels)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("problem")
    ap.add_argument("--out")
    ap.add_argument("--check", help="the Rust allocation (JSON with `amounts`) to compare with")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--method", default="highs", choices=["highs", "highs-ds", "highs-ipm"])
    a = ap.parse_args(argv[1:])
    with open(a.problem) as fh:
        problem = json.load(fh)
    m = load(problem)
    times = []
    for _ in range(a.runs):
        t0 = time.perf_counter()
        # The arrays from the parsed JSON are part of the solve, as a user's would be.
        m = load(problem)
        out = allocate(m, a.method)
        times.append(time.perf_counter() - t0)
        if sum(times) > a.max_seconds:
            break
    times.sort()
    print(f"scipy/HiGHS ({a.method}): {m['n']} consumers, {m['r']} resources, "
          f"{len(m['cap_left']) - m['r']} group limits: {out['rounds']} LP rounds, "
          f"{out['checks']} single checks, {len(out['shortfalls'])} shortfalls; "
          f"median {times[len(times) // 2]:.3f} s, min {times[0]:.3f} s (of {len(times)})")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(dict(amounts=out["amounts"].tolist(), satisfied=out["satisfied"].tolist(),
                           weighted_share=out["weighted_share"].tolist(),
                           shortfalls=out["shortfalls"], rounds=out["rounds"],
                           levels=out["levels"]), fh)
    if a.check:
        with open(a.check) as fh:
            rust = json.load(fh)
        ra = np.asarray(rust["amounts"], dtype=float)
        pa = out["amounts"]
        # Relative to the amount; an amount of zero against a billionth of the capacity.
        floor = 1e-9 * np.where(m["cap"] > 0, m["cap"], 1.0)
        rel = np.abs(pa - ra) / np.maximum(np.abs(ra), floor)
        i, k = np.unravel_index(np.argmax(rel), rel.shape)
        worst = rel[i, k]
        n_short = len(rust.get("shortfalls", []))
        ok = worst <= 1e-6 and n_short == len(out["shortfalls"])
        print(f"agreement with kos-commons: largest relative difference {worst:.2e} "
              f"({m['ids'][i]}, {m['resources'][k]}: {float(pa[i, k])!r} against {float(ra[i, k])!r}); "
              f"shortfalls {len(out['shortfalls'])} against {n_short}: "
              f"{'agree' if ok else 'DISAGREE'} (to 1e-6)")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
