//! Tests of the scene generator: counts, validity, determinism, power flow within limits.

use super::*;
use crate::{build_grid, parse, to_ron};
use kos_grid::{IslandStatus, PowerFlow, PowerFlowOptions};

#[test]
fn the_bus_count_is_met_exactly() {
    for n in [3, 5, 10, 11, 19, 20, 29, 30, 40, 65, 199, 500, 2000, 3001] {
        assert_eq!(generate(n, 1).buses.len(), n, "n = {n}");
    }
    assert_eq!(generate(0, 1).buses.len(), MIN_BUSES);
    assert_eq!(plan(MAX_BUSES).kv, 20.0);
}

#[test]
fn scenes_validate_and_round_trip() {
    for n in [3, 10, 65, 500] {
        let s = generate(n, 42);
        let text = to_ron(&s);
        let back = parse(&text, "generated.ron").unwrap_or_else(|e| panic!("{n}: {e:?}"));
        assert_eq!(s, back, "n = {n}");
    }
}

#[test]
fn the_seed_decides_everything() {
    assert_eq!(generate(500, 7), generate(500, 7));
    assert_ne!(generate(500, 7), generate(500, 8));
    // SplitMix64's first output for seed 0 (Vigna's reference implementation).
    assert_eq!(Rng(0).next(), 0xE220_A839_7B1D_CDAF);
}

#[test]
fn equipment_is_plausible() {
    let s = generate(2000, 3);
    assert!(
        s.transformers.iter().all(
            |t| (250.0..=1000.0).contains(&t.rating_kva) && (4.0..=6.0).contains(&t.vk_percent)
        )
    );
    for l in s.lines.iter().filter(|l| l.id.starts_with("lvc-")) {
        assert!((0.03..=0.08).contains(&l.length_km), "{}", l.id);
    }
    for l in s.loads.iter().filter(|l| l.households > 0) {
        let per = l.peak_kw / l.households as f64;
        assert!((2.0..=2.6).contains(&per), "{}: {per}", l.id);
    }
    let kinds: Vec<PodKind> = s.pods.iter().map(|p| p.kind).collect();
    for k in [
        PodKind::Shelter,
        PodKind::Clinic,
        PodKind::DataCentre,
        PodKind::WaterUtility,
        PodKind::FabricationHub,
    ] {
        assert!(kinds.contains(&k), "{k:?}");
    }
    assert!(s.storage.iter().any(|b| b.grid_forming));
    assert!(s.switches.iter().all(|w| w.normally_open) && s.switches.len() >= 2);
    assert!(
        s.generators
            .iter()
            .any(|g| matches!(g.kind, GeneratorKind::Wind { .. }))
    );
    assert!(s.routes.len() == s.pods.len() && !s.depots.is_empty());
}

/// Solves a generated scene at `start` and checks voltages and loadings.
fn check_flow(n: usize, seed: u64, start: &str) {
    let mut s = generate(n, seed);
    s.site.start = start.into();
    let model = build_grid(&s);
    let r = PowerFlow::new()
        .solve(&model.network, &PowerFlowOptions::default())
        .unwrap();
    assert!(r.converged, "{n} at {start}");
    assert!(r.islands.iter().all(|i| i.status == IslandStatus::Solved));
    let (lo, hi) = r
        .vm_pu
        .iter()
        .fold((f64::MAX, 0.0f64), |a, &v| (a.0.min(v), a.1.max(v)));
    assert!(lo >= 0.90 && hi <= 1.10, "{n} at {start}: {lo}..{hi}");
    let (k, worst) = r
        .branch_loading_pct
        .iter()
        .enumerate()
        .fold((0, 0.0), |a, (k, &x)| if x > a.1 { (k, x) } else { a });
    let name = &model.branch_assets[k].0;
    assert!(worst <= 100.0, "{n} at {start}: {name} at {worst} %");
    let load: f64 = model.network.buses.iter().map(|b| b.pd_mw).sum();
    eprintln!(
        "{n} buses at {start}: {load:.2} MW, V {lo:.3}..{hi:.3} pu, worst {name} {worst:.0} %"
    );
}

#[test]
fn power_flows_converge_within_limits() {
    for n in [10, 65, 200, 2000] {
        check_flow(n, 11, START);
        // The evening peak as well: the network is sized for it.
        check_flow(n, 11, "2026-12-21T19:30");
    }
}

#[test]
fn ten_thousand_buses() {
    let clock = std::time::Instant::now();
    let s = generate(10_000, 5);
    eprintln!(
        "generate(10000): {:.1} ms",
        clock.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(s.buses.len(), 10_000);
    assert!(parse(&to_ron(&s), "g.ron").is_ok());
    check_flow(10_000, 5, START);
    check_flow(10_000, 5, "2026-12-21T19:30");
}
