//! The black-start planner on the default scene: critical load first within the units'
//! limits, the cold-load wait against its closed form, and what cannot be restored reported.

use std::collections::BTreeSet;

use kos_protection::blackstart::{
    BlackStartError, BlackStartOptions, BlackStartPlan, DarkReason, StepKind, plan,
};
use kos_protection::scene::customer_groups;
use kos_scene::{GeneratorKind, Scene};

fn default_scene() -> Scene {
    kos_scene::parse(
        include_str!("../../../scenes/default.ron"),
        "scenes/default.ron",
    )
    .unwrap()
}

/// The groups a step with this index or an earlier one picked up.
fn on_by(plan: &BlackStartPlan, step: usize) -> BTreeSet<usize> {
    plan.steps[..=step]
        .iter()
        .flat_map(|s| s.groups.iter().copied())
        .collect()
}

/// At evening peak, from the grid-forming battery: the biogas unit and the other
/// batteries are cranked first, then the clinic, the water works and the shelters come
/// back before any step aimed at other load, and no step draws more than the units
/// carrying load can give.
#[test]
fn critical_load_first_within_the_units_limits() {
    let scene = default_scene();
    let groups = customer_groups(&scene);
    let peak: Vec<f64> = groups.iter().map(|g| g.kw).collect();
    let o = BlackStartOptions::default();
    let p = plan(&scene, &peak, &o).unwrap();
    assert_eq!(p.source.id, "bat-north");
    let cranked: Vec<&str> = p
        .steps
        .iter()
        .filter_map(|s| match &s.kind {
            StepKind::Crank { unit, .. } => Some(unit.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(cranked, vec!["bio-chp", "bat-mill", "bat-east"]);
    let first_other = p
        .steps
        .iter()
        .position(|s| match s.kind {
            StepKind::Pickup { target } => groups[target].customers.priority > 0,
            StepKind::Rest => true,
            StepKind::Crank { .. } => false,
        })
        .expect("other load comes back too");
    let on = on_by(&p, first_other - 1);
    for (k, g) in groups.iter().enumerate() {
        if g.customers.priority == 0 {
            assert!(on.contains(&k), "{} not back before other load", g.id);
        }
    }
    for id in ["clinic", "waterworks", "shelter-north", "shelter-east"] {
        assert!(
            groups
                .iter()
                .any(|g| g.id == id && g.customers.priority == 0)
        );
    }
    for s in &p.steps {
        assert!(s.draw_kw <= s.limit_kw + 1e-9, "{s:?}");
    }
    for w in p.steps.windows(2) {
        assert!(
            w[1].t_s >= w[0].t_s + o.switching_interval_s - 1e-9,
            "{w:?}"
        );
    }
    // Every group is either back or reported dark with its reason.
    let all = on_by(&p, p.steps.len() - 1);
    assert_eq!(all.len() + p.dark.len(), groups.len(), "{:?}", p.dark);
    // Every branch the steps close was opened first, and none twice.
    let closed: Vec<&String> = p.steps.iter().flat_map(|s| &s.close).collect();
    let unique: BTreeSet<&String> = closed.iter().copied().collect();
    assert_eq!(unique.len(), closed.len());
    assert!(closed.iter().all(|b| p.open_first.contains(b)));
}

/// Cold-load pickup by hand: the battery alone (100 kW, no reserve), the clinic and the
/// water works at 30 kW each, everything else at nothing, multiple 2 decaying with
/// 600 s. The first at 60 kW fits at once; the second must wait until the first's draw
/// 30 (1 + e^(-t/600)) falls to 100 - 60 = 40 kW: t = 600 ln 3 = 659.2 s after it.
#[test]
fn cold_load_pickup_waits_for_the_decay() {
    let mut scene = default_scene();
    scene
        .generators
        .retain(|g| matches!(g.kind, GeneratorKind::GridTie { .. }));
    scene.storage.retain(|b| b.id == "bat-north");
    scene.storage[0].power_kw = 100.0;
    let groups = customer_groups(&scene);
    let demand: Vec<f64> = groups
        .iter()
        .map(|g| match g.id.as_str() {
            "clinic" | "waterworks" => 30.0,
            _ => 0.0,
        })
        .collect();
    let o = BlackStartOptions {
        reserve: 0.0,
        ..BlackStartOptions::default()
    };
    let p = plan(&scene, &demand, &o).unwrap();
    let when = |id: &str| {
        let k = groups.iter().position(|g| g.id == id).unwrap();
        p.steps.iter().find(|s| s.groups.contains(&k)).unwrap().t_s
    };
    let (a, b) = (when("clinic"), when("waterworks"));
    let (first, second) = (a.min(b), a.max(b));
    let wait = 600.0 * 3f64.ln();
    assert!(
        (second - first - wait).abs() <= 1.0,
        "{first} then {second}: waited {} s, not {wait:.1}",
        second - first
    );
    assert!(p.dark.is_empty());
    assert!(p.end_s.is_some());
}

/// A block above the source even after every decay stays dark, named with its reason;
/// settings out of range and a community without a grid-forming unit are errors.
#[test]
fn what_cannot_be_restored_is_reported() {
    let mut scene = default_scene();
    scene
        .generators
        .retain(|g| matches!(g.kind, GeneratorKind::GridTie { .. }));
    scene.storage.retain(|b| b.id == "bat-north");
    let groups = customer_groups(&scene);
    let mut demand = vec![1.0; groups.len()];
    let big = groups.iter().position(|g| g.id == "datacentre").unwrap();
    demand[big] = 500.0;
    let p = plan(&scene, &demand, &BlackStartOptions::default()).unwrap();
    // 500 kW for two hours is more than the battery holds (192 kWh above its minimum).
    assert_eq!(p.dark, vec![(big, DarkReason::Energy)]);
    assert_eq!(p.end_s, None);
    let no_horizon = BlackStartOptions {
        energy_horizon_h: 0.0,
        ..BlackStartOptions::default()
    };
    let p = plan(&scene, &demand, &no_horizon).unwrap();
    assert_eq!(p.dark, vec![(big, DarkReason::Power)]);

    let bad = BlackStartOptions {
        reserve: 1.5,
        ..BlackStartOptions::default()
    };
    assert!(matches!(
        plan(&scene, &demand, &bad),
        Err(BlackStartError::Options(_))
    ));
    assert!(matches!(
        plan(&scene, &demand[1..], &BlackStartOptions::default()),
        Err(BlackStartError::Demands { .. })
    ));
    scene.storage.clear();
    assert_eq!(
        plan(&scene, &demand, &BlackStartOptions::default()),
        Err(BlackStartError::NoSource)
    );
}
