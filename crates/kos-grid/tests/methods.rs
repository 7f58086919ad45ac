//! The solver's methods and options against the references: DC, fast-decoupled and its
//! fallback, reactive limits, distributed slack, chord steps, N-1 and two threads.

mod common;

use common::*;
use kos_grid::{
    Method, Network, PowerFlow, PowerFlowOptions, PowerFlowResult, Start, parse_matpower,
};

#[test]
fn dc_power_flow_satisfies_kirchhoff_and_tracks_the_ac_flows() {
    let (net, sol) = refcase("case118_matpower.json");
    let r = PowerFlow::new()
        .solve(
            &net,
            &PowerFlowOptions {
                method: Method::Dc,
                ..flat(1e-8)
            },
        )
        .unwrap();
    assert!(r.converged);
    // Kirchhoff's current law at every bus: flows out = generation - load - shunt.
    let mut out = vec![0.0; net.buses.len()];
    for (k, br) in net.branches.iter().enumerate() {
        out[br.from] += r.branch_pf_mw[k];
        out[br.to] += r.branch_pt_mw[k];
    }
    let mut gen_at = vec![0.0; net.buses.len()];
    for (g, p) in net.generators.iter().zip(&r.gen_pg_mw) {
        gen_at[g.bus] += p;
    }
    for (i, b) in net.buses.iter().enumerate() {
        let balance = gen_at[i] - b.pd_mw - b.gs_mw - out[i];
        assert!(balance.abs() < 1e-6, "bus {i}: KCL off by {balance} MW");
    }
    // Lossless: generation equals load.
    let load: f64 = net.buses.iter().map(|b| b.pd_mw + b.gs_mw).sum();
    let gen_total: f64 = r.gen_pg_mw.iter().sum();
    assert!(
        (gen_total - load).abs() < 1e-6,
        "DC balance {gen_total} vs {load}"
    );
    // The linear model stays within a fifth of the largest AC flow on this meshed grid.
    let largest = sol
        .branch_pf_mw
        .iter()
        .flatten()
        .fold(0.0f64, |a, b| a.max(b.abs()));
    let (d, _) = max_abs_diff(&r.branch_pf_mw, &sol.branch_pf_mw);
    assert!(d < 0.2 * largest, "DC vs AC differ by {d} MW of {largest}");
}

#[test]
fn q_limits_hold_every_unit_within_its_band() {
    let (net, _) = refcase("case118_matpower.json");
    let opts = PowerFlowOptions {
        enforce_q_limits: true,
        ..flat(1e-8)
    };
    let r = PowerFlow::new().solve(&net, &opts).unwrap();
    assert!(r.converged);
    let free = PowerFlow::new().solve(&net, &flat(1e-8)).unwrap();
    let violated = |r: &PowerFlowResult| {
        net.generators
            .iter()
            .zip(&r.gen_qg_mvar)
            .enumerate()
            .filter(|(i, (g, q))| {
                // The reference unit balances the island and is not switched.
                let slack = r
                    .islands
                    .iter()
                    .any(|isl| isl.reference == Some(net.generators[*i].bus));
                g.in_service && !slack && (**q > g.qmax_mvar + 1e-4 || **q < g.qmin_mvar - 1e-4)
            })
            .count()
    };
    assert!(
        violated(&free) > 0,
        "case30 without limits should violate some unit's band"
    );
    assert_eq!(violated(&r), 0);
}

#[test]
fn distributed_slack_shares_the_imbalance_by_participation() {
    let large = {
        // Large enough for the solve to take two threads, its vectors in the factorisation's
        // order.
        let path = shared().join("matpower").join("case9241pegase.m");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_matpower(&text, "case9241pegase.m").unwrap()
    };
    for net in [refcase("case14_matpower.json").0, large] {
        distributed_slack_holds(&net);
    }
}

fn distributed_slack_holds(net: &Network) {
    let opts = PowerFlowOptions {
        distributed_slack: true,
        ..flat(1e-9)
    };
    let r = PowerFlow::new().solve(net, &opts).unwrap();
    assert!(r.converged, "{}", net.name);
    // Every participating unit moved from schedule by the same fraction of its rating.
    let moves: Vec<f64> = net
        .generators
        .iter()
        .zip(&r.gen_pg_mw)
        .filter(|(g, _)| g.in_service && g.participation > 0.0)
        .map(|(g, p)| (p - g.pg_mw) / g.participation)
        .collect();
    assert!(moves.len() >= 2);
    for m in &moves {
        assert!((m - moves[0]).abs() < 1e-6, "{moves:?}");
    }
    // Power balance: generation = load + losses.
    let load: f64 = net.buses.iter().map(|b| b.pd_mw).sum();
    let shunt: f64 = net
        .buses
        .iter()
        .zip(&r.vm_pu)
        .map(|(b, v)| b.gs_mw * v * v)
        .sum();
    let gen_total: f64 = r.gen_pg_mw.iter().sum();
    // Within the mismatches the tolerance leaves at every bus.
    let bound = 1e-6 + net.buses.len() as f64 * 1e-9 * net.base_mva;
    let imbalance = gen_total - load - shunt - r.total_losses_mw;
    assert!(imbalance.abs() < bound, "{}: {imbalance} MW", net.name);
}

#[test]
fn fast_decoupled_reproduces_every_reference_case() {
    let files = reference_files();
    let mut alone = 0;
    for f in &files {
        let (net, sol) = refcase(f);
        let opts = PowerFlowOptions {
            method: Method::FastDecoupled,
            ..flat(sol.tolerance_pu)
        };
        let r = PowerFlow::new().solve(&net, &opts).unwrap();
        check_values(f, &r, &sol);
        let fd = r.islands.iter().map(|i| i.fast_decoupled_iterations).max();
        assert!(
            fd.is_some_and(|n| n > 0),
            "{f}: no fast-decoupled iteration"
        );
        // On the transmission cases the method reaches the tolerance by itself; Newton's
        // finishing pass then takes no step.
        if r.iterations == 0 {
            alone += 1;
        }
    }
    assert!(
        alone >= 10,
        "fast-decoupled alone solved only {alone} cases"
    );
}

#[test]
fn newton_falls_back_to_fast_decoupled_where_a_flat_start_diverges() {
    let m = "case_ACTIVSg10k.m";
    let path = shared().join("matpower").join(m);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let net = parse_matpower(&text, m).unwrap();
    let strict = PowerFlowOptions {
        fast_decoupled_fallback: false,
        ..flat(1e-8)
    };
    let failed = PowerFlow::new().solve(&net, &strict).unwrap();
    assert!(
        !failed.converged,
        "Newton-Raphson alone converged from flat"
    );
    assert!(
        failed
            .vm_pu
            .iter()
            .chain(&failed.va_deg)
            .all(|x| x.is_finite())
    );
    let rescued = PowerFlow::new()
        .solve(
            &net,
            &PowerFlowOptions {
                fast_decoupled_fallback: true,
                ..strict
            },
        )
        .unwrap();
    assert!(rescued.converged, "mismatch {}", rescued.max_mismatch_pu);
    assert!(rescued.islands[0].fast_decoupled_iterations > 0);
    // The same solution as Newton-Raphson from the DC angles.
    let reference = PowerFlow::new()
        .solve(
            &net,
            &PowerFlowOptions {
                start: Start::Dc,
                ..strict
            },
        )
        .unwrap();
    assert!(reference.converged);
    let (dvm, _) = max_abs_diff(&rescued.vm_pu, &reference.vm_pu);
    let (dva, _) = max_abs_diff(&rescued.va_deg, &reference.va_deg);
    assert!(dvm < 1e-6 && dva < 1e-4, "dVm {dvm:e}, dVa {dva:e}");
}

#[test]
fn the_dc_outage_shift_is_the_dc_solution_without_the_branch() {
    // Sherman-Morrison is exact on the linear model: base angles plus the shift of an
    // outage equal the DC angles of the network without that branch.
    let (net, _) = refcase("case118_matpower.json");
    let dc = PowerFlowOptions {
        method: Method::Dc,
        ..flat(1e-8)
    };
    let base = PowerFlow::new().solve(&net, &dc).unwrap();
    let islands = kos_grid::find_islands(&net, |k| net.branches[k].in_service);
    let mut model = kos_grid::dc::DcModel::new(&net, &islands);
    let mut checked = 0;
    for k in (0..net.branches.len()).step_by(7) {
        let mut out = net.clone();
        out.branches[k].in_service = false;
        let after = kos_grid::find_islands(&out, |j| out.branches[j].in_service);
        let shift = model.outage_shift(&net, &islands, k, base.branch_pf_mw[k] / net.base_mva);
        if after != islands {
            assert!(shift.is_none(), "branch {k} splits the grid");
            continue;
        }
        let shift = shift.expect("a meshed branch has a shift");
        let expected = PowerFlow::new().solve(&out, &dc).unwrap();
        let predicted: Vec<f64> = base
            .va_deg
            .iter()
            .zip(&shift)
            .map(|(a, d)| a + d.to_degrees())
            .collect();
        let (d, i) = max_abs_diff(&predicted, &expected.va_deg);
        assert!(d < 1e-8, "branch {k}: {d:e} deg at bus {i}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} outages checked");
}

#[test]
fn chord_steps_reach_the_reference_solutions() {
    // Reusing the last factors below 1e-3 pu changes the path to the solution, not the
    // solution.
    for f in &reference_files() {
        let (net, sol) = refcase(f);
        let mut opts = flat(sol.tolerance_pu);
        opts.newton.reuse_factors_below = 1e-3;
        let r = PowerFlow::new().solve(&net, &opts).unwrap();
        check_values(f, &r, &sol);
    }
}

#[test]
fn n1_agrees_with_solving_each_outage_on_its_own() {
    // Every outage of case1354pegase as N-1 solves it (islands from the bridges, warm start
    // with the DC shift, one engine per thread, chord steps) against a fresh engine
    // solving the network without that branch from a flat start, with full Newton steps.
    let (net, _) = refcase("case1354pegase_matpower.json");
    let mut opts = flat(1e-8);
    opts.fast_decoupled_fallback = true;
    let mut n1_opts = opts;
    n1_opts.newton.reuse_factors_below = 1e-3;
    let report = kos_grid::run_n1(&net, &n1_opts, || {}).unwrap();
    // The same bits on one thread as on several: each outage's result is its own.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| kos_grid::run_n1(&net, &n1_opts, || {}).unwrap());
    assert!(report == one_thread, "N-1 depends on the threads");
    assert!(report.base_converged);
    assert_eq!(report.outages.len(), net.branches.len());
    let mut compared = 0;
    for o in &report.outages {
        let b = o.branch.expect("an outage names its branch");
        let mut out = net.clone();
        out.branches[b].in_service = false;
        let r = PowerFlow::new().solve(&out, &opts).unwrap();
        let islands = kos_grid::find_islands(&out, |j| out.branches[j].in_service);
        assert_eq!(o.islands, islands.islands.len(), "branch {}", b);
        assert_eq!(
            o.split,
            islands.islands.len() != report.base.islands,
            "branch {}",
            b
        );
        if !(o.converged && r.converged) {
            continue;
        }
        let overloads: Vec<(usize, f64)> = r
            .branch_loading_pct
            .iter()
            .enumerate()
            .filter(|&(k, &l)| k != b && out.branches[k].rate_a_mva > 0.0 && l > 100.0)
            .map(|(k, &l)| (k, l))
            .collect();
        assert_eq!(
            o.overloads.iter().map(|x| x.0).collect::<Vec<_>>(),
            overloads.iter().map(|x| x.0).collect::<Vec<_>>(),
            "branch {}",
            b
        );
        for (ours, alone) in o.overloads.iter().zip(&overloads) {
            assert!(
                (ours.1 - alone.1).abs() < 1e-4,
                "branch {b}: {} vs {}",
                ours.1,
                alone.1
            );
        }
        compared += 1;
    }
    assert!(
        compared >= 1980,
        "only {compared} outages converged both ways"
    );
}

/// A large island's solve on two threads has one thread's results, bit for bit, on the two
/// largest cases (the numbers every part of a solve computes do not depend on which thread
/// computed them).
#[test]
fn two_threads_give_the_bits_of_one() {
    use kos_grid::network::BusKind;
    use kos_grid::newton::{IslandNewton, Role};
    use kos_grid::ybus::Ybus;
    let bits = |x: &[f64]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    for (m, start) in [
        ("case9241pegase.m", Start::Flat),
        ("case_ACTIVSg10k.m", Start::Dc),
    ] {
        let path = shared().join("matpower").join(m);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let net = parse_matpower(&text, m).unwrap();
        // The case is large enough for the solve to take two threads.
        let n = net.buses.len();
        let slack = net
            .buses
            .iter()
            .position(|b| b.kind == BusKind::Slack)
            .unwrap();
        let roles = (0..n)
            .map(|i| {
                if i == slack {
                    Role::Reference
                } else {
                    Role::Pq
                }
            })
            .collect();
        let y = Ybus::build(&net, |_, br| br.in_service);
        let nr = IslandNewton::new(&y, (0..n).collect(), roles, Vec::new()).unwrap();
        assert!(nr.gains_from_two_threads(), "{m}");
        let solve = |two_threads: bool| {
            let mut opts = PowerFlowOptions {
                start,
                ..flat(1e-8)
            };
            opts.newton.two_threads = two_threads;
            PowerFlow::new().solve(&net, &opts).unwrap()
        };
        let (one, two) = (solve(false), solve(true));
        assert!(one.converged && two.converged, "{m}");
        assert_eq!(one.iterations, two.iterations, "{m}");
        for (a, b) in [
            (&one.vm_pu, &two.vm_pu),
            (&one.va_deg, &two.va_deg),
            (&one.branch_pf_mw, &two.branch_pf_mw),
            (&one.branch_qt_mvar, &two.branch_qt_mvar),
        ] {
            assert_eq!(bits(a), bits(b), "{m}");
        }
    }
}
