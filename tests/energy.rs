//! The energy mesh over simulated days: weather-driven renewables, storage, the per-island
//! balancer with network relief, monitors and wear, checked on the headless report.

use bevy::prelude::*;
use kos_scene::{GeneratorKind, Scene};
use kos_twin::app::headless_app;
use kos_twin::model::*;
use kos_twin::report::build_report;
use kos_twin::scene::default_scene;
use kos_twin::sim::modules::{ModuleKind, PlugInModule, plug_in_modules};
use kos_twin::sim::run_ticks;
use serde_json::Value;

const TICKS_PER_DAY: u64 = 24 * 60;

fn run(scene: &Scene, ticks: u64) -> Value {
    let mut app = headless_app(scene);
    run_ticks(&mut app, ticks);
    build_report(app.world_mut(), "test")
}

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number `{key}` in {v}"))
}

/// Every island of every tick closes its energy balance within 0.1 % of its served load.
fn assert_balance_closes(report: &Value) {
    for tick in report["summary"].as_array().unwrap() {
        for island in tick["islands"].as_array().unwrap() {
            let g = &island["generation_kw"];
            let sources: f64 = ["solar", "wind", "chp", "bio", "other", "grid"]
                .iter()
                .map(|k| f(g, k))
                .sum::<f64>()
                + f(island, "storage_kw");
            let served = f(island, "load_served_kw");
            let losses = f(island, "losses_kw");
            let err = f(island, "balance_error_kw");
            assert!(
                (sources - served - losses - err).abs() < 1e-6,
                "reported error disagrees with its parts at {}",
                tick["t"]
            );
            assert!(
                err.abs() <= 1e-3 * served.max(1.0),
                "tick {}: balance error {err} kW of {served} kW served",
                tick["t"]
            );
        }
    }
}

#[test]
fn a_week_of_the_default_scene_balances_cycles_storage_and_spares_critical_load() {
    let report = run(&default_scene(), 7 * TICKS_PER_DAY);
    let ticks = report["summary"].as_array().unwrap();
    assert_eq!(ticks.len() as u64, 7 * TICKS_PER_DAY);
    assert_balance_closes(&report);

    let sum_islands = |t: &Value, f: &dyn Fn(&Value) -> f64| {
        t["islands"].as_array().unwrap().iter().map(f).sum::<f64>()
    };
    let solar: Vec<f64> = ticks
        .iter()
        .map(|t| sum_islands(t, &|i| f(&i["generation_kw"], "solar")))
        .collect();
    let wind: Vec<f64> = ticks
        .iter()
        .map(|t| sum_islands(t, &|i| f(&i["generation_kw"], "wind")))
        .collect();
    let storage: Vec<f64> = ticks.iter().map(|t| f(t, "storage_kw")).collect();
    let critical_shed: f64 = ticks
        .iter()
        .map(|t| sum_islands(t, &|i| f(&i["load_shed_kw"], "critical")))
        .fold(0.0, f64::max);

    // A solar day curve: nothing at night, a midday peak, every day. Ticks are found by
    // their local time, whatever hour the scene starts at.
    let hour_of = |t: &Value| -> u64 { t["t"].as_str().unwrap()[11..13].parse().unwrap() };
    let first_midnight = ticks.iter().position(|t| hour_of(t) == 0).unwrap() as u64;
    for day in 0..6 {
        let at = |h: u64| solar[(first_midnight + day * TICKS_PER_DAY + h * 60) as usize];
        assert!(at(1) < 1e-6 && at(23) < 1e-6, "day {day}: solar at night");
        let noon = (10..15).map(at).fold(0.0, f64::max);
        assert!(noon > 5.0, "day {day}: no midday solar ({noon} kW)");
        assert!(
            noon > at(8) && noon > at(17),
            "day {day}: no peak at midday"
        );
    }
    // Wind varies: not constant, and both calm-ish and windy hours.
    let (wmin, wmax) = wind
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &w| (a.min(w), b.max(w)));
    assert!(wmax - wmin > 100.0, "wind output range {wmin}..{wmax} kW");
    // Storage cycles: charges and discharges on most days.
    let charging = storage.iter().filter(|&&p| p < -1.0).count();
    let discharging = storage.iter().filter(|&&p| p > 1.0).count();
    assert!(
        charging > 500 && discharging > 500,
        "{charging} charging, {discharging} discharging ticks"
    );
    assert!(
        critical_shed < 1e-9,
        "critical load shed: {critical_shed} kW"
    );
    // The relief holds the network's limits.
    for t in ticks {
        assert!(
            f(t, "max_loading_pct") <= 100.5,
            "{}: {}",
            t["t"],
            t["max_loading_pct"]
        );
        assert!(
            f(t, "min_vm_pu") >= 0.945 && f(t, "max_vm_pu") <= 1.055,
            "{}",
            t["t"]
        );
    }

    // Wear and monitors show in the asset states.
    let first_of = |kind: &str| {
        report["assets"]
            .as_object()
            .unwrap()
            .values()
            .find(|a| a["kind"] == kind)
            .unwrap()
    };
    let battery = first_of("storage");
    assert!(f(&battery["wear"], "equivalent_full_cycles") > 0.5);
    assert!(f(&battery["wear"], "capacity_factor") < 1.0);
    let tr = first_of("transformer");
    assert!(f(&tr["wear"], "hot_spot_c") > 0.0 && f(&tr["wear"], "aged_hours") > 0.0);
    let home = first_of("load");
    let m = &home["monitor"];
    assert!(f(m, "used_kwh") > 10.0);
    let rf = f(m, "renewable_fraction");
    assert!(
        (0.0..=1.0).contains(&rf) && rf > 0.0,
        "renewable fraction {rf}"
    );
    assert!(!m["suppliers"].as_array().unwrap().is_empty());
}

/// The default scene cut off from the regional grid, with its CHP down: the biogas unit and
/// the grid-forming battery hold the island alone.
fn shortage_scene() -> Scene {
    let mut s = default_scene();
    for g in &mut s.generators {
        if matches!(
            g.kind,
            GeneratorKind::GridTie { .. } | GeneratorKind::Chp { .. }
        ) {
            g.in_service = false;
        }
    }
    s
}

#[test]
fn a_shortage_sheds_only_non_critical_load() {
    let report = run(&shortage_scene(), TICKS_PER_DAY);
    assert_balance_closes(&report);
    let (mut deferrable, mut essential, mut critical) = (0.0f64, 0.0f64, 0.0f64);
    for t in report["summary"].as_array().unwrap() {
        for i in t["islands"].as_array().unwrap() {
            if i["status"] != "solved" {
                continue;
            }
            deferrable = deferrable.max(f(&i["load_shed_kw"], "deferrable"));
            essential = essential.max(f(&i["load_shed_kw"], "essential"));
            critical = critical.max(f(&i["load_shed_kw"], "critical"));
        }
    }
    assert!(deferrable > 1.0, "nothing shed in a shortage");
    assert!(
        critical < 1e-9,
        "critical load shed: {critical} kW (essential {essential})"
    );
}

#[test]
fn a_module_plugged_in_while_running_is_solved_at_the_next_tick() {
    let mut app = headless_app(&default_scene());
    // Run to late morning, then plug a 50 kW solar array into a low-voltage bus.
    run_ticks(&mut app, 5 * 60);
    let before = app
        .world()
        .resource::<kos_twin::sim::grid::Grid>()
        .model
        .network
        .generators
        .len();
    let bus = default_scene()
        .buses
        .iter()
        .find(|b| b.nominal_kv < 1.0)
        .unwrap()
        .id
        .clone();
    let ids = plug_in_modules(
        app.world_mut(),
        &[PlugInModule {
            kind: ModuleKind::Solar,
            bus: bus.clone(),
            rated_kw: 50.0,
        }],
    );
    assert_eq!(ids.len(), 1);
    run_ticks(&mut app, 1);
    let world = app.world_mut();
    let grid = world.resource::<kos_twin::sim::grid::Grid>();
    assert_eq!(grid.model.network.generators.len(), before + 1);
    let out = world
        .query::<(&AssetTag, &UnitOutput)>()
        .iter(world)
        .find(|(t, _)| t.0 == ids[0])
        .map(|(_, u)| *u)
        .unwrap();
    assert!(out.energised && out.p_kw > 1.0, "{out:?}");
    // A bad request changes nothing.
    let ids = plug_in_modules(
        app.world_mut(),
        &[PlugInModule {
            kind: ModuleKind::Wind,
            bus: "no such bus".into(),
            rated_kw: 10.0,
        }],
    );
    assert!(ids.is_empty());
}

#[test]
fn a_registry_module_in_a_scene_produces_power() {
    let mut s = default_scene();
    let bus = s
        .buses
        .iter()
        .find(|b| b.nominal_kv < 1.0)
        .unwrap()
        .id
        .clone();
    let mut params = std::collections::BTreeMap::new();
    params.insert("flow_m3_s".to_string(), 0.5);
    params.insert("head_m".to_string(), 10.0);
    s.generators.push(kos_scene::GeneratorSpec {
        id: "mill-race".into(),
        bus,
        kind: GeneratorKind::Module {
            module: "hydro".into(),
            params,
        },
        rated_kw: 40.0,
        setpoint_kw: 0.0,
        voltage_pu: 1.0,
        in_service: true,
        owner: None,
        dna: Default::default(),
    });
    let text = kos_scene::to_ron(&s);
    let s = kos_scene::parse(&text, "hydro.ron").expect("valid");
    let report = run(&s, 3);
    let hydro = &report["assets"]["mill-race"];
    // eta rho g Q H = 0.7 * 1000 * 9.80665 * 0.5 * 10 W swung by the season, capped at 40 kW.
    let p = f(hydro, "p_kw");
    assert!(p > 20.0 && p <= 40.0 + 1e-6, "{p}");
    // A misspelt parameter is a validation error naming the field.
    let bad = text.replace("head_m", "head_mm");
    let errors = kos_scene::parse(&bad, "hydro.ron").unwrap_err();
    assert!(
        errors.iter().any(|e| e.to_string().contains("head_mm")),
        "{errors:?}"
    );
}
