"""Writes a `pf-refdata/1` reference case with isolated buses, solved by pandapower.

pandapower's case14 with transformer 6-7 and the two lines to bus 13 out of service: bus 7
(a synchronous condenser, PV) and bus 13 (a load) are cut off, and pandapower leaves their
results NaN (and drops the condenser from its generator table), which the format writes as `null`. Exported from pandapower's internal
MATPOWER-form arrays like the files in `shared/refdata`.

Usage: python scripts/refdata_isolated.py OUT.json   (needs `pip install pandapower`)
"""

import json
import math
import platform
import sys

import numpy as np
import pandapower as pp
import pandapower.networks as pn
from pandapower.pypower.idx_brch import (BR_B, BR_R, BR_STATUS, BR_X, F_BUS, PF, PT, QF, QT,
                                         RATE_A, SHIFT, T_BUS, TAP)
from pandapower.pypower.idx_bus import BASE_KV, BS, BUS_TYPE, GS, PD, QD, VA, VM, VMAX, VMIN
from pandapower.pypower.idx_gen import (GEN_BUS, GEN_STATUS, PG, PMAX, PMIN, QG, QMAX, QMIN,
                                        VG)

RUNPP = dict(algorithm="nr", calculate_voltage_angles=True, enforce_q_lims=False,
             tolerance_mva=1e-8, max_iteration=50, numba=False, trafo_model="t", init="flat")


def num(x):
    """A finite float, or None (the format's null)."""
    x = float(x)
    return x if math.isfinite(x) else None


def main(out):
    net = pn.case14()
    net.trafo.loc[3, "in_service"] = False  # 6-7: bus 7 cut off
    net.line.loc[[11, 14], "in_service"] = False  # 8-13 and 12-13: bus 13 cut off
    pp.runpp(net, **RUNPP)
    ppc = net._ppc
    bus, gen, branch = ppc["bus"], ppc["gen"], ppc["branch"]
    base = float(ppc["baseMVA"])
    n = bus.shape[0]
    # pandapower's bus index of each internal bus (cut-off buses come last in it).
    lookup = net._pd2ppc_lookups["bus"]
    pd_of = {int(lookup[b]): int(b) for b in net.bus.index}
    isolated = [int(bus[i, BUS_TYPE]) == 4 or not math.isfinite(bus[i, VM]) for i in range(n)]
    kinds = {1: "PQ", 2: "PV", 3: "slack", 4: "isolated"}
    slack_gen = {int(gen[k, GEN_BUS]) for k in range(gen.shape[0]) if int(bus[int(gen[k, GEN_BUS]), BUS_TYPE]) == 3}

    buses = []
    for i in range(n):
        kind = "isolated" if isolated[i] else kinds[int(bus[i, BUS_TYPE])]
        regulated = kind in ("PV", "slack")
        vset = None
        if regulated:
            vset = float(next(gen[k, VG] for k in range(gen.shape[0]) if int(gen[k, GEN_BUS]) == i))
        buses.append(dict(idx=i, name=str(pd_of[i] + 1), type=kind, base_kv=num(bus[i, BASE_KV]),
                          pd_mw=float(bus[i, PD]), qd_mvar=float(bus[i, QD]),
                          gs_mw=float(bus[i, GS]), bs_mvar=float(bus[i, BS]),
                          vm_setpoint_pu=vset, va_setpoint_deg=0.0 if kind == "slack" else None,
                          vm_min_pu=num(bus[i, VMIN]), vm_max_pu=num(bus[i, VMAX])))

    gens = []
    for k in range(gen.shape[0]):
        b = int(gen[k, GEN_BUS])
        is_slack = b in slack_gen
        gens.append(dict(idx=k, bus=b, is_slack=is_slack, pg_mw=None if is_slack else float(gen[k, PG]),
                         qmax_mvar=num(gen[k, QMAX]), qmin_mvar=num(gen[k, QMIN]),
                         pmax_mw=num(gen[k, PMAX]), pmin_mw=num(gen[k, PMIN]),
                         vg_pu=float(gen[k, VG]), status=int(gen[k, GEN_STATUS] > 0)))

    branches, flows = [], {"pf": [], "qf": [], "pt": [], "qt": []}
    for k in range(branch.shape[0]):
        f, t = int(branch[k, F_BUS].real), int(branch[k, T_BUS].real)
        tap = float(branch[k, TAP].real) or 1.0
        status = int(branch[k, BR_STATUS].real > 0)
        branches.append(dict(idx=k, **{"from": f, "to": t}, r_pu=float(branch[k, BR_R].real),
                             x_pu=float(branch[k, BR_X].real), b_pu=float(branch[k, BR_B].real),
                             g_pu=0.0, tap_ratio=tap, shift_deg=float(branch[k, SHIFT].real),
                             status=status, rate_a_mva=num(branch[k, RATE_A].real)))
        cut = isolated[f] or isolated[t]
        for key, col in (("pf", PF), ("qf", QF), ("pt", PT), ("qt", QT)):
            v = branch[k, col].real
            # An out-of-service branch carries nothing; one touching an isolated bus is null.
            flows[key].append(None if cut else (float(v) if status else 0.0))

    pg = np.zeros(n)
    qg = np.zeros(n)
    for k in range(gen.shape[0]):
        if gen[k, GEN_STATUS] > 0:
            pg[int(gen[k, GEN_BUS])] += gen[k, PG]
            qg[int(gen[k, GEN_BUS])] += gen[k, QG]
    slack_bus = next(i for i in range(n) if buses[i]["type"] == "slack")
    losses = sum(f + t for f, t in zip(flows["pf"], flows["pt"]) if f is not None)
    solution = dict(
        converged=bool(net.converged), init="flat",
        iterations=int(net._ppc["iterations"]), tolerance_pu=1e-8,
        bus_vm_pu=[None if isolated[i] else float(bus[i, VM]) for i in range(n)],
        bus_va_deg=[None if isolated[i] else float(bus[i, VA]) for i in range(n)],
        bus_pg_mw=[None if isolated[i] else float(pg[i]) for i in range(n)],
        bus_qg_mvar=[None if isolated[i] else float(qg[i]) for i in range(n)],
        branch_pf_mw=flows["pf"], branch_qf_mvar=flows["qf"],
        branch_pt_mw=flows["pt"], branch_qt_mvar=flows["qt"],
        slack=[dict(bus=slack_bus, p_mw=float(pg[slack_bus]), q_mvar=float(qg[slack_bus]))],
        total_losses_mw=float(losses))
    doc = dict(schema="pf-refdata/1", case="case14_isolated",
               generator=dict(tool="pandapower", version=pp.__version__, numpy=np.__version__,
                              python=platform.python_version(),
                              network_fn="pandapower.networks.case14(); trafo 3 and lines 11, 14 out of service",
                              runpp_kwargs=RUNPP),
               base_mva=base,
               counts=dict(buses=n, branches=len(branches), generators=len(gens),
                           in_service_branches=sum(b["status"] for b in branches),
                           isolated_buses=sum(isolated)),
               buses=buses, generators=gens, branches=branches, solution=solution)
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    # The pandapower results the export must agree with.
    for i in range(n):
        vm = net.res_bus.vm_pu.at[pd_of[i]]
        assert (isolated[i] and not math.isfinite(vm)) or abs(vm - bus[i, VM]) < 1e-12, i


if __name__ == "__main__":
    main(sys.argv[1])
