//! Resilience through the command line, on the default scene: loss of the grid tie at the
//! evening peak, a black start, a closing refused out of phase, emergency modes, and a
//! cascade in the tick.

use std::process::Command;

mod run;
use run::*;

/// Loss of the grid tie at the evening peak (19:00): the community runs as an island on
/// its grid-forming battery and biogas unit, the dispatch sheds to fit, and no critical load
/// is shed in any tick after.
#[test]
fn losing_the_grid_tie_at_evening_peak_sheds_no_critical_load() {
    let r = run_with_faults(&["--ticks", "840", "--fault", "grid@780"]);
    let ev = events(&r);
    let lost = find(&ev, "grid", "tie_lost");
    assert_eq!(lost.0, 780.0 * 60.0);
    let causes: Vec<&str> = r["protection"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert!(
        causes
            .iter()
            .any(|c| c.contains("island held by bat-north")),
        "{causes:?}"
    );
    assert!(
        causes.iter().any(|c| c.contains("shed: critical 0.0 kW")),
        "{causes:?}"
    );
    let mut shed_other = 0.0f64;
    for t in r["summary"].as_array().unwrap().iter().skip(781) {
        assert_eq!(t["import_kw"].as_f64().unwrap(), 0.0, "tick {}", t["tick"]);
        for i in t["islands"].as_array().unwrap() {
            if i["status"] != "solved" {
                continue;
            }
            let shed = &i["load_shed_kw"];
            assert!(
                shed["critical"].as_f64().unwrap() < 1e-9,
                "tick {}: {shed}",
                t["tick"]
            );
            shed_other +=
                shed["essential"].as_f64().unwrap() + shed["deferrable"].as_f64().unwrap();
        }
    }
    assert!(
        shed_other > 0.0,
        "the island carried the whole evening peak"
    );
    for id in ["clinic", "waterworks", "shelter-north", "shelter-east"] {
        assert_eq!(r["assets"][id]["served_fraction"], 1.0, "{id}");
    }
    let bat = &r["assets"]["bat-north"];
    assert!(bat["p_kw"].as_f64().unwrap().abs() <= 200.0 + 1e-6, "{bat}");
}

/// A black start from all dead at 19:00: every customer out at once, the biogas unit and
/// the other batteries cranked, then the shelters, the water works and the clinic picked up
/// before any other load, and an hour later they are served.
#[test]
fn a_black_start_restores_critical_load_first() {
    let r = run_with_faults(&["--ticks", "840", "--black-start", "780"]);
    let ev = events(&r);
    let out = find(&ev, "bat-north", "blackout");
    assert_eq!(out.3, 300, "every customer out");
    let targets: Vec<String> = r["protection"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "black_start_pickup")
        .map(|e| {
            let c = e["cause"].as_str().unwrap();
            let rest = c.strip_prefix("black start: pick up ").unwrap();
            rest.split(';').next().unwrap().to_string()
        })
        .collect();
    let mut first4 = targets[..4].to_vec();
    first4.sort();
    assert_eq!(
        first4,
        vec!["clinic", "shelter-east", "shelter-north", "waterworks"],
        "{targets:?}"
    );
    let cranks = ev.iter().filter(|e| e.2 == "black_start_crank").count();
    assert_eq!(cranks, 3);
    let first_pickup = ev.iter().position(|e| e.2 == "black_start_pickup").unwrap();
    assert!(
        ev[..first_pickup]
            .iter()
            .filter(|e| e.2 == "black_start_crank")
            .count()
            == 3
    );
    let regained: i64 = -ev
        .iter()
        .filter(|e| e.2.starts_with("black_start"))
        .map(|e| e.3)
        .sum::<i64>();
    assert!(regained > 100, "{regained}");
    for id in ["clinic", "waterworks", "shelter-north", "shelter-east"] {
        assert_eq!(r["assets"][id]["served"], true, "{id}");
        assert_eq!(r["assets"][id]["served_fraction"], 1.0, "{id}");
    }
    assert!(ev.iter().all(|e| e.2 != "rejected"), "{ev:?}");
}

/// Closing a tie between two live islands, each with its own source, is refused with the
/// reason; the run goes on with the tie open.
#[test]
fn closing_two_live_islands_together_is_refused() {
    let r = run_with_faults(&[
        "--ticks",
        "5",
        "--switch",
        "mvc-01@1:open",
        "--switch",
        "nop-04-05@2:close",
    ]);
    let ev = events(&r);
    find(&ev, "mvc-01", "open");
    let refused = r["protection"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["asset"] == "nop-04-05")
        .unwrap();
    assert_eq!(refused["action"], "rejected", "{refused}");
    assert!(
        refused["cause"].as_str().unwrap().contains("out of phase"),
        "{refused}"
    );
    assert_eq!(r["assets"]["nop-04-05"]["closed"], false);
}

/// The rating a branch's loading in a report implies: its larger apparent power over its
/// loading, kVA.
fn rating_kva(r: &serde_json::Value, id: &str) -> f64 {
    let a = &r["assets"][id];
    let f = |k: &str| a[k].as_f64().unwrap();
    let s = f64::max(
        f("p_from_kw").hypot(f("q_from_kvar")),
        f("p_to_kw").hypot(f("q_to_kvar")),
    );
    s / f("loading_pct") * 100.0
}

/// The heat-wave mode of the default scene derates cables to 0.9, overhead lines to 0.85
/// and transformers to 0.9 of their ratings, as the loadings in the report show. Switched
/// off, the ratings are back; a saved scene keeps the normal ratings while the mode is on.
#[test]
fn the_heat_wave_mode_derates_by_its_rules_and_switches_off() {
    let normal = run_with_faults(&["--ticks", "3"]);
    let dir = std::env::temp_dir().join(format!("kos-twin-modes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let saved = dir.join("saved.ron");
    let hot = run_with_faults(&[
        "--ticks",
        "3",
        "--mode",
        "heat-wave@0",
        "--save-scene",
        saved.to_str().unwrap(),
    ]);
    for (id, factor) in [("mvc-01", 0.9), ("tx-nf-a", 0.9), ("lv-eg-a-1", 0.85)] {
        let ratio = rating_kva(&hot, id) / rating_kva(&normal, id);
        assert!(
            (ratio - factor).abs() < 1e-9,
            "{id}: rated {ratio} times the normal"
        );
    }
    let ev = events(&hot);
    let on = find(&ev, "heat-wave", "mode_on");
    assert_eq!(on.0, 0.0);
    let text = std::fs::read_to_string(&saved).unwrap();
    let back = kos_scene::parse(&text, "saved.ron").unwrap();
    let original = kos_scene::parse(
        &std::fs::read_to_string("scenes/default.ron").unwrap(),
        "default.ron",
    )
    .unwrap();
    assert_eq!(back.lines, original.lines);
    assert_eq!(back.transformers, original.transformers);
    assert_eq!(back.pods, original.pods);
    assert_eq!(back.modes, original.modes);
    let _ = std::fs::remove_dir_all(&dir);

    let off = run_with_faults(&[
        "--ticks",
        "3",
        "--mode",
        "heat-wave@0",
        "--mode",
        "heat-wave@1:off",
    ]);
    find(&events(&off), "heat-wave", "mode_off");
    for id in ["mvc-01", "tx-nf-a", "lv-eg-a-1"] {
        assert!(
            (rating_kva(&off, id) / rating_kva(&normal, id) - 1.0).abs() < 1e-9,
            "{id}"
        );
    }
    let unknown = run_with_faults(&["--ticks", "2", "--mode", "blizzard@0"]);
    find(&events(&unknown), "blizzard", "rejected");
}

/// The storm mode holds every battery at half charge or more for islanding: after a day to
/// the evening, bat-north has not gone below it, where without the mode it runs down to its
/// minimum.
#[test]
fn the_storm_mode_holds_the_batteries_reserve() {
    let soc = |r: &serde_json::Value| r["assets"]["bat-north"]["soc"].as_f64().unwrap();
    let normal = run_with_faults(&["--ticks", "840"]);
    let storm = run_with_faults(&["--ticks", "840", "--mode", "storm@0"]);
    assert!(soc(&normal) < 0.45, "{}", soc(&normal));
    assert!(soc(&storm) >= 0.5 - 1e-6, "{}", soc(&storm));
}

/// A mode whose rule is out of range is an error at its line and column.
#[test]
fn a_mode_out_of_range_is_named_with_its_place() {
    let text = std::fs::read_to_string("scenes/default.ron")
        .unwrap()
        .replace(
            "BatteryReserve(soc_min: 0.5)",
            "BatteryReserve(soc_min: 1.5)",
        );
    let dir = std::env::temp_dir().join(format!("kos-twin-bad-mode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.ron");
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(TWIN)
        .args(["validate", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let msg =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .position(|l| l.contains("soc_min: 1.5"))
        .unwrap()
        + 1;
    assert!(msg.contains(&format!("bad.ron:{line}:")), "{msg}");
    assert!(msg.contains("storm") && msg.contains("0..=1"), "{msg}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cascade in the tick: the default scene's ring closed at its open point and a heat wave
/// whose rules derate the cables to 4 % of their ratings. The relief sheds what it can, but
/// a ring cable stays above its rating inside the mesh; at the third consecutive tick above
/// it (Grid2Op: more than 2 steps), it trips, and nothing is overloaded after.
#[test]
fn a_sustained_overload_in_the_ring_trips_by_the_cascade_rules_and_stops() {
    let text = std::fs::read_to_string("scenes/default.ron").unwrap().replace(
        "DerateLines(kind: Some(Cable), factor: 0.9),",
        "DerateLines(kind: Some(Cable), factor: 0.1), DerateLines(kind: Some(Cable), factor: 0.4),",
    );
    let dir = std::env::temp_dir().join(format!("kos-twin-cascade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hot.ron");
    std::fs::write(&file, &text).unwrap();
    let r = run_with_faults(&[
        "--scene",
        file.to_str().unwrap(),
        "--ticks",
        "20",
        "--switch",
        "nop-04-05@0:close",
        "--mode",
        "heat-wave@0",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let ev = events(&r);
    let trips: Vec<&(f64, String, String, i64)> =
        ev.iter().filter(|e| e.2 == "cascade_trip").collect();
    assert_eq!(trips.len(), 1, "{ev:?}");
    let tick = (trips[0].0 / 60.0) as usize;
    let loading: Vec<f64> = r["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["max_loading_pct"].as_f64().unwrap())
        .collect();
    // Above the rating in the tick of the trip and the two before, not in the one before.
    assert!(tick >= 3, "{loading:?}");
    assert!(
        loading[tick - 2..=tick].iter().all(|&l| l >= 100.0),
        "{loading:?}"
    );
    assert!(loading[tick - 3] < 100.0, "{loading:?}");
    assert!(
        loading[tick + 1..].iter().all(|&l| l <= 100.0 + 1e-6),
        "{loading:?}"
    );
    let cause = r["protection"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "cascade_trip")
        .unwrap()["cause"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cause.contains("above its rating for 3 steps (2 allowed)"),
        "{cause}"
    );
}
