//! `kos-twin shortcircuit` and `kos-twin protection check` through the command line, on the
//! default scene: the fault levels against pandapower's, the clearing of every bus fault, and
//! bad input named.

use std::process::Command;

const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

fn json(args: &[&str]) -> serde_json::Value {
    let out = Command::new(TWIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_default_scene_fault_levels_are_pandapower_s() {
    let ours = json(&["shortcircuit", "scenes/default.ron", "--json"]);
    let text =
        std::fs::read_to_string("crates/kos-protection/tests/data/default-scene.sc.json").unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (a, b) = (
        ours["buses"].as_array().unwrap(),
        reference["buses"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x["id"], y["id"]);
        for q in ["ikss_ka", "ip_ka", "skss_mva", "ikss_2ph_ka"] {
            let (p, r) = (x[q].as_f64().unwrap(), y[q].as_f64().unwrap());
            assert!((p - r).abs() <= 1e-6 * r, "{} {q}: {p} vs {r}", x["id"]);
        }
    }
}

/// OpenDSS's tlink melting curve, log-log between its points.
fn tlink_s(multiple: f64) -> f64 {
    let pts = [
        (2.0f64, 300.0f64),
        (2.1, 100.0),
        (3.0, 10.1),
        (4.0, 4.0),
        (6.0, 1.4),
        (22.0, 0.1),
        (50.0, 0.02),
    ];
    let i = pts.iter().position(|p| p.0 > multiple).unwrap();
    let ((m0, t0), (m1, t1)) = (pts[i - 1], pts[i]);
    let f = (multiple / m0).ln() / (m1 / m0).ln();
    (t0.ln() + f * (t1 / t0).ln()).exp()
}

#[test]
fn every_fault_on_the_default_scene_is_cleared_with_grading() {
    let c = json(&["protection", "check", "scenes/default.ron", "--json"]);
    assert_eq!(c["source_bus"], "gsp");
    assert!(
        c["violations"].as_array().unwrap().is_empty(),
        "{}",
        c["violations"]
    );
    let faults = c["faults"].as_array().unwrap();
    assert_eq!(faults.len(), 65);
    let at = |bus: &str| faults.iter().find(|f| f["bus"] == bus).unwrap();
    for f in faults.iter().filter(|f| f["bus"] != "gsp") {
        assert!(f["cleared_by"].is_string(), "{f}");
    }
    // A fault behind the secondary substation nf-a: its 80 A transformer fuse melts in the
    // time the tlink curve gives at the current it sees.
    let f = at("nf-a-0");
    assert_eq!(f["cleared_by"], "fu-tx-nf-a");
    let path = f["path"].as_array().unwrap();
    let (name, amps) = (
        path.last().unwrap()[0].clone(),
        path.last().unwrap()[1].as_f64().unwrap(),
    );
    assert_eq!(name, "fu-tx-nf-a");
    let expected_ms = tlink_s(amps / 80.0) * 1e3;
    let got = f["first_interruption_ms"].as_f64().unwrap();
    assert!(
        (got - expected_ms).abs() < 1e-6 * expected_ms,
        "{got} vs {expected_ms}"
    );
    // Fuse saving on eg-a: the recloser's fast shot first, then the lateral's fuse.
    let f = at("eg-a-5");
    assert_eq!(f["cleared_by"], "fu-eg-a-lateral");
    assert!(f["first_interruption_ms"].as_f64().unwrap() < f["isolated_ms"].as_f64().unwrap());
    // The sectionaliser on eg-b opens in a dead time of its recloser.
    assert_eq!(at("eg-b-6")["cleared_by"], "sec-eg-b");
    // Ring faults: the feeder relays' instantaneous stage with the 50 ms breaker.
    assert_eq!(at("mv-03")["cleared_by"], "rly-west");
    assert_eq!(at("mv-06")["cleared_by"], "rly-east");
    assert!((at("mv-03")["isolated_ms"].as_f64().unwrap() - 50.0).abs() < 1e-9);
}

#[test]
fn bad_cases_are_named() {
    let dir = std::env::temp_dir().join(format!("kos-twin-sc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, expect) in [
        (
            r#"{"format":"sc-case/1","name":"x","buses":[{"id":"a","vn_kv":11}],"ext_grids":[{"id":"g","bus":"b","s_sc_max_mva":100,"rx_max":0.1}]}"#,
            "ext_grid `g`: unknown bus `b`",
        ),
        (
            r#"{"format":"sc-case/1","name":"x","buses":[{"id":"a","vn_kv":-11}]}"#,
            "bus `a`: vn_kv must be a positive number",
        ),
        ("{\"format\": \"sc-case/1\",\n \"name\": 3}", ":2:"),
    ] {
        let f = dir.join("case.json");
        std::fs::write(&f, text).unwrap();
        let out = Command::new(TWIN)
            .arg("shortcircuit")
            .arg(&f)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A headless run of the default scene with `--fault` arguments; the report.
fn run_with_faults(extra: &[&str]) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!(
        "kos-twin-faults-{}-{}",
        std::process::id(),
        extra.join("_").replace(['@', ':', '/'], "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.json");
    let mut args = vec!["headless", "--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = Command::new(TWIN).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    r
}

fn events(r: &serde_json::Value) -> Vec<(f64, String, String, i64)> {
    r["protection"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["time_s"].as_f64().unwrap(),
                e["asset"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["customers"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn find<'a>(
    ev: &'a [(f64, String, String, i64)],
    asset: &str,
    action: &str,
) -> &'a (f64, String, String, i64) {
    ev.iter()
        .find(|e| e.1 == asset && e.2 == action)
        .unwrap_or_else(|| panic!("no {action} of {asset} in {ev:?}"))
}

/// A permanent busbar fault on the ring at mv-03, five minutes in: the west feeder relay's
/// instantaneous stage trips in 50 ms and locks out; a minute later FLISR opens the ring
/// main unit panels either side of mv-03, recloses the feeder breaker and closes the
/// normally-open point, so that every customer outside the faulted section has supply
/// again through the tie, with no branch over its rating. The indices are the hand count:
/// the faulted section's customers out from the isolation to the end of the run.
#[test]
fn a_permanent_ring_fault_is_isolated_and_the_rest_restored_through_the_tie() {
    let r = run_with_faults(&["--ticks", "10", "--fault", "mv-03@5"]);
    let ev = events(&r);
    let trip = find(&ev, "rly-west", "trip");
    assert!((trip.0 - 300.05).abs() < 1e-9, "{trip:?}");
    find(&ev, "rly-west", "lockout");
    let t = 300.05 + 60.0;
    for (asset, action) in [
        ("mvc-03", "flisr_open"),
        ("mvc-04", "flisr_open"),
        ("mvc-01", "flisr_close"),
        ("nop-04-05", "flisr_close"),
    ] {
        let e = find(&ev, asset, action);
        assert!((e.0 - t).abs() < 1e-9, "{e:?}");
    }
    // Outside the faulted section (mv-03 and the nf-b feeder behind it) everything has supply,
    // mv-04 through the tie.
    let assets = &r["assets"];
    for bus in [
        "mv-01", "mv-02", "mv-04", "mv-04x", "nf-a-3", "dc-lv", "wt1-lv",
    ] {
        assert_eq!(assets[bus]["energised"], true, "{bus}");
    }
    for bus in ["mv-03", "nf-b-0", "nf-b-5"] {
        assert_eq!(assets[bus]["energised"], false, "{bus}");
    }
    let max_loading = r["summary"].as_array().unwrap().last().unwrap()["max_loading_pct"]
        .as_f64()
        .unwrap();
    assert!(max_loading <= 100.0, "{max_loading}");
    // The hand count: the customers the isolation left out, from then to the end (600 s).
    let lost: i64 = ev.iter().filter(|e| e.3 > 0).map(|e| e.3).sum();
    let regained: i64 = -ev.iter().filter(|e| e.3 < 0).map(|e| e.3).sum::<i64>();
    let out_now = lost - regained;
    assert!(out_now > 0);
    let x = &r["protection"]["reliability"];
    let served = x["customers_served"].as_f64().unwrap();
    let saifi = out_now as f64 / served;
    let saidi = out_now as f64 * (600.0 - t) / 60.0 / served;
    assert!((x["saifi"].as_f64().unwrap() - saifi).abs() < 1e-12, "{x}");
    assert!(
        (x["saidi_min"].as_f64().unwrap() - saidi).abs() < 1e-9,
        "{x}"
    );
    assert_eq!(x["maifi"].as_f64().unwrap(), 0.0);
}

/// The customers on `buses` in the default scene (households of loads, one per pod).
fn customers_on(buses: &[&str]) -> u32 {
    let text = std::fs::read_to_string("scenes/default.ron").unwrap();
    let scene = kos_scene::parse(&text, "default.ron").unwrap();
    let loads: u32 = scene
        .loads
        .iter()
        .filter(|l| buses.contains(&l.bus.as_str()))
        .map(|l| l.households.max(1))
        .sum();
    let pods = scene
        .pods
        .iter()
        .filter(|p| buses.contains(&p.bus.as_str()))
        .count() as u32;
    loads + pods
}

/// A temporary fault on the overhead feeder eg-a behind its recloser: one fast trip, the
/// reclose after 0.5 s finds the fault gone. Its customers see one momentary interruption:
/// MAIFI rises by their share, SAIFI stays 0.
#[test]
fn a_temporary_fault_behind_a_recloser_is_one_momentary_interruption() {
    let r = run_with_faults(&["--ticks", "8", "--fault", "eg-a-2@5:temporary"]);
    let ev = events(&r);
    let trip = find(&ev, "rc-eg-a", "trip");
    let reclose = find(&ev, "rc-eg-a", "reclose");
    assert!((reclose.0 - trip.0 - 0.5).abs() < 1e-9);
    find(&ev, "eg-a-2", "fault_cleared");
    assert!(
        !ev.iter()
            .any(|e| e.2 == "lockout" || e.2.starts_with("flisr"))
    );
    let x = &r["protection"]["reliability"];
    let behind = customers_on(&[
        "eg-a-1", "eg-a-2", "eg-a-3", "eg-a-4", "eg-a-5", "eg-a-6", "eg-a-7",
    ]);
    assert!(behind > 0);
    let served = x["customers_served"].as_f64().unwrap();
    assert_eq!(x["saifi"].as_f64().unwrap(), 0.0);
    assert!(
        (x["maifi"].as_f64().unwrap() - behind as f64 / served).abs() < 1e-12,
        "{x}"
    );
    assert_eq!(r["assets"]["eg-a-2"]["energised"], true);
}

/// The same fault with one-second and one-minute ticks: the same operations at the same
/// times, to the millisecond.
#[test]
fn the_sequence_does_not_depend_on_the_tick() {
    let fine = run_with_faults(&[
        "--ticks",
        "420",
        "--tick-seconds",
        "1",
        "--fault",
        "mv-03@5",
    ]);
    let coarse = run_with_faults(&["--ticks", "7", "--fault", "mv-03@5"]);
    assert_eq!(fine["tick_seconds"], 1);
    assert_eq!(events(&fine), events(&coarse));
    assert!(events(&fine).len() >= 8);
}

#[test]
fn bad_faults_are_named_and_the_run_goes_on() {
    let r = run_with_faults(&["--ticks", "3", "--fault", "no-such-cable@1"]);
    let ev = events(&r);
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].1.as_str(), ev[0].2.as_str()),
        ("no-such-cable", "rejected")
    );
    let out = Command::new(TWIN)
        .args(["headless", "--ticks", "1", "--fault", "mvc-03@soon"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("@MINUTES"));
}

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

/// A fault 40 % along the ring cable mvc-03 through 2 Ω: the event names the point and the
/// resistance, the current is below the bolted fault's there, and the feeder relay still
/// clears it and FLISR isolates the cable.
#[test]
fn a_fault_along_a_cable_through_a_resistance_is_cleared() {
    let r = run_with_faults(&["--ticks", "10", "--fault", "mvc-03/0.4@5:r=2"]);
    let bolted = run_with_faults(&["--ticks", "10", "--fault", "mvc-03/0.4@5"]);
    let fault = |r: &serde_json::Value| {
        r["protection"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "fault")
            .unwrap()["cause"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (c, b) = (fault(&r), fault(&bolted));
    assert!(c.contains("at 40 % of its length through 2 ohm"), "{c}");
    let ka = |t: &str| -> f64 {
        t.split("I\"k ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(ka(&c) < ka(&b), "{c} / {b}");
    let ev = events(&r);
    find(&ev, "rly-west", "trip");
    find(&ev, "mvc-03", "flisr_located");
    let bad = Command::new(TWIN)
        .args(["headless", "--ticks", "1", "--fault", "mvc-03/1.5@1"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0..=1"));
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
