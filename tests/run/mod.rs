//! Runs of the default scene with protection arguments, and their events: what the
//! protection and resilience tests share.

use std::process::Command;

pub const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

/// A headless run of the default scene with `--fault` arguments; the report.
pub fn run_with_faults(extra: &[&str]) -> serde_json::Value {
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

pub fn events(r: &serde_json::Value) -> Vec<(f64, String, String, i64)> {
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

pub fn find<'a>(
    ev: &'a [(f64, String, String, i64)],
    asset: &str,
    action: &str,
) -> &'a (f64, String, String, i64) {
    ev.iter()
        .find(|e| e.1 == asset && e.2 == action)
        .unwrap_or_else(|| panic!("no {action} of {asset} in {ev:?}"))
}
