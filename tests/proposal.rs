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

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kos-twin-proposal-{tag}-{}", std::process::id()));
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
    let d = dir("simulate");
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

fn twin(d: &Path, args: &[&str]) -> Output {
    Command::new(TWIN)
        .args(args)
        .current_dir(d)
        .output()
        .unwrap()
}

#[test]
fn an_enacted_array_produces_and_is_recorded() {
    let d = dir("enact");
    std::fs::write(d.join("solar.ron"), SOLAR).unwrap();
    let switch = SOLAR.replace("solar-school", "tie-closed").replace(
        r#"AddModule(id: "pv-school", bus: "nf-a-4",
        module: Solar(rated_kw: 200.0, tilt_deg: 30.0, azimuth_deg: 180.0))"#,
        r#"Reconfigure(switch: "nop-04-05", normally_open: false)"#,
    );
    std::fs::write(d.join("switch.ron"), switch).unwrap();
    let out = twin(
        &d,
        &[
            "headless",
            "--ticks",
            "720",
            "--enact",
            "solar.ron@60",
            "--enact",
            "switch.ron@90",
            "--ledger",
            "log",
            "--report",
            "r.json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("r.json")).unwrap()).unwrap();
    let enacted = r["governance"]["enacted"].as_array().unwrap();
    assert_eq!(enacted.len(), 1, "{enacted:?}");
    assert_eq!(enacted[0]["proposal"], "solar-school");
    assert_eq!(enacted[0]["t"], "2026-06-21T07:00:00");
    assert_eq!(enacted[0]["assets"][0], "pv-school");
    // It produced from its plugging in to the end of the run (07:00 to 18:00 at midsummer).
    let produced = r["assets"]["pv-school"]["monitor"]["produced_kwh"]
        .as_f64()
        .unwrap();
    assert!(produced > 100.0, "{produced}");
    // The change the running twin cannot make yet: an alarm saying so.
    let alarms = r["alarms"]["recent"].as_array().unwrap();
    assert!(
        alarms.iter().any(|a| a["message"]
            .as_str()
            .unwrap()
            .contains("proposal tie-closed could not be enacted")),
        "{alarms:?}"
    );
    // The ledger records the enactment with the proposal's fingerprint.
    let out = twin(&d, &["ledger", "show", "log", "--kind", "governance"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let fingerprint = enacted[0]["fingerprint"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "solar-school: enacted: add_module (fingerprint {fingerprint}) [pv-school]"
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
