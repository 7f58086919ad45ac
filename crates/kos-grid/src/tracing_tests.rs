//! Tests of flow tracing: hand-built networks and published cases.

use super::*;
use crate::network::{Branch, Bus, BusKind, Generator};
use crate::result::IslandResult;
use crate::{PowerFlow, PowerFlowOptions, Start, parse_matpower};

/// A network of `n` buses with the given loads (MW), units (bus, MW) and branches
/// (from, to); the first bus is the slack.
fn net(loads: &[f64], units: &[(usize, f64)], branches: &[(usize, usize)]) -> Network {
    let mut net = Network::new("hand", 100.0);
    for (i, &pd) in loads.iter().enumerate() {
        let kind = if i == 0 { BusKind::Slack } else { BusKind::Pq };
        let mut b = Bus::new(format!("{}", i + 1), kind, 11.0);
        b.pd_mw = pd;
        net.buses.push(b);
    }
    for &(b, p) in units {
        net.generators.push(Generator::new(b, p, 1.0));
    }
    for &(f, t) in branches {
        net.branches.push(Branch::line(f, t, 0.01, 0.05, 0.0));
    }
    net
}

/// A solved result written by hand: unit outputs and the power entering each branch at its
/// from and to ends, MW. One island, solved.
fn hand(net: &Network, gen_mw: &[f64], ends: &[(f64, f64)]) -> PowerFlowResult {
    let n = net.buses.len();
    let nb = net.branches.len();
    let island = IslandResult {
        id: 0,
        n_buses: n,
        reference: Some(0),
        status: IslandStatus::Solved,
        iterations: 1,
        fast_decoupled_iterations: 0,
        max_mismatch_pu: 0.0,
        max_mismatch_bus: None,
        slack_p_mw: 0.0,
        slack_q_mvar: 0.0,
        losses_mw: ends.iter().map(|e| e.0 + e.1).sum(),
    };
    PowerFlowResult {
        converged: true,
        iterations: 1,
        max_mismatch_pu: 0.0,
        max_mismatch_bus: None,
        vm_pu: vec![1.0; n],
        va_deg: vec![0.0; n],
        bus_island: vec![Some(0); n],
        bus_pg_mw: vec![0.0; n],
        bus_qg_mvar: vec![0.0; n],
        gen_pg_mw: gen_mw.to_vec(),
        gen_qg_mvar: vec![0.0; gen_mw.len()],
        branch_pf_mw: ends.iter().map(|e| e.0).collect(),
        branch_qf_mvar: vec![0.0; nb],
        branch_pt_mw: ends.iter().map(|e| e.1).collect(),
        branch_qt_mvar: vec![0.0; nb],
        branch_loading_pct: vec![0.0; nb],
        total_losses_mw: island.losses_mw,
        islands: vec![island],
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

fn assert_shares(t: &Tracing, bus: usize, want: &[(usize, f64)]) {
    let got = &t.buses[bus].shares;
    assert_eq!(got.len(), want.len(), "bus {bus}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            g.0 == w.0 && close(g.1, w.1),
            "bus {bus}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn radial_three_buses_by_hand() {
    // Gen A (unit 0) at bus 1 makes 100 MW; line 1-2 delivers 98 (2 MW lost) to bus 2,
    // whose 60 MW load takes A only. Bus 2 sends the other 38 MW on to bus 3 and 37
    // arrive; gen B (unit 1) at bus 3 adds 33 MW for bus 3's 70 MW load. Bus 3's mix is
    // A 37/70 and B 33/70, so its load gets A 37 and B 33. The 3 MW lost on the way are
    // A's: A delivers 97 MW of its 100, B all its 33. Line 2-3 is entered from its to
    // end (branch written 3 -> 2) to exercise the direction rule.
    let net = net(
        &[0.0, 60.0, 70.0],
        &[(0, 100.0), (2, 33.0)],
        &[(0, 1), (2, 1)],
    );
    let r = hand(&net, &[100.0, 33.0], &[(100.0, -98.0), (-37.0, 38.0)]);
    let t = trace(&net, &r, &TraceOptions::default());
    assert!(t.buses[0].shares.is_empty());
    assert_shares(&t, 1, &[(0, 60.0)]);
    assert_shares(&t, 2, &[(0, 37.0), (1, 33.0)]);
    assert!(close(t.fraction(2, 1), 33.0 / 70.0));
    let totals = t.generator_totals();
    assert!(close(totals[0], 97.0) && close(totals[1], 33.0));
    assert!(t.ignored_branches.is_empty());
}

#[test]
fn proportional_sharing_at_a_node() {
    // The principle of Bialek (1996): 40 MW (G1) and 60 MW (G2) flow into a node and 70
    // and 30 MW flow out, so each outflow is 40 % G1, 60 % G2: 28 + 42 and 12 + 18.
    let net = net(
        &[0.0, 0.0, 0.0, 70.0, 30.0],
        &[(0, 40.0), (1, 60.0)],
        &[(0, 2), (1, 2), (2, 3), (2, 4)],
    );
    let ends = [(40.0, -40.0), (60.0, -60.0), (70.0, -70.0), (30.0, -30.0)];
    let t = trace(
        &net,
        &hand(&net, &[40.0, 60.0], &ends),
        &TraceOptions::default(),
    );
    assert_shares(&t, 3, &[(0, 28.0), (1, 42.0)]);
    assert_shares(&t, 4, &[(0, 12.0), (1, 18.0)]);
    assert_eq!(t.buses[2].load_mw, 0.0);
    assert!(close(t.fraction(2, 0), 0.4));
}

#[test]
fn a_charging_battery_is_load_and_pruning_is_reported() {
    // Bus 2 has no demand but a battery (unit 1) charging at 20 MW: it is a 20 MW load,
    // all from A. Gen C (unit 2) at bus 2 makes 1e-3 MW of the 20 arriving plus its own:
    // its fraction 1e-3/20.001 is below a prune of 1e-3, so it goes unattributed.
    let net = net(&[0.0, 0.0], &[(0, 20.0), (1, -20.0), (1, 0.001)], &[(0, 1)]);
    let r = hand(&net, &[20.0, -20.0, 0.001], &[(20.0, -20.0)]);
    let t = trace(
        &net,
        &r,
        &TraceOptions {
            prune: 1e-3,
            ..Default::default()
        },
    );
    assert!(close(t.buses[1].load_mw, 20.0));
    assert_shares(&t, 1, &[(0, 20.0 * 20.0 / 20.001)]);
    assert!(close(t.buses[1].unattributed_mw, 20.0 * 0.001 / 20.001));
}

#[test]
fn a_directed_cycle_is_broken_at_its_smallest_flow() {
    // A (unit 0, 50 MW) at bus 1, B (unit 1, 20 MW) at bus 2, lossless flows 1->2 30 MW,
    // 2->3 45 MW, 3->1 5 MW: a loop. Loads 25, 5 and 40 MW balance each bus. The 5 MW
    // flow is ignored: bus 1 has 55 MW through it, 50 of them A's, 5 unnamed. Bus 2 gets
    // 30 MW at that mix (A 300/11) plus B's 20: load 5 takes A 5*(300/11)/50 = 30/11 and
    // B 2. Bus 3 has bus 2's mix: A 40*(300/11)/50 = 240/11, B 16.
    let net = net(
        &[25.0, 5.0, 40.0],
        &[(0, 50.0), (1, 20.0)],
        &[(0, 1), (1, 2), (2, 0)],
    );
    let ends = [(30.0, -30.0), (45.0, -45.0), (5.0, -5.0)];
    let t = trace(
        &net,
        &hand(&net, &[50.0, 20.0], &ends),
        &TraceOptions::default(),
    );
    assert_eq!(t.ignored_branches, vec![2]);
    assert_shares(&t, 0, &[(0, 250.0 / 11.0)]);
    assert_shares(&t, 1, &[(0, 30.0 / 11.0), (1, 2.0)]);
    assert_shares(&t, 2, &[(0, 240.0 / 11.0), (1, 16.0)]);
    let totals = t.generator_totals();
    assert!(totals[0] <= 50.0 && totals[1] <= 20.0);
}

#[test]
fn islands_share_nothing_and_a_dead_one_gives_nothing() {
    // Buses 1-2 fed by A at the slack; buses 3-4 by a grid-forming unit B; bus 5 alone.
    let mut net = net(
        &[0.0, 3.0, 0.0, 2.0, 1.0],
        &[(0, 0.0), (2, 2.0)],
        &[(0, 1), (2, 3)],
    );
    net.generators[1].grid_forming = true;
    let r = PowerFlow::new()
        .solve(&net, &PowerFlowOptions::default())
        .unwrap();
    assert_eq!(r.islands[2].status, IslandStatus::Deenergised);
    let t = trace(&net, &r, &TraceOptions::default());
    assert_eq!(t.buses[1].shares.len(), 1);
    assert!(close(t.buses[1].shares[0].1, 3.0) && t.buses[1].shares[0].0 == 0);
    assert_eq!(t.buses[3].shares.len(), 1);
    assert!(close(t.buses[3].shares[0].1, 2.0) && t.buses[3].shares[0].0 == 1);
    assert_eq!(t.buses[4], BusTrace::default());
    assert!(t.composition(4).is_empty());
}

#[test]
fn mismatched_result_traces_nothing() {
    let a = net(&[0.0, 1.0], &[(0, 1.0)], &[(0, 1)]);
    let r = hand(&a, &[1.0], &[(1.0, -1.0)]);
    let b = net(&[0.0, 1.0, 1.0], &[(0, 1.0)], &[(0, 1)]);
    let t = trace(
        &b,
        &r,
        &TraceOptions {
            prune: f64::NAN,
            min_flow_mw: -1.0,
        },
    );
    assert!(t.buses.iter().all(|b| b.shares.is_empty()));
}

fn shared() -> std::path::PathBuf {
    match std::env::var_os("KOS_SHARED") {
        Some(p) => p.into(),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// Solves a MATPOWER case, traces it, checks the properties, returns the trace time, s.
fn check_case(file: &str, prune: f64) -> f64 {
    let path = shared().join("matpower").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let net = parse_matpower(&text, file).unwrap();
    // No solver converges case_ACTIVSg10k from flat: it starts from the DC angles.
    let start = if file.contains("ACTIVS") {
        Start::Dc
    } else {
        Start::Flat
    };
    let opts = PowerFlowOptions {
        start,
        ..Default::default()
    };
    let r = PowerFlow::new().solve(&net, &opts).unwrap();
    assert!(r.converged, "{file}");
    let clock = std::time::Instant::now();
    let t = trace(
        &net,
        &r,
        &TraceOptions {
            prune,
            ..Default::default()
        },
    );
    let secs = clock.elapsed().as_secs_f64();
    let (mut load, mut unattributed) = (0.0, 0.0);
    for (i, b) in t.buses.iter().enumerate() {
        assert!(
            b.shares.windows(2).all(|w| w[0].0 < w[1].0),
            "{file} bus {i}"
        );
        assert!(b.shares.iter().all(|s| s.1 > 0.0), "{file} bus {i}");
        let sum: f64 = b.shares.iter().map(|s| s.1).sum();
        assert!(sum <= b.load_mw * (1.0 + 1e-9) + 1e-9, "{file} bus {i}");
        assert!((sum + b.unattributed_mw - b.load_mw).abs() <= 1e-9 * (1.0 + b.load_mw));
        // The load served is the bus's demand plus its absorbing units.
        let absorbing: f64 = (net.generators.iter().enumerate())
            .filter(|(g, u)| u.bus == i && u.in_service && r.gen_pg_mw[*g] < -1e-9)
            .map(|(g, _)| -r.gen_pg_mw[g])
            .sum();
        assert!(
            close(b.load_mw, net.buses[i].pd_mw.max(0.0) + absorbing),
            "{file} {i}"
        );
        load += b.load_mw;
        unattributed += b.unattributed_mw;
    }
    for (g, total) in t.generator_totals().into_iter().enumerate() {
        assert!(
            total <= r.gen_pg_mw[g].max(0.0) + 1e-9,
            "{file} unit {g}: {total}"
        );
    }
    let negative_load: f64 = net.buses.iter().map(|b| (-b.pd_mw).max(0.0)).sum();
    eprintln!(
        "{file}: trace {:.1} ms, {unattributed:.3} of {load:.1} MW unattributed \
         (negative loads {negative_load:.1} MW), {} cycles broken, {} units",
        secs * 1e3,
        t.ignored_branches.len(),
        net.generators.len(),
    );
    // Pruning and cycles leave little unnamed beyond the non-generator injections.
    assert!(
        unattributed <= negative_load + 0.01 * load,
        "{file}: {unattributed}"
    );
    secs
}

#[test]
fn case118_shares_balance_and_no_unit_gives_more_than_it_makes() {
    check_case("case118.m", 1e-4);
    // Unpruned, a radial-free mesh without negative loads names every megawatt.
    check_case("case118.m", 0.0);
}

/// The same checks on the two 10,000-bus cases (their time is printed; speed is measured in
/// `scripts/bench-tick.sh`, not here).
#[test]
fn large_cases_shares_balance_too() {
    for f in ["case9241pegase.m", "case_ACTIVSg10k.m"] {
        check_case(f, 1e-4);
    }
}
