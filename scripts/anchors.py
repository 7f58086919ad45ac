"""Times the speed anchors on one MATPOWER case: lightsim2grid's Newton-Raphson (ac_pf, KLU)
and pandapower's runpp (its own Newton-Raphson with numba, and with lightsim2grid as its backend), both from a flat (or DC) start on the network read from the same
.m file that kos-grid reads, and optionally lightsim2grid's N-1 contingency analysis.
Prints one JSON object. Used by scripts/bench-anchors.sh."""

import argparse
import json
import statistics
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def timed(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1e3)
    return min(times), statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("case")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--pandapower-repeat", type=int, default=5)
    ap.add_argument("--n1", action="store_true")
    ap.add_argument("--init", choices=["flat", "dc"], default="flat")
    a = ap.parse_args()

    import pandapower as pp
    from pandapower.converter.matpower.from_mpc import from_mpc
    from lightsim2grid.network.from_matpower.initLSGrid import init as init_from_matpower

    net = from_mpc(a.case, f_hz=50)
    out = {"case": a.case, "buses": len(net.bus), "init": a.init}

    # pandapower runpp, flat start, with its own Newton-Raphson compiled by numba. With
    # lightsim2grid installed, runpp hands the solve to lightsim2grid by default
    # (lightsim2grid="auto"); that configuration is timed too, as "pandapower_lightsim2grid".
    def runpp(backend):
        def run():
            pp.runpp(net, init=a.init, numba=True, tolerance_mva=1e-8, max_iteration=30, lightsim2grid=backend)
            return net.converged

        return run

    for key, backend in (("pandapower", False), ("pandapower_lightsim2grid", True)):
        if a.pandapower_repeat == 0:
            break
        runpp(backend)()  # warm-up (numba compilation)
        mn, md, ok = timed(runpp(backend), a.pandapower_repeat)
        out[key] = {"converged": bool(ok), "iterations": int(net._ppc["iterations"]), "ms_min": mn, "ms_median": md}

    # lightsim2grid, read from the same .m file: the model is built once; each call is a
    # Newton-Raphson from a flat start (lightsim2grid holds generator setpoints itself).
    model = init_from_matpower(a.case)
    v0 = np.ones(model.total_bus(), dtype=complex)

    def ac_pf():
        v = v0.copy()
        if a.init == "dc":
            v = model.dc_pf(v, 10, 1e-8)
        return model.ac_pf(v, 30, 1e-8)

    ac_pf()
    mn, md, v = timed(ac_pf, a.repeat)
    out["lightsim2grid"] = {"converged": len(v) > 0, "ms_min": mn, "ms_median": md}

    if a.n1:
        import os

        from lightsim2grid.contingencyAnalysis import ContingencyAnalysisCPP

        # The contingency module on one thread (its default) and on every core, as kos-grid
        # runs, with its own check of branch limits and voltages turned on (kos-grid reports
        # overloads and voltage violations per outage).
        vres = v if len(v) else v0
        for threads in (1, os.cpu_count() or 1):
            sa = ContingencyAnalysisCPP(model)
            sa.nb_thread = threads
            sa.compute_limit_violations = True
            sa.add_all_n1()
            t = time.perf_counter()
            sa.compute(vres, 30, 1e-8)
            out[f"lightsim2grid_n1_{threads}"] = {
                "ms": (time.perf_counter() - t) * 1e3,
                "threads": threads,
                "contingencies": len(sa.my_defaults()),
            }
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
