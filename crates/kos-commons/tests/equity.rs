//! Hoarding and monopoly: the Herfindahl-Hirschman index against published values, the
//! watch's rules period by period, and simulated populations with injected hoarders and
//! monopolists (at least 95 % caught, at most 1 % of honest households flagged).

mod common;

use common::Rng;
use kos_commons::{AlarmKind, Draw, EquityRules, Evidence, Watch, hhi, monopolies, monopoly};
use proptest::prelude::*;

fn draw(who: &str, share: f64, drawn: f64) -> Draw {
    Draw {
        consumer: who.into(),
        share,
        drawn,
        storage_charged: 0.0,
        storage_need: 0.0,
    }
}

#[test]
fn hhi_matches_published_values() {
    // U.S. DOJ's example: four firms with 30, 30, 20 and 20 % have an HHI of 2,600.
    assert!((hhi(&[30.0, 30.0, 20.0, 20.0]) - 2600.0).abs() < 1e-9);
    // The same market in other units.
    assert!((hhi(&[3.0, 3.0, 2.0, 2.0]) - 2600.0).abs() < 1e-9);
    // A monopoly: 10,000; n equal firms: 10,000 / n.
    assert_eq!(hhi(&[7.5]), 10_000.0);
    for n in 1..=50 {
        let h = hhi(&vec![2.5; n]);
        assert!((h - 10_000.0 / n as f64).abs() < 1e-7, "{n}: {h}");
    }
    // Nothing supplied: 0; negative and non-finite supplies count as none.
    assert_eq!(hhi(&[]), 0.0);
    assert_eq!(hhi(&[0.0, 0.0]), 0.0);
    assert_eq!(hhi(&[5.0, -3.0, f64::NAN]), 10_000.0);
}

proptest! {
    #[test]
    fn hhi_is_scale_free_and_between_its_bounds(
        x in prop::collection::vec(0.01f64..100.0, 1..40),
        k in 0.001f64..1000.0,
    ) {
        let h = hhi(&x);
        let n = x.len() as f64;
        prop_assert!(h >= 10_000.0 / n - 1e-6 && h <= 10_000.0 + 1e-6, "{h}");
        let scaled: Vec<f64> = x.iter().map(|v| v * k).collect();
        prop_assert!((hhi(&scaled) - h).abs() < 1e-6 * h);
        // At least the largest share squared.
        let total: f64 = x.iter().sum();
        let top = x.iter().cloned().fold(0.0, f64::max) / total * 100.0;
        prop_assert!(h >= top * top - 1e-6);
    }

    #[test]
    fn a_consumer_within_its_share_is_never_flagged(
        steps in prop::collection::vec((0.1f64..10.0, 0.0f64..=1.0, 0.0f64..5.0, 0.0f64..=1.0, any::<bool>()), 1..80),
    ) {
        let rules = EquityRules::default();
        let mut w = Watch::new("power", rules.clone());
        for (t, (share, f, need, g, shortage)) in steps.into_iter().enumerate() {
            let d = Draw {
                consumer: "h".into(),
                share,
                drawn: share * (1.0 + rules.tolerance) * f,
                storage_charged: need * (1.0 + rules.storage_need_margin) * g,
                storage_need: need,
            };
            prop_assert!(w.observe(t as u64, shortage, &[d]).is_empty());
        }
        prop_assert_eq!(w.caps().count(), 0);
    }

    #[test]
    fn a_run_above_share_is_flagged_at_its_last_period(
        periods in 1u32..6,
        run in prop::collection::vec((0.1f64..10.0, 0.11f64..3.0), 6..12),
    ) {
        let rules = EquityRules { periods, ..EquityRules::default() };
        let mut w = Watch::new("water", rules);
        for (t, (share, over)) in run.iter().enumerate() {
            let alarms = w.observe(t as u64, true, &[draw("h", *share, share * (1.0 + over))]);
            if t + 1 == periods as usize {
                prop_assert_eq!(alarms.len(), 1);
                match &alarms[0].evidence {
                    Evidence::AboveShare { drawn, shares, at, .. } => {
                        prop_assert_eq!(at.clone(), (0..periods as u64).collect::<Vec<_>>());
                        for (d, s) in drawn.iter().zip(shares) {
                            prop_assert!(*d > s * 1.1);
                        }
                    }
                    e => prop_assert!(false, "{e:?}"),
                }
            } else {
                // Once per episode.
                prop_assert!(alarms.is_empty());
            }
        }
    }
}

#[test]
fn the_counter_resets_within_share_and_alarms_once_per_episode() {
    let mut w = Watch::new("power", EquityRules::default());
    let mut t = 0u64;
    let mut step = |w: &mut Watch, shortage: bool, drawn: f64| {
        t += 1;
        w.observe(t, shortage, &[draw("h", 1.0, drawn)])
    };
    // Two periods above, one within, two above: no run of three.
    for drawn in [1.3, 1.3, 1.05, 1.3, 1.3] {
        assert!(step(&mut w, true, drawn).is_empty());
    }
    // Periods of plenty neither count nor reset: the run of two goes on.
    assert!(step(&mut w, false, 5.0).is_empty());
    let a = step(&mut w, true, 1.4);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        (a[0].kind, a[0].who.as_str(), a[0].period),
        (AlarmKind::Hoarding, "h", 7)
    );
    match &a[0].evidence {
        Evidence::AboveShare {
            periods, drawn, at, ..
        } => {
            assert_eq!(
                (*periods, drawn.clone(), at.clone()),
                (3, vec![1.3, 1.3, 1.4], vec![4, 5, 7])
            );
        }
        e => panic!("{e:?}"),
    }
    // It goes on drawing above: no second alarm, and it is capped at its share.
    for _ in 0..5 {
        assert!(step(&mut w, true, 1.5).is_empty());
    }
    assert_eq!(w.caps().collect::<Vec<_>>(), vec![("h", 1.0)]);
    assert_eq!(w.cap("h", 1.5), 1.0);
    assert_eq!(w.cap("other", 1.5), 1.5);
    // Two periods within share, then plenty (not counted), then a third: released.
    assert!(step(&mut w, true, 1.0).is_empty());
    assert!(step(&mut w, true, 0.9).is_empty());
    assert!(step(&mut w, false, 3.0).is_empty());
    assert!(w.is_flagged("h"));
    assert!(step(&mut w, true, 1.0).is_empty());
    assert!(!w.is_flagged("h"));
    assert_eq!(w.caps().count(), 0);
    // A new offence is a new episode, with a new alarm.
    assert!(step(&mut w, true, 1.3).is_empty());
    assert!(step(&mut w, true, 1.3).is_empty());
    assert_eq!(step(&mut w, true, 1.3).len(), 1);
    assert_eq!(w.alarms().len(), 2);
}

#[test]
fn storage_filled_beyond_need_in_a_shortage_is_flagged_at_once() {
    let rules = EquityRules {
        penalty: 0.8,
        ..EquityRules::default()
    };
    let mut w = Watch::new("water", rules);
    let tank = |charged: f64| Draw {
        consumer: "tank".into(),
        share: 2.0,
        drawn: 2.0,
        storage_charged: charged,
        storage_need: 1.0,
    };
    // Within need and margin: nothing; outside a shortage: nothing, however much.
    assert!(w.observe(0, true, &[tank(1.1)]).is_empty());
    assert!(w.observe(1, false, &[tank(50.0)]).is_empty());
    let a = w.observe(2, true, &[tank(1.8)]);
    assert_eq!(a.len(), 1);
    match a[0].evidence {
        Evidence::StorageFill {
            charged,
            need,
            allowed,
        } => {
            assert_eq!((charged, need), (1.8, 1.0));
            assert!((allowed - 1.1).abs() < 1e-12);
        }
        ref e => panic!("{e:?}"),
    }
    // Capped at 0.8 of its share.
    assert_eq!(w.caps().collect::<Vec<_>>(), vec![("tank", 0.8 * 2.0)]);
    // The evidence goes into JSON reports.
    let json = serde_json::to_string(&a[0]).unwrap();
    assert!(
        json.contains("StorageFill") && json.contains("\"who\":\"tank\""),
        "{json}"
    );
}

#[test]
fn rules_out_of_range_are_refused_and_scenes_may_set_some() {
    for (rules, field) in [
        (
            EquityRules {
                tolerance: -0.1,
                ..Default::default()
            },
            "tolerance",
        ),
        (
            EquityRules {
                periods: 0,
                ..Default::default()
            },
            "periods",
        ),
        (
            EquityRules {
                storage_need_margin: f64::NAN,
                ..Default::default()
            },
            "storage_need_margin",
        ),
        (
            EquityRules {
                monopoly_share: 1.0,
                ..Default::default()
            },
            "monopoly_share",
        ),
        (
            EquityRules {
                penalty: 1.5,
                ..Default::default()
            },
            "penalty",
        ),
    ] {
        match Watch::try_new("power", rules) {
            Err(kos_commons::EquityError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    let r: EquityRules = serde_json::from_str(r#"{"periods": 4, "monopoly_share": 0.5}"#).unwrap();
    assert_eq!((r.periods, r.monopoly_share, r.tolerance), (4, 0.5, 0.10));
    assert!(serde_json::from_str::<EquityRules>(r#"{"period": 4}"#).is_err());
}

/// A household of the simulated population.
struct Household {
    name: String,
    base: f64,
    storage: bool,
    hoard: Hoard,
}

enum Hoard {
    Honest,
    /// Draws `over` above its share in the shortage periods `from..from + len`.
    Above {
        from: usize,
        len: usize,
        over: f64,
    },
    /// Charges its storage `factor` times its need in these periods.
    Fill {
        at: Vec<usize>,
        factor: f64,
    },
}

struct Outcome {
    hoarders: usize,
    caught: usize,
    honest: usize,
    flagged_honest: usize,
    alarms: usize,
}

/// 1,000 households over 48 periods with two shortage spells (or none), 5 % hoarders. Honest
/// households draw their share with 3 % meter noise and, in 2 % of periods, a spike of 12 to
/// 35 % above it; a third charge storage within their need.
fn simulate(seed: u64, shortages: bool) -> Outcome {
    const N: usize = 1000;
    const T: usize = 48;
    let mut rng = Rng::new(seed);
    let s1 = rng.int(4, 10) as usize;
    let e1 = s1 + rng.int(10, 16) as usize;
    let s2 = e1 + rng.int(3, 8) as usize;
    let e2 = (s2 + rng.int(10, 15) as usize).min(T);
    let spells = [(s1, e1), (s2, e2)];
    let shortage: Vec<bool> = (0..T)
        .map(|t| shortages && spells.iter().any(|&(s, e)| (s..e).contains(&t)))
        .collect();
    let households: Vec<Household> = (0..N)
        .map(|i| {
            let (s, e) = spells[rng.int(0, 2) as usize];
            let hoard = if !(i as u64 * 7 + seed).is_multiple_of(20) {
                Hoard::Honest
            } else if rng.chance(0.5) {
                let len = rng.int(3, 9) as usize;
                Hoard::Above {
                    from: rng.int(s as u64, (e - len + 1) as u64) as usize,
                    len,
                    over: rng.range(0.2, 0.6),
                }
            } else {
                let k = rng.int(1, 4) as usize;
                Hoard::Fill {
                    at: (0..k)
                        .map(|_| rng.int(s as u64, e as u64) as usize)
                        .collect(),
                    factor: rng.range(1.5, 3.0),
                }
            };
            Household {
                name: format!("h{i}"),
                base: rng.range(0.5, 3.0),
                storage: rng.chance(0.3) || matches!(hoard, Hoard::Fill { .. }),
                hoard,
            }
        })
        .collect();
    let mut w = Watch::new("power", EquityRules::default());
    let mut first_alarm: Vec<Option<usize>> = vec![None; N];
    for (t, &short) in shortage.iter().enumerate() {
        let draws: Vec<Draw> = households
            .iter()
            .map(|h| {
                let share = h.base * rng.range(0.8, 1.2);
                let mut drawn = share * (1.0 + 0.03 * rng.normal());
                if rng.chance(0.02) {
                    drawn *= 1.0 + rng.range(0.12, 0.35);
                }
                let need = if h.storage {
                    share * rng.range(0.1, 0.5)
                } else {
                    0.0
                };
                let mut charged = need * rng.unit() * (1.0 + 0.02 * rng.normal());
                match &h.hoard {
                    Hoard::Above { from, len, over } if (*from..from + len).contains(&t) => {
                        drawn = share * (1.0 + over) * (1.0 + 0.03 * rng.normal());
                    }
                    Hoard::Fill { at, factor } if at.contains(&t) => charged = need * factor,
                    _ => {}
                }
                Draw {
                    consumer: h.name.clone(),
                    share,
                    drawn: drawn.max(0.0),
                    storage_charged: charged.max(0.0),
                    storage_need: need,
                }
            })
            .collect();
        for a in w.observe(t as u64, short, &draws) {
            assert!(short, "an alarm outside a shortage: {a:?}");
            let i: usize = a.who[1..].parse().unwrap();
            first_alarm[i].get_or_insert(t);
        }
    }
    let hoarder = |h: &Household| !matches!(h.hoard, Hoard::Honest);
    let start = |h: &Household| match &h.hoard {
        Hoard::Above { from, .. } => *from,
        Hoard::Fill { at, .. } => *at.iter().min().unwrap(),
        Hoard::Honest => usize::MAX,
    };
    Outcome {
        hoarders: households.iter().filter(|h| hoarder(h)).count(),
        caught: households
            .iter()
            .zip(&first_alarm)
            .filter(|(h, a)| hoarder(h) && a.is_some_and(|t| t >= start(h)))
            .count(),
        honest: households.iter().filter(|h| !hoarder(h)).count(),
        flagged_honest: households
            .iter()
            .zip(&first_alarm)
            .filter(|(h, a)| !hoarder(h) && a.is_some())
            .count(),
        alarms: w.alarms().len(),
    }
}

#[test]
fn injected_hoarders_are_caught_and_honest_households_are_left_alone() {
    let (mut hoarders, mut caught, mut honest, mut flagged) = (0, 0, 0, 0);
    for seed in 0..20 {
        let o = simulate(seed, true);
        assert_eq!(o.hoarders, 50);
        // Each population on its own: at least 90 % caught, at most 1 % flagged.
        assert!(
            o.caught * 10 >= o.hoarders * 9,
            "seed {seed}: {}/{}",
            o.caught,
            o.hoarders
        );
        assert!(
            o.flagged_honest * 100 <= o.honest,
            "seed {seed}: {}",
            o.flagged_honest
        );
        hoarders += o.hoarders;
        caught += o.caught;
        honest += o.honest;
        flagged += o.flagged_honest;
    }
    let recall = caught as f64 / hoarders as f64;
    let false_alarms = flagged as f64 / honest as f64;
    println!(
        "recall {recall:.4} ({caught}/{hoarders}), false alarms {false_alarms:.5} ({flagged}/{honest})"
    );
    assert!(recall >= 0.95, "{recall}");
    assert!(false_alarms <= 0.01, "{false_alarms}");
}

#[test]
fn nothing_is_flagged_when_there_is_plenty() {
    for seed in 0..5 {
        assert_eq!(simulate(seed, false).alarms, 0);
    }
}

/// Producers' supplies: `n` owners with 0.5 to 2 units each.
fn producers(rng: &mut Rng, n: usize) -> Vec<(String, f64)> {
    (0..n)
        .map(|i| (format!("p{i}"), rng.range(0.5, 2.0)))
        .collect()
}

#[test]
fn a_monopolist_in_a_shortage_is_caught_and_spread_supply_is_not() {
    let rules = EquityRules::default();
    let mut rng = Rng::new(7);
    for trial in 0..500 {
        // Ten or more owners of 0.5 to 2 units: none holds more than 2 / (2 + 9 × 0.5) = 31 %.
        let n = rng.int(10, 40) as usize;
        let mut owners = producers(&mut rng, n);
        assert!(monopoly("power", trial, &owners, true, &rules).is_none());
        // One owner takes a share of 45 to 90 % of the supply.
        let target = rng.range(0.45, 0.9);
        let others: f64 = owners.iter().map(|o| o.1).sum();
        owners.push(("big".into(), target / (1.0 - target) * others));
        let a = monopoly("power", trial, &owners, true, &rules).expect("caught");
        assert_eq!(
            (a.kind, a.who.as_str(), a.period),
            (AlarmKind::Monopoly, "big", trial)
        );
        match a.evidence {
            Evidence::Monopoly { share, hhi: h, .. } => {
                assert!((share - target).abs() < 1e-9, "{share} {target}");
                let supplies: Vec<f64> = owners.iter().map(|o| o.1).collect();
                assert!((h - hhi(&supplies)).abs() < 1e-6);
                assert!(h >= (100.0 * target).powi(2));
            }
            e => panic!("{e:?}"),
        }
        // Outside a shortage, nothing.
        assert!(monopolies("power", trial, &owners, false, &rules).is_empty());
    }
}

#[test]
fn an_owner_of_several_producers_is_one_owner() {
    let rules = EquityRules::default();
    // Three plants of 15 % each: 45 % for their owner, though no plant holds 40 %.
    let mut owners: Vec<(String, f64)> = (0..3).map(|_| ("coop".to_string(), 15.0)).collect();
    owners.extend((0..11).map(|i| (format!("p{i}"), 5.0)));
    let a = monopoly("power", 0, &owners, true, &rules).expect("caught");
    assert_eq!(a.who, "coop");
    match a.evidence {
        Evidence::Monopoly {
            share,
            hhi: h,
            supply,
            total,
        } => {
            assert!((share - 0.45).abs() < 1e-12 && supply == 45.0 && total == 100.0);
            assert!((h - (45.0f64.powi(2) + 11.0 * 25.0)).abs() < 1e-9);
        }
        e => panic!("{e:?}"),
    }
    // With a share of 0.3, two owners are above it, largest first.
    let low = EquityRules {
        monopoly_share: 0.3,
        ..rules
    };
    let two = vec![
        ("a".to_string(), 35.0),
        ("b".to_string(), 40.0),
        ("c".to_string(), 25.0),
    ];
    let found: Vec<String> = monopolies("power", 0, &two, true, &low)
        .into_iter()
        .map(|a| a.who)
        .collect();
    assert_eq!(found, ["b", "a"]);
}

#[test]
fn a_monopoly_is_raised_once_per_shortage() {
    let mut w = Watch::new("water", EquityRules::default());
    let owners = vec![
        ("well".to_string(), 8.0),
        ("a".to_string(), 1.0),
        ("b".to_string(), 1.0),
    ];
    let raised: Vec<usize> = [true, true, true, false, true, true]
        .iter()
        .enumerate()
        .map(|(t, &s)| w.observe_supply(t as u64, s, &owners).len())
        .collect();
    assert_eq!(raised, [1, 0, 0, 0, 1, 0]);
    // The owner's share falls below the set share: the episode ends.
    let spread = vec![
        ("well".to_string(), 3.0),
        ("a".to_string(), 4.0),
        ("b".to_string(), 3.0),
    ];
    assert!(w.observe_supply(6, true, &spread).is_empty());
    assert_eq!(w.observe_supply(7, true, &owners).len(), 1);
    assert_eq!(w.alarms().len(), 3);
}
