//! `kos-twin allocate` through the command line: the documented example, and bad problems
//! named with their place.

use std::process::Command;

const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

#[test]
fn the_documented_example_is_allocated_within_every_limit() {
    let out = Command::new(TWIN)
        .args(["allocate", "docs/allocate-example.json", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let amounts = |i: usize| -> Vec<f64> {
        r["consumers"][i]["amounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    // 120 kW: the clinic's 30 and the pumps' 15 first; the feeder's 18 kW caps the homes.
    let power: Vec<f64> = (0..4).map(|i| amounts(i)[0]).collect();
    assert!(power[0] >= 30.0 && power[1] >= 15.0, "{power:?}");
    assert!(power[2] + power[3] <= 18.0 + 1e-9, "{power:?}");
    assert!(power.iter().sum::<f64>() <= 120.0 + 1e-9);
    assert!(r["shortfalls"].as_array().unwrap().is_empty());
    let text = Command::new(TWIN)
        .args(["allocate", "docs/allocate-example.json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Jain's index"));
}

#[test]
fn bad_problems_are_errors_with_their_place() {
    let dir = std::env::temp_dir().join(format!("kos-twin-allocate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, expect) in [
        (
            "{\n \"resources\": [\"p\"],\n \"capacity\": [1],\n \"consumers\": [}",
            ":4:",
        ),
        (
            r#"{"resources":["p"],"capacity":[1],"consumers":[{"id":"a","demand":[-2]}]}"#,
            "consumers[0] (a).demand[0]",
        ),
        (
            r#"{"resources":["p"],"capacity":[1],"consumers":[{"id":"a","demand":[2],"weight":0}]}"#,
            "weight",
        ),
    ] {
        let f = dir.join("p.json");
        std::fs::write(&f, text).unwrap();
        let out = Command::new(TWIN).arg("allocate").arg(&f).output().unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
