//! The twin's ledger in an S3 bucket (the `s3` feature): `kos-twin headless --ledger
//! s3://BUCKET/PREFIX` appends to it, and `kos-twin ledger verify` and `ledger prove` check
//! it through the bucket; against moto's S3 server (`$KOS_MOTO_SERVER`, which
//! `scripts/test-s3.sh` installs and sets).
#![cfg(feature = "s3")]

use std::process::{Command, Output};

#[path = "../crates/kos-ledger/tests/common/moto.rs"]
mod moto;
use moto::{bucket, server};

const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

/// The twin with the bucket's address and test credentials in its environment.
fn twin(port: u16, key: &str, args: &[&str]) -> Output {
    Command::new(TWIN)
        .args(args)
        .env("KOS_S3_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("KOS_LEDGER_KEY", key)
        .output()
        .unwrap()
}

#[test]
fn the_twin_writes_its_ledger_to_a_bucket_that_verifies_and_proves() {
    let s = server();
    bucket(s.1, "community");
    // A private key in the signed-note text form, made by the twin's own keygen.
    let dir = std::env::temp_dir().join(format!("kos-twin-s3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let keyfile = dir.join("log.key");
    let out = Command::new(TWIN)
        .args([
            "ledger",
            "keygen",
            "--name",
            "aldermoor-commons.kos-twin/ledger",
            "--out",
            keyfile.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let private = std::fs::read_to_string(&keyfile).unwrap();
    let vkey = std::fs::read_to_string(dir.join("log.key.vkey")).unwrap();
    let url = "s3://community/aldermoor/ledger";

    // Two runs: the second continues the log the first left in the bucket.
    for ticks in ["90", "30"] {
        let out = twin(
            s.1,
            private.trim(),
            &["headless", "--ticks", ticks, "--ledger", url],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["ledger"]["dir"], url);
        assert!(report["ledger"]["checkpoint"]["size"].as_u64().unwrap() > 100);
    }
    let verified = twin(
        s.1,
        private.trim(),
        &["ledger", "verify", url, "--vkey", vkey.trim()],
    );
    let text = String::from_utf8_lossy(&verified.stdout).to_string();
    assert!(
        verified.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(text.contains(": ok:"), "{text}");
    let proof = twin(
        s.1,
        private.trim(),
        &[
            "ledger",
            "prove",
            url,
            "--index",
            "100",
            "--vkey",
            vkey.trim(),
        ],
    );
    assert!(
        proof.status.success(),
        "{}",
        String::from_utf8_lossy(&proof.stderr)
    );
    let p: serde_json::Value = serde_json::from_slice(&proof.stdout).unwrap();
    assert_eq!(p["verified"], true);

    // A bucket log needs its verifier key named, and a prefix with no log fails clearly.
    let no_vkey = twin(
        s.1,
        private.trim(),
        &["ledger", "prove", url, "--index", "1"],
    );
    assert!(!no_vkey.status.success());
    assert!(String::from_utf8_lossy(&no_vkey.stderr).contains("needs --vkey"));
    let empty = twin(
        s.1,
        private.trim(),
        &[
            "ledger",
            "verify",
            "s3://community/nothing",
            "--vkey",
            vkey.trim(),
        ],
    );
    assert!(!empty.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
