#!/usr/bin/env python3
"""Reference generator for IEC 60909 short-circuit results computed with pandapower.

Modes
-----
  python pandapower-sc.py solve CASE.json OUT.json [--case max|min] [--lv-tol-percent 10|6]
      Read an "sc-case/1" network, build the pandapower net, run
      calc_sc(case=..., fault="3ph", ip=True) and calc_sc(case=..., fault="2ph"),
      write "sc-result/1". The minimum case needs the ext grids' s_sc_min_mva and rx_min;
      lines without endtemp_degree get 80 degC.
  python pandapower-sc.py export NAME OUT.json
      Build a named pandapower network (example_simple, mv_oberrhein, case9241pegase),
      add short-circuit data, reduce it to what sc-case/1 can express, write sc-case/1.
  python pandapower-sc.py time CASE.json [--inverse-y true|false|both]
      Wall time of calc_sc(3ph, max, ip=True) on the case: one warm-up, best of 3.

Tested with pandapower==3.5.6 (numpy 2.4, scipy 1.17, no numba).
"""
import json
import math
import sys
import time
import warnings
import logging

import numpy as np

warnings.filterwarnings("ignore")
logging.disable(logging.WARNING)

import pandapower as pp  # noqa: E402
import pandapower.networks as pn  # noqa: E402
import pandapower.shortcircuit as sc  # noqa: E402

FMT_CASE = "sc-case/1"
FMT_RES = "sc-result/1"

# ---------------------------------------------------------------------------------------------
# sc-case/1 -> pandapower
# ---------------------------------------------------------------------------------------------


def build_net(case):
    if case.get("format") != FMT_CASE:
        raise ValueError("not an sc-case/1 document")
    f_hz = float(case.get("frequency_hz", 50))
    net = pp.create_empty_network(name=case.get("name", ""), f_hz=f_hz, sn_mva=1.0)
    bidx = {}
    for i, b in enumerate(case["buses"]):
        if b["id"] in bidx:
            raise ValueError("duplicate bus id %s" % b["id"])
        bidx[b["id"]] = pp.create_bus(net, vn_kv=float(b["vn_kv"]), name=b["id"], index=i)
    for e in case.get("ext_grids", []):
        extra = {}
        if "s_sc_min_mva" in e:
            extra = dict(s_sc_min_mva=float(e["s_sc_min_mva"]), rx_min=float(e["rx_min"]))
        pp.create_ext_grid(net, bidx[e["bus"]], name=e["id"], s_sc_max_mva=float(e["s_sc_max_mva"]),
                           rx_max=float(e["rx_max"]), **extra)
    for l in case.get("lines", []):
        pp.create_line_from_parameters(net, bidx[l["from"]], bidx[l["to"]], length_km=1.0,
                                       r_ohm_per_km=float(l["r_ohm"]), x_ohm_per_km=float(l["x_ohm"]),
                                       c_nf_per_km=0.0, max_i_ka=1e6, name=l["id"],
                                       endtemp_degree=float(l.get("endtemp_degree", 80.0)))
    for t in case.get("trafos", []):
        pp.create_transformer_from_parameters(
            net, bidx[t["hv_bus"]], bidx[t["lv_bus"]], sn_mva=float(t["sn_mva"]),
            vn_hv_kv=float(t["vn_hv_kv"]), vn_lv_kv=float(t["vn_lv_kv"]),
            vkr_percent=float(t["vkr_percent"]), vk_percent=float(t["vk_percent"]),
            pfe_kw=0.0, i0_percent=0.0, shift_degree=0.0, name=t["id"])
    for s in case.get("switches", []):
        pp.create_switch(net, bidx[s["from"]], bidx[s["to"]], et="b", closed=True, name=s["id"])
    for s in case.get("sgens", []):
        pp.create_sgen(net, bidx[s["bus"]], p_mw=0.0, sn_mva=float(s["sn_mva"]), k=float(s["k"]),
                       current_source=True, name=s["id"])
    for g in case.get("gens", []):
        pp.create_gen(net, bidx[g["bus"]], p_mw=0.0, vm_pu=1.0, sn_mva=float(g["sn_mva"]),
                      vn_kv=float(g["vn_kv"]), xdss_pu=float(g["xdss_pu"]),
                      rdss_ohm=float(g["rdss_ohm"]), cos_phi=float(g["cos_phi"]), name=g["id"])
    return net


def _num(x):
    x = float(x)
    return x if math.isfinite(x) else None


def solve(case_path, out_path, which="max", lv_tol_percent=10):
    with open(case_path) as fh:
        case = json.load(fh)
    net = build_net(case)
    sc.calc_sc(net, case=which, fault="3ph", ip=True, lv_tol_percent=lv_tol_percent)
    r3 = net.res_bus_sc.copy()
    sc.calc_sc(net, case=which, fault="2ph", lv_tol_percent=lv_tol_percent)
    r2 = net.res_bus_sc.copy()
    buses = []
    for i, b in enumerate(case["buses"]):
        buses.append({
            "id": b["id"],
            "ikss_ka": _num(r3.at[i, "ikss_ka"]),
            "ip_ka": _num(r3.at[i, "ip_ka"]),
            "skss_mva": _num(r3.at[i, "skss_mw"]),  # pandapower calls the column skss_mw
            "ikss_2ph_ka": _num(r2.at[i, "ikss_ka"]),
            # extra diagnostics: Thevenin impedance at the fault bus (Zbus diagonal, ohm)
            "rk_ohm": _num(r3.at[i, "rk_ohm"]),
            "xk_ohm": _num(r3.at[i, "xk_ohm"]),
        })
    res = {"format": FMT_RES, "pandapower": pp.__version__, "case": which,
           "lv_tol_percent": lv_tol_percent,
           "name": case.get("name", ""), "buses": buses}
    with open(out_path, "w") as fh:
        json.dump(res, fh, indent=1)
    n_null = sum(1 for b in buses if b["ikss_ka"] is None)
    print("wrote %s: %d buses (%d without result: not connected to a voltage source)"
          % (out_path, len(buses), n_null))


# ---------------------------------------------------------------------------------------------
# pandapower -> sc-case/1
# ---------------------------------------------------------------------------------------------

SGEN_K = 1.2  # full-converter sgens: Ik'' = k * Ir (used when the net has no sgen.k)


def prepare_example_simple():
    net = pn.example_simple()
    net.ext_grid["s_sc_max_mva"] = 1000.0
    net.ext_grid["rx_max"] = 0.1
    g = net.gen
    g["sn_mva"] = 10.0
    g["vn_kv"] = net.bus.vn_kv.loc[g.bus].values
    g["xdss_pu"] = 0.2
    g["rdss_ohm"] = 0.05 * g.xdss_pu * g.vn_kv ** 2 / g.sn_mva  # R = 0.05 X''d
    g["cos_phi"] = 0.85
    s = net.sgen
    s["sn_mva"] = np.hypot(s.p_mw, s.q_mvar)
    s["k"] = SGEN_K
    return net


def prepare_mv_oberrhein():
    net = pn.mv_oberrhein()
    net.ext_grid["s_sc_max_mva"] = 1000.0
    net.ext_grid["rx_max"] = 0.1
    s = net.sgen
    s["sn_mva"] = s.sn_mva.where(s.sn_mva > 0, np.hypot(s.p_mw, s.q_mvar))
    s["k"] = SGEN_K
    return net


def prepare_case9241pegase():
    net = pn.case9241pegase()
    net.ext_grid["s_sc_max_mva"] = 20000.0  # strong EHV infeed (≈ 30 kA at 400 kV)
    net.ext_grid["rx_max"] = 0.1
    g = net.gen
    g["cos_phi"] = 0.85
    g["sn_mva"] = np.maximum.reduce([g.max_p_mw.abs().values, g.p_mw.abs().values,
                                     np.full(len(g), 10.0)]) / 0.85
    g["vn_kv"] = net.bus.vn_kv.loc[g.bus].values
    g["xdss_pu"] = 0.2
    g["rdss_ohm"] = 0.05 * g.xdss_pu * g.vn_kv ** 2 / g.sn_mva  # R = 0.05 X''d (large HV machine)
    s = net.sgen
    s["sn_mva"] = np.hypot(s.p_mw, s.q_mvar)
    s["k"] = SGEN_K
    return net


NETS = {"example_simple": prepare_example_simple,
        "mv_oberrhein": prepare_mv_oberrhein,
        "case9241pegase": prepare_case9241pegase}


def to_case(net, name):
    """Reduce a pandapower net to sc-case/1.

    Kept: in-service buses, ext_grids, lines (r/x totals, /parallel), 2W trafos (sn*parallel,
    nominal ratio: taps, shift, pfe, i0 dropped), closed bus-bus switches, gens, sgens.
    Dropped: line capacitance/conductance, loads, shunts, wards, motors, trafo3w, impedances,
    out-of-service elements, lines/trafos with an open switch at either end.
    """
    bus_ok = set(net.bus.index[net.bus.in_service.astype(bool)])
    sw = net.switch
    open_sw = sw[~sw.closed.astype(bool)]
    open_lines = set(open_sw.element[open_sw.et == "l"].astype(int))
    open_trafos = set(open_sw.element[open_sw.et == "t"].astype(int))

    out = {"format": FMT_CASE, "name": name, "frequency_hz": float(net.f_hz),
           "buses": [], "ext_grids": [], "lines": [], "trafos": [], "switches": [],
           "sgens": [], "gens": []}
    for i, b in net.bus.iterrows():
        if i in bus_ok:
            out["buses"].append({"id": str(i), "vn_kv": float(b.vn_kv)})

    for i, e in net.ext_grid.iterrows():
        if e.in_service and e.bus in bus_ok:
            out["ext_grids"].append({"id": str(i), "bus": str(e.bus),
                                     "s_sc_max_mva": float(e.s_sc_max_mva), "rx_max": float(e.rx_max)})

    for i, l in net.line.iterrows():
        if not l.in_service or i in open_lines or l.from_bus not in bus_ok or l.to_bus not in bus_ok:
            continue
        par = float(l.parallel)
        out["lines"].append({"id": str(i), "from": str(l.from_bus), "to": str(l.to_bus),
                             "r_ohm": float(l.r_ohm_per_km * l.length_km / par),
                             "x_ohm": float(l.x_ohm_per_km * l.length_km / par)})

    for i, t in net.trafo.iterrows():
        if not t.in_service or i in open_trafos or t.hv_bus not in bus_ok or t.lv_bus not in bus_ok:
            continue
        out["trafos"].append({"id": str(i), "hv_bus": str(t.hv_bus), "lv_bus": str(t.lv_bus),
                              "sn_mva": float(t.sn_mva * t.parallel),
                              "vn_hv_kv": float(t.vn_hv_kv), "vn_lv_kv": float(t.vn_lv_kv),
                              "vk_percent": float(t.vk_percent), "vkr_percent": float(t.vkr_percent)})

    bb = sw[(sw.et == "b") & sw.closed.astype(bool)]
    for i, s in bb.iterrows():
        if s.bus in bus_ok and s.element in bus_ok and s.bus != s.element:
            out["switches"].append({"id": str(i), "from": str(s.bus), "to": str(int(s.element))})

    for i, s in net.sgen.iterrows():
        if s.in_service and s.bus in bus_ok and float(s.sn_mva) > 0:
            out["sgens"].append({"id": str(i), "bus": str(s.bus), "sn_mva": float(s.sn_mva),
                                 "k": float(s.k)})

    for i, g in net.gen.iterrows():
        if g.in_service and g.bus in bus_ok:
            out["gens"].append({"id": str(i), "bus": str(g.bus), "sn_mva": float(g.sn_mva),
                                "vn_kv": float(g.vn_kv), "xdss_pu": float(g.xdss_pu),
                                "rdss_ohm": float(g.rdss_ohm), "cos_phi": float(g.cos_phi)})
    return out


def export(name, out_path):
    if name not in NETS:
        raise SystemExit("unknown net %s (known: %s)" % (name, ", ".join(NETS)))
    case = to_case(NETS[name](), name)
    with open(out_path, "w") as fh:
        json.dump(case, fh, indent=1)
    print("wrote %s: %s" % (out_path, ", ".join("%d %s" % (len(v), k) for k, v in case.items()
                                                 if isinstance(v, list))))


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------


def time_case(case_path, which="both"):
    with open(case_path) as fh:
        case = json.load(fh)
    net = build_net(case)
    opts = {"true": [True], "false": [False], "both": [True, False]}[which]
    best_overall = None
    for inv in opts:
        kw = dict(case="max", fault="3ph", ip=True, inverse_y=inv)
        sc.calc_sc(net, **kw)  # warm-up
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            sc.calc_sc(net, **kw)
            ts.append(time.perf_counter() - t0)
        best = min(ts)
        print("calc_sc(net, case='max', fault='3ph', ip=True, inverse_y=%s) [kappa_method='C', "
              "topology='auto', all %d buses]: best of 3 = %.3f s (runs: %s)"
              % (inv, len(net.bus), best, ", ".join("%.3f" % t for t in ts)), flush=True)
        if best_overall is None or best < best_overall[1]:
            best_overall = (inv, best)
    print("pandapower %s, numba: %s; fastest: inverse_y=%s %.3f s"
          % (pp.__version__, _has_numba(), best_overall[0], best_overall[1]))


def _has_numba():
    try:
        import numba  # noqa: F401
        return "yes"
    except ImportError:
        return "no"


def main(argv):
    if len(argv) >= 4 and argv[1] == "solve":
        which = argv[argv.index("--case") + 1] if "--case" in argv else "max"
        tol = int(argv[argv.index("--lv-tol-percent") + 1]) if "--lv-tol-percent" in argv else 10
        solve(argv[2], argv[3], which, tol)
    elif len(argv) >= 4 and argv[1] == "export":
        export(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "time":
        which = "both"
        if "--inverse-y" in argv:
            which = argv[argv.index("--inverse-y") + 1]
        time_case(argv[2], which)
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
