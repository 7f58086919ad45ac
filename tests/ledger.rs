//! The resource ledger end to end, through the command line: a week of the default scene
//! writes a log that `ledger verify` accepts and a witness cosigns; tampering is caught;
//! the same run writes the same log; the commons' water, limits and tokens are recorded; and
//! a twin killed with SIGKILL in a loop never loses a committed entry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kos_ledger::note::ED25519;
use kos_ledger::verify::{self, LogDir};
use kos_ledger::{NoteSigner, NoteVerifier};

const TWIN: &str = env!("CARGO_BIN_EXE_kos-twin");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!("kos-twin-ledger-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn twin(args: &[&str], dir: &Path) -> Output {
    Command::new(TWIN)
        .args(args)
        .current_dir(dir)
        .env_remove("KOS_LEDGER_KEY")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A key file with a fixed seed, so two runs sign the same checkpoints.
fn fixed_key(dir: &Path) -> NoteVerifier {
    let signer =
        NoteSigner::from_seed("aldermoor-commons.kos-twin/ledger", ED25519, [11; 32]).unwrap();
    kos_ledger::keys::write_private(&dir.join("log.key"), &signer).unwrap();
    signer.verifier()
}

#[test]
fn a_week_of_the_default_scene_writes_a_ledger_that_verifies_and_a_witness_cosigns() {
    let d = TempDir::new("week");
    let vkey = fixed_key(&d.0);
    let args = [
        "headless",
        "--ticks",
        "10080",
        "--ledger",
        "log",
        "--ledger-key",
        "log.key",
        "--report",
        "r.json",
    ];
    ok(&twin(&args, &d.0));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.0.join("r.json")).unwrap()).unwrap();
    let size = report["ledger"]["checkpoint"]["size"].as_u64().unwrap();
    assert!(size > 10_000, "a week of entries: {size}");
    // The verifier key is stored beside the log.
    assert_eq!(
        std::fs::read_to_string(d.0.join("log.vkey"))
            .unwrap()
            .trim(),
        vkey.to_vkey()
    );
    let v = verify::verify(&LogDir::new(d.0.join("log")), &vkey, &[], 0).unwrap();
    assert_eq!(v.entries, size);
    assert_eq!(
        report["ledger"]["checkpoint"]["root"],
        kos_ledger::base64(&v.signed.checkpoint.root)
    );
    // Every entry is a canonical entry of the schema, and the kinds the twin records are there.
    let log = LogDir::new(d.0.join("log"));
    let mut kinds = std::collections::BTreeSet::new();
    for b in 0..size.div_ceil(256) {
        for e in log.bundle(b, size).unwrap() {
            kinds.insert(kos_ledger::Entry::from_bytes(&e).unwrap().body.kind());
        }
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["birth", "dna", "energy", "production", "water"]
    );
    let out = ok(&twin(
        &["ledger", "verify", "log", "--vkey", "log.vkey"],
        &d.0,
    ));
    assert!(out.contains(&format!("ok: {size} entries")), "{out}");
    // A neighbouring twin cosigns; a threshold of one of its cosignatures passes.
    ok(&twin(
        &[
            "ledger",
            "keygen",
            "--name",
            "neighbour.kos-twin/witness",
            "--out",
            "w.key",
            "--witness",
        ],
        &d.0,
    ));
    ok(&twin(
        &[
            "ledger", "cosign", "log", "--key", "w.key", "--vkey", "log.vkey",
        ],
        &d.0,
    ));
    let out = ok(&twin(
        &[
            "ledger",
            "verify",
            "log",
            "--vkey",
            "log.vkey",
            "--witness",
            "w.key.vkey",
            "--threshold",
            "1",
        ],
        &d.0,
    ));
    assert!(
        out.contains("cosigned by neighbour.kos-twin/witness"),
        "{out}"
    );
    // A flipped byte in an entry: verify fails, naming it.
    let bundle = d.0.join("log/tile/entries/010");
    let mut b = std::fs::read(&bundle).unwrap();
    b[40] ^= 0x01; // inside the bundle's first entry, 2560
    std::fs::write(&bundle, b).unwrap();
    let out = twin(&["ledger", "verify", "log", "--vkey", "log.vkey"], &d.0);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("entry 2560 does not hash to position 0 of tile/0/010"),
        "{err}"
    );
}

/// The drill the commons' entries come from: the water works down for two hours (water
/// rationed, a shortage event whose savers are credited when it ends), a heat wave from 16:00
/// to 18:00 (another event).
const DRILL: [&str; 10] = [
    "--ticks",
    "780",
    "--switch",
    "tx-pump-lv@0:open",
    "--switch",
    "tx-pump-lv@120:close",
    "--mode",
    "heat-wave@600",
    "--mode",
    "heat-wave@720:off",
];

#[test]
fn the_same_run_writes_the_same_log_byte_for_byte() {
    let d = TempDir::new("same");
    fixed_key(&d.0);
    for name in ["a", "b"] {
        let mut args = vec!["headless", "--ledger", name, "--ledger-key", "log.key"];
        args.extend(DRILL);
        args.extend(["--report", "/dev/null"]);
        ok(&twin(&args, &d.0));
    }
    let a = std::fs::read(d.0.join("a/checkpoint")).unwrap();
    assert_eq!(a, std::fs::read(d.0.join("b/checkpoint")).unwrap());
    for t in kos_ledger::tile::tiles_for_size(
        kos_ledger::Checkpoint::parse(&kos_ledger::Note::parse(&a).unwrap().text)
            .unwrap()
            .size,
    ) {
        let p = t.path();
        assert_eq!(
            std::fs::read(d.0.join("a").join(&p)).unwrap(),
            std::fs::read(d.0.join("b").join(&p)).unwrap(),
            "{p}"
        );
    }
}

/// The drill's log holds every token minted, exactly (its entries add up to the wallet's
/// record in the report), the water each consumer drew each hour, and the water limits of the
/// rationed hours; it verifies.
#[test]
fn the_commons_water_limits_and_tokens_are_recorded() {
    let d = TempDir::new("commons");
    let vkey = fixed_key(&d.0);
    let mut args = vec!["headless", "--ledger", "log", "--ledger-key", "log.key"];
    args.extend(DRILL);
    args.extend(["--report", "r.json"]);
    ok(&twin(&args, &d.0));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.0.join("r.json")).unwrap()).unwrap();
    let size = report["ledger"]["checkpoint"]["size"].as_u64().unwrap();
    verify::verify(&LogDir::new(d.0.join("log")), &vkey, &[], 0).unwrap();
    let log = LogDir::new(d.0.join("log"));
    let mut entries = Vec::new();
    for b in 0..size.div_ceil(256) {
        for e in log.bundle(b, size).unwrap() {
            entries.push(kos_ledger::Entry::from_bytes(&e).unwrap());
        }
    }
    use kos_ledger::entry::Body;
    // Tokens: one entry per mint of the wallet, the same micro-tokens, in the same order.
    let logged: Vec<(String, i64)> = entries
        .iter()
        .filter_map(|e| match &e.body {
            Body::Token {
                household,
                change_micro,
                ..
            } => Some((household.clone(), *change_micro)),
            _ => None,
        })
        .collect();
    let record: Vec<(String, i64)> = report["commons"]["token_record"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let m = &r["Minted"];
            (
                m["household"].as_str().unwrap().to_string(),
                m["tokens"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(record.len() > 100, "{} mints", record.len());
    assert_eq!(logged, record);
    // Water: every hour, a household load drew what it asked (15 l per household an hour) when
    // not rationed, less while rationed.
    let water = |consumer: &str| -> Vec<(i64, i64)> {
        entries
            .iter()
            .filter_map(|e| match &e.body {
                Body::Water {
                    consumer: c,
                    litres,
                    ..
                } if c == consumer => Some((e.t, *litres)),
                _ => None,
            })
            .collect()
    };
    let w = water("homes-nf-a-1");
    assert_eq!(w.len(), 13, "{w:?}");
    // 8 households: 120 l an hour when not rationed.
    assert!(w[0].1 < 120 && w[1].1 < 120, "{w:?}");
    assert!(w[3..].iter().all(|(_, l)| *l == 120), "{w:?}");
    // Limits: the water rations of the first two hours, and only then.
    let limits: Vec<(i64, &str, &str)> = entries
        .iter()
        .filter_map(|e| match &e.body {
            Body::Allocation {
                resource, consumer, ..
            } => Some((e.t, resource.as_str(), consumer.as_str())),
            _ => None,
        })
        .collect();
    assert!(limits.iter().any(|l| l.2 == "homes-nf-a-1"), "{limits:?}");
    assert!(limits.iter().all(|l| l.1 == "water_l_per_h"), "{limits:?}");
    let first = entries[0].t;
    assert!(limits.iter().all(|l| l.0 - first <= 3 * 3600), "{limits:?}");
}

#[test]
fn a_twin_killed_in_a_loop_loses_no_committed_entry() {
    let d = TempDir::new("kill");
    let vkey = fixed_key(&d.0);
    let mut last: Option<Vec<u8>> = None;
    let mut sizes = Vec::new();
    for round in 0..8u64 {
        let mut child = Command::new(TWIN)
            .args([
                "headless",
                "--ticks",
                "100000000",
                "--ledger",
                "log",
                "--ledger-key",
                "log.key",
                "--report",
                "/dev/null",
            ])
            .current_dir(&d.0)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700 + 173 * round));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // What the killed twin committed is there, and the log only grew.
        let log = LogDir::new(d.0.join("log"));
        if !d.0.join("log/checkpoint").exists() {
            continue;
        }
        // The checkpoint on disk may lag a committed batch until the next writer recovers
        // it; opening the log (as the next run does) applies it.
        drop(
            kos_ledger::LogWriter::open(
                kos_ledger::DirStorage::new(d.0.join("log")).unwrap(),
                kos_ledger::keys::load_or_create(&d.0.join("log.key"), "", ED25519)
                    .unwrap()
                    .0,
            )
            .unwrap(),
        );
        let v = verify::verify(&log, &vkey, &[], 0).unwrap();
        if let Some(old) = &last {
            verify::consistency(&log, &vkey, old).unwrap();
        }
        sizes.push(v.entries);
        last = Some(std::fs::read(d.0.join("log/checkpoint")).unwrap());
    }
    eprintln!("sizes after each kill: {sizes:?}");
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "{sizes:?}");
    assert!(sizes.last().copied().unwrap_or(0) > 0, "{sizes:?}");
}
