//! `kos-twin proposal simulate` through the command line: a 200 kW solar array against the
//! default scene raises the renewable share and curtails more, nobody's supply changes; the
//! same inputs give the same comparison and fingerprint; a proposal that names no such bus is
//! refused, saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

const SOLAR: &str = r#"(
    id: "solar-school",
    author: "ash",
    title: "A 200 kW solar array on the school roof",
    rationale: "More of our own energy at midday",
    change: AddModule(id: "pv-school", bus: "nf-a-4",
        module: Solar(rated_kw: 200.0, tilt_deg: 30.0, azimuth_deg: 180.0)),
)"#;

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("kos-twin-proposal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn simulate(d: &Path, proposal: &str, report: &str) -> Output {
    std::fs::write(d.join("p.ron"), proposal).unwrap();
    Command::new(TWIN)
        .args([
            "proposal",
            "simulate",
            "--proposal",
            "p.ron",
            "--days",
            "1",
            "--report",
            report,
        ])
        .current_dir(d)
        .output()
        .unwrap()
}

#[test]
fn a_solar_array_is_compared_with_the_baseline_reproducibly() {
    let d = dir();
    let out = simulate(&d, SOLAR, "a.json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("a.json")).unwrap()).unwrap();
    let row = |name: &str| {
        a["comparison"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["measure"] == name)
            .unwrap()
            .clone()
    };
    let share = row("renewable_share");
    assert_eq!(share["verdict"], "better", "{share}");
    assert!(
        share["proposal"]["median"].as_f64().unwrap()
            > share["baseline"]["median"].as_f64().unwrap()
    );
    assert_eq!(row("curtailed_kwh")["verdict"], "worse");
    assert_eq!(row("served_kwh")["verdict"], "no change");
    assert_eq!(row("unserved_critical_kwh")["verdict"], "no change");
    // The same inputs: the same comparison, byte for byte, and the same fingerprint.
    let out = simulate(&d, SOLAR, "b.json");
    assert!(out.status.success());
    assert_eq!(
        std::fs::read(d.join("a.json")).unwrap(),
        std::fs::read(d.join("b.json")).unwrap()
    );
    let fingerprint = a["fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert!(String::from_utf8_lossy(&out.stdout).contains(fingerprint));
    // A bus that is not there: refused, naming it.
    let out = simulate(&d, &SOLAR.replace("nf-a-4", "nowhere"), "c.json");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("change.bus: no bus `nowhere`"), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}
