//! `kos-twin shortcircuit` and `kos-twin protection check` through the command line, on the
//! default scene: the fault levels against pandapower's, the clearing of every bus fault, and
//! bad input named.

use std::process::Command;

mod run;
use run::*;

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
