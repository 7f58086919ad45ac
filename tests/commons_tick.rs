//! The commons in the tick, on the default scene: a night island, the water works down for a
//! day, a storm that fills the shelters, a conservation event's tokens, and the same run twice.

use bevy::prelude::*;
use kos_twin::commons::{CommonsState, EventState, Share, TokenBook};
use kos_twin::model::{AssetTag, Demand, Spec};
use kos_twin::protection::{
    ProtectionConfig, Schedule, ScheduledFault, ScheduledMode, ScheduledSwitching, attach,
};

fn app(schedule: Schedule) -> App {
    let scene = kos_twin::scene::default_scene();
    let mut app = kos_twin::app::headless_app(&scene);
    attach(&mut app, schedule, ProtectionConfig::default());
    app
}

fn open(asset: &str, minute: f64) -> ScheduledSwitching {
    ScheduledSwitching {
        at_s: minute * 60.0,
        asset: asset.into(),
        close: false,
    }
}

fn mode(id: &str, minute: f64, on: bool) -> ScheduledMode {
    ScheduledMode {
        at_s: minute * 60.0,
        id: id.into(),
        on,
    }
}

fn demand(app: &mut App, id: &str) -> Demand {
    let world = app.world_mut();
    let mut q = world.query::<(&AssetTag, &Demand)>();
    *q.iter(world).find(|(t, _)| t.0 == id).expect(id).1
}

/// The grid tie lost at 22:00 under the storm mode (the batteries held at half charge), the
/// wind turbines calm (their transformers open): the island runs on its batteries and its
/// biogas unit until 07:00. The clinic and the water works are never cut; every household load
/// that is cut holds the same dominant share per household (equal-weight shares of what the
/// island can give until morning); the batteries last the night; Jain's index is reported.
#[test]
fn a_night_island_shares_what_it_has_until_morning() {
    let mut app = app(Schedule {
        faults: vec![ScheduledFault {
            at_s: 960.0 * 60.0,
            asset: "grid".into(),
            permanent: true,
            ..Default::default()
        }],
        switching: vec![open("tx-wt1-lv", 960.0), open("tx-wt2-lv", 960.0)],
        modes: vec![mode("storm", 0.0, true)],
        ..Default::default()
    });
    kos_twin::sim::run_ticks(&mut app, 962);
    let mut islands_seen = 0;
    let mut rationed_ticks = 0;
    // 22:02 to 07:00.
    for _ in 962..1500 {
        kos_twin::sim::run_ticks(&mut app, 1);
        for id in ["clinic", "waterworks"] {
            let d = demand(&mut app, id);
            assert!(d.served && d.fraction > 1.0 - 1e-9, "{id} cut: {d:?}");
        }
        let state = app.world().resource::<CommonsState>().clone();
        let island = state
            .power
            .iter()
            .find(|i| !i.tied && i.outcome.demand[0] > 0.0)
            .expect("the island");
        islands_seen += 1;
        let o = &island.outcome;
        assert!(o.minimums_met, "{:?}", o.shortfalls);
        assert!(o.jain > 0.0 && o.jain <= 1.0 + 1e-12);
        assert!(o.allocated[0] <= o.capacity[0] * (1.0 + 1e-9) + 1e-9);
        // Cut households: dominant share of their fair part per household, all equal.
        let world = app.world_mut();
        let mut q = world.query::<&Spec<kos_scene::LoadSpec>>();
        let households: std::collections::BTreeMap<String, u32> = q
            .iter(world)
            .map(|l| (l.id.clone(), l.households))
            .collect();
        let per_household: Vec<f64> = o
            .shares
            .iter()
            .filter(|s| households.get(&s.id).is_some_and(|h| *h > 0) && s.satisfied < 1.0 - 1e-9)
            .map(|s| {
                let dominant = (0..o.capacity.len())
                    .map(|k| (s.amount[k] - s.minimum[k]) / o.capacity[k])
                    .fold(0.0, f64::max);
                dominant / households[&s.id] as f64
            })
            .collect();
        if per_household.len() > 20 {
            rationed_ticks += 1;
        }
        let (lo, hi) = per_household
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
        assert!(
            per_household.is_empty() || hi - lo <= 1e-9 * hi.max(1e-12),
            "{lo} .. {hi}"
        );
    }
    assert_eq!(islands_seen, 538);
    // Most of the night, every household shares the cut.
    assert!(rationed_ticks > 450, "{rationed_ticks}");
    // The batteries were spread over the night, not spent in its first hour.
    let world = app.world_mut();
    let mut q = world.query::<(&AssetTag, &kos_twin::model::StateOfCharge)>();
    for (t, soc) in q.iter(world) {
        assert!(soc.0 > 0.1 && soc.0 < 0.5, "{}: {}", t.0, soc.0);
    }
}

/// The water works' transformer open for a day: water is rationed from the reservoir and the
/// depot, the clinic and the shelters keep their minimums, every household keeps Sphere's
/// 15 litres a person a day, and the stores never go below empty.
#[test]
fn the_water_works_down_for_a_day_rations_water() {
    let mut app = app(Schedule {
        switching: vec![open("tx-pump-lv", 0.0)],
        ..Default::default()
    });
    kos_twin::sim::run_ticks(&mut app, 2);
    let mut short = 0;
    let mut last_stored = f64::INFINITY;
    for _ in 2..1440 {
        kos_twin::sim::run_ticks(&mut app, 1);
        let state = app.world().resource::<CommonsState>().clone();
        let w = state.water.expect("water");
        assert!(!w.works_up);
        assert!(w.stored_m3 >= 0.0 && w.stored_m3 <= last_stored + 1e-9);
        last_stored = w.stored_m3;
        assert!(w.outcome.minimums_met, "{:?}", w.outcome.shortfalls);
        if w.outcome.short {
            short += 1;
            for s in &w.outcome.shares {
                assert!(s.amount[0] >= s.minimum[0] - 1e-9, "{s:?}");
                if s.id == "clinic" {
                    assert!((s.amount[0] - s.demand[0]).abs() < 1e-9, "{s:?}");
                }
                if s.id.starts_with("shelter") {
                    assert!(s.amount[0] >= 0.5 * s.demand[0] - 1e-9, "{s:?}");
                }
            }
        }
    }
    assert!(short > 1400, "rationed in {short} ticks");
    // A household load's ration shows in its share.
    let world = app.world_mut();
    let mut q = world.query::<(&AssetTag, &Share)>();
    let (_, share) = q.iter(world).find(|(t, _)| t.0 == "homes-nf-a-1").unwrap();
    let ration = share.water_l_per_h.expect("rationed");
    // 8 households of 2.4 people: at least Sphere's minimum, less than the 120 l/h asked.
    assert!(
        (8.0 * 2.4 * 15.0 / 24.0..120.0).contains(&ration),
        "{ration}"
    );
}

/// A storm sends four households in ten to the shelters: families are placed whole, the
/// places are never overfilled, those with medical equipment first, and the rest wait.
#[test]
fn a_storm_fills_the_shelters_with_whole_families() {
    let mut app = app(Schedule {
        modes: vec![mode("storm", 0.0, true)],
        ..Default::default()
    });
    kos_twin::sim::run_ticks(&mut app, 3);
    let s = app
        .world()
        .resource::<CommonsState>()
        .shelter
        .clone()
        .expect("the storm sends households to the shelters");
    let places: u32 = s.shelters.iter().map(|x| x.places).sum();
    let taken: u32 = s.shelters.iter().map(|x| x.taken).sum();
    assert_eq!(places, 240);
    assert!(s.people > places, "{} people for {places} places", s.people);
    assert_eq!(taken, s.placed_people);
    assert!(s.shelters.iter().all(|x| x.taken <= x.places));
    assert_eq!(s.placed_people + s.waiting_people, s.people);
    assert!(s.waiting_families > 0 && s.medical_waiting == 0);
    // The neighbourhoods share the places by their weights: those with people still waiting
    // hold the same share of places per household, to within one family (three people) of the
    // smallest neighbourhood's weight.
    let waiting: Vec<_> = s
        .neighbourhoods
        .iter()
        .filter(|n| n.placed_people < n.people)
        .collect();
    assert!(waiting.len() > 2, "{:?}", s.neighbourhoods);
    let (lo, hi) = waiting.iter().fold((f64::INFINITY, 0.0f64), |(a, b), n| {
        (a.min(n.share), b.max(n.share))
    });
    let lightest = waiting
        .iter()
        .map(|n| n.weight)
        .fold(f64::INFINITY, f64::min);
    assert!(hi - lo <= 3.0 / lightest + 1e-9, "{lo} .. {hi}");
    // Every family in one shelter or none.
    let mut ids = std::collections::BTreeSet::new();
    for (family, _) in &s.placement {
        assert!(ids.insert(family.clone()), "{family} twice");
    }
    // Off again: nobody sent.
    let mut app2 = app_with_storm_off();
    kos_twin::sim::run_ticks(&mut app2, 3);
    assert!(app2.world().resource::<CommonsState>().shelter.is_none());
}

fn app_with_storm_off() -> App {
    app(Schedule {
        modes: vec![mode("storm", 0.0, true), mode("storm", 1.0, false)],
        ..Default::default()
    })
}

/// A heat wave for two hours: an event is announced, three households in ten answer, and
/// when it ends each is credited for its saving: the tokens equal the saving times the rate
/// (10 per kWh) exactly, and nobody who did not answer is credited.
#[test]
fn a_conservation_event_credits_the_households_that_saved() {
    let mut app = app(Schedule {
        modes: vec![
            mode("heat-wave", 600.0, true),
            mode("heat-wave", 720.0, false),
        ],
        ..Default::default()
    });
    kos_twin::sim::run_ticks(&mut app, 760);
    let events = app.world().resource::<EventState>().clone();
    assert!(events.active.is_none());
    assert_eq!(events.past.len(), 1, "{:?}", events.past);
    let ev = &events.past[0];
    assert!(ev.households > 0 && ev.saving_kwh > 0.0);
    let book = app.world().resource::<TokenBook>().clone();
    let mut minted_micro: u64 = 0;
    let mut saving_wh: u64 = 0;
    for e in book.wallet.entries() {
        if let kos_commons::Entry::Minted {
            saving_wh: s,
            tokens,
            ..
        } = e
        {
            // 10 tokens per kWh: 10,000 micro-tokens per Wh.
            assert_eq!(tokens.micro(), s * 10_000);
            minted_micro += tokens.micro();
            saving_wh += s;
        }
    }
    assert_eq!(minted_micro, saving_wh * 10_000);
    assert!((ev.tokens - minted_micro as f64 / 1e6).abs() < 1e-6);
    // About 30 % of the households answer; each load's answering households saved 15 % of
    // what the model asked for two hours.
    let households: u32 = 282;
    assert!(
        (households / 5..households / 2).contains(&ev.households),
        "{}",
        ev.households
    );
}

/// The same scene, schedule and seed twice: the same allocations, byte for byte.
#[test]
fn the_commons_are_deterministic() {
    let run = || {
        let mut app = app(Schedule {
            faults: vec![ScheduledFault {
                at_s: 30.0 * 60.0,
                asset: "grid".into(),
                permanent: true,
                ..Default::default()
            }],
            modes: vec![mode("storm", 0.0, true)],
            ..Default::default()
        });
        let mut out = Vec::new();
        for _ in 0..60 {
            kos_twin::sim::run_ticks(&mut app, 1);
            out.push(serde_json::to_string(app.world().resource::<CommonsState>()).unwrap());
        }
        out
    };
    assert_eq!(run(), run());
}

/// The tiny scene with a second deferrable load of 12 households (`homes3`), its solar out
/// and its battery at 10 kW, the grid tie's import limit `import_kw`; six households of
/// `homes3` hold `tokens` each.
fn tiny_with_slots(import_kw: f64, tokens: f64) -> App {
    let mut scene = kos_scene::parse(include_str!("../scenes/tiny.ron"), "tiny.ron").unwrap();
    let mut homes3 = scene.loads[1].clone();
    homes3.id = "homes3".into();
    homes3.bus = "lv1".into();
    homes3.households = 12;
    homes3.peak_kw = 30.0;
    scene.loads.push(homes3);
    scene.generators[1].in_service = false;
    scene.storage[0].power_kw = 10.0;
    if let kos_scene::GeneratorKind::GridTie {
        import_limit_kw, ..
    } = &mut scene.generators[0].kind
    {
        *import_limit_kw = import_kw;
    }
    let mut app = kos_twin::app::headless_app(&scene);
    let rate = kos_commons::Rate::per_kwh(1.0).unwrap();
    let mut book = app.world_mut().resource_mut::<TokenBook>();
    for h in 0..6 {
        book.wallet
            .credit(
                &format!("homes3/{h}"),
                "event-0",
                kos_commons::Verification::Metered,
                kos_commons::mint(rate, tokens, 0.0),
            )
            .unwrap();
    }
    app
}

/// Limits of `homes2` and `homes3` after `ticks`.
fn slot_limits(app: &mut App, ticks: u64) -> (f64, f64) {
    kos_twin::sim::run_ticks(app, ticks);
    let world = app.world_mut();
    let mut q = world.query::<(&AssetTag, &Share)>();
    let mut limit = |id: &str| {
        q.iter(world)
            .find(|(t, _)| t.0 == id)
            .and_then(|(_, s)| s.power_kw)
            .unwrap_or(f64::INFINITY)
    };
    (limit("homes2"), limit("homes3"))
}

/// The surplus short of the two deferrable loads: six households of homes3 spend one token
/// each (the scene's price) for priority, once for the slot, and homes3 gets more of the
/// surplus than without tokens, homes2 less; the spends are in the wallet's record.
#[test]
fn tokens_buy_priority_in_a_contested_slot() {
    // Find the import limit that leaves the deferrable loads half of what they ask.
    let mut probe = tiny_with_slots(400.0, 0.0);
    kos_twin::sim::run_ticks(&mut probe, 1);
    let state = probe.world().resource::<CommonsState>().clone();
    let island = &state.power[0];
    let deferrable = demand(&mut probe, "homes2").p_kw + demand(&mut probe, "homes3").p_kw;
    let others = island.outcome.demand[0] - deferrable;
    let import = 400.0 - (island.outcome.capacity[0] - others - 0.5 * deferrable);
    assert!(import > 0.0 && import < 400.0, "{import}");

    let mut without = tiny_with_slots(import, 0.0);
    let (h2_without, h3_without) = slot_limits(&mut without, 3);
    let mut with = tiny_with_slots(import, 2.0);
    let (h2_with, h3_with) = slot_limits(&mut with, 3);
    assert!(
        h3_without.is_finite() && h2_with.is_finite(),
        "the slot is contested"
    );
    assert!(h3_with > h3_without + 1e-6, "{h3_with} vs {h3_without}");
    assert!(h2_with < h2_without - 1e-6, "{h2_with} vs {h2_without}");
    // Half of homes3's households bought priority: at least half its demand is served.
    let d3 = demand(&mut with, "homes3").p_kw;
    assert!(h3_with >= 0.5 * d3 - 1e-9, "{h3_with} < half of {d3}");
    let state = with.world().resource::<CommonsState>().clone();
    assert_eq!(state.power[0].priority_households, 6);
    // One token each, once for the slot.
    let (_, _) = slot_limits(&mut with, 5);
    let book = with.world().resource::<TokenBook>().clone();
    let spent: Vec<_> = book
        .wallet
        .entries()
        .iter()
        .filter_map(|e| match e {
            kos_commons::Entry::Spent {
                household, tokens, ..
            } => Some((household.clone(), tokens.micro())),
            _ => None,
        })
        .collect();
    assert_eq!(spent.len(), 6, "{spent:?}");
    assert!(
        spent
            .iter()
            .all(|(h, t)| h.starts_with("homes3/") && *t == 1_000_000)
    );
    assert_eq!(book.of_load("homes3"), 6.0);
    // Without tokens nobody paid.
    let book = without.world().resource::<TokenBook>();
    assert!(
        book.wallet
            .entries()
            .iter()
            .all(|e| matches!(e, kos_commons::Entry::Minted { .. }))
    );
}
