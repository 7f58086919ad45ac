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
