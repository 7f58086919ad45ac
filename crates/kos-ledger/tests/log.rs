//! The log on disk: appends, reopening, verification, tampering of every kind, and crashes
//! injected at every write step of an append.

use kos_ledger::log::CHECKPOINT;
use kos_ledger::note::{COSIGNATURE, ED25519};
use kos_ledger::tile::tiles_for_size;
use kos_ledger::tree::{MemoryTree, root};
use kos_ledger::verify::{self, LogDir};
use kos_ledger::{DirStorage, Error, LogWriter, NoteSigner, NoteVerifier, hash};
mod common;

use common::Faulty;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "kos-ledger-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
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

fn signer() -> NoteSigner {
    NoteSigner::from_seed("twin.example/ledger", ED25519, [42; 32]).unwrap()
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i} {}", "x".repeat((i % 37) as usize)).into_bytes()
}

fn write_log(dir: &Path, batches: &[u64]) -> (LogWriter<DirStorage>, u64) {
    let mut w = LogWriter::open(DirStorage::new(dir).unwrap(), signer()).unwrap();
    let mut n = w.size();
    for &b in batches {
        let entries: Vec<Vec<u8>> = (n..n + b).map(entry).collect();
        w.append(&entries).unwrap();
        n += b;
    }
    (w, n)
}

#[test]
fn a_log_written_in_batches_verifies_and_has_the_reference_root() {
    let dir = TempDir::new("basic");
    let (w, n) = write_log(&dir.0, &[1, 255, 256, 3, 600, 1, 70_000 - 1116]);
    assert_eq!(n, 70_000);
    let mut reference = MemoryTree::new();
    for i in 0..n {
        reference.push(hash::leaf_hash(&entry(i)));
    }
    assert_eq!(w.checkpoint().root, root(&mut reference, n).unwrap());
    let v = signer().verifier();
    let ok = verify::verify(&LogDir::new(&dir.0), &v, &[], 0).unwrap();
    assert_eq!(ok.entries, 70_000);
    // Every tile the specification lists for this size is there, and nothing is missing.
    for t in tiles_for_size(n) {
        assert!(dir.0.join(t.path()).is_file(), "{}", t.path());
    }
    // Reopening finds the same state and appends on.
    drop(w);
    let (w, n) = write_log(&dir.0, &[5]);
    assert_eq!(n, 70_005);
    assert_eq!(w.size(), 70_005);
    verify::verify(&LogDir::new(&dir.0), &v, &[], 0).unwrap();
    let p = verify::prove(&LogDir::new(&dir.0), &v, 69_999).unwrap();
    assert_eq!(p.entry, entry(69_999));
}

#[test]
fn an_empty_log_verifies_with_the_empty_root() {
    let dir = TempDir::new("empty");
    let (w, _) = write_log(&dir.0, &[]);
    assert_eq!(w.checkpoint().root, hash::empty_root());
    let ok = verify::verify(&LogDir::new(&dir.0), &signer().verifier(), &[], 0).unwrap();
    assert_eq!(ok.entries, 0);
}

fn flip(path: &Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    let i = at % b.len();
    b[i] ^= 0x20;
    std::fs::write(path, b).unwrap();
}

/// Copies a directory tree file by file with `file` (a copy, or a hard link).
fn tree(from: &Path, to: &Path, file: fn(&Path, &Path) -> std::io::Result<()>) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            tree(&e.path(), &target, file);
        } else if e.file_name() != "lock" {
            file(&e.path(), &target).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    tree(from, to, |a, b| std::fs::copy(a, b).map(|_| ()));
}

fn link_dir(from: &Path, to: &Path) {
    tree(from, to, |a, b| std::fs::hard_link(a, b));
}

fn verify_err(dir: &Path) -> String {
    match verify::verify(&LogDir::new(dir), &signer().verifier(), &[], 0) {
        Ok(_) => panic!("a tampered log verified"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_kind_of_tampering_is_caught_and_named() {
    let good = TempDir::new("good");
    write_log(&good.0, &[300, 300]);
    let fresh = || {
        let d = TempDir::new("tamper");
        copy_dir(&good.0, &d.0);
        d
    };
    // A flipped byte in an entry.
    let d = fresh();
    flip(&d.0.join("tile/entries/001"), 100);
    let e = verify_err(&d.0);
    assert!(
        e.contains("entry 25") || e.contains("tile/entries/001"),
        "{e}"
    );
    // In a full tile of hashes, and in a partial one.
    let d = fresh();
    flip(&d.0.join("tile/0/000"), 32 * 7 + 3);
    assert!(verify_err(&d.0).contains("entry 7 does not hash to position 7 of tile/0/000"));
    let d = fresh();
    flip(&d.0.join("tile/1/000.p/2"), 40);
    assert!(verify_err(&d.0).contains("tile/0/001 does not hash to position 1 of tile/1/000.p/2"));
    // A truncated tile.
    let d = fresh();
    let p = d.0.join("tile/0/002.p/88");
    let b = std::fs::read(&p).unwrap();
    std::fs::write(&p, &b[..b.len() - 5]).unwrap();
    assert!(verify_err(&d.0).contains("tile/0/002.p/88"));
    // A missing bundle.
    let d = fresh();
    std::fs::remove_file(d.0.join("tile/entries/000")).unwrap();
    assert!(verify_err(&d.0).contains("tile/entries/000: missing"));
    // The checkpoint: its size, its root, its signature.
    for (what, at) in [("size", 21usize), ("root", 30), ("signature", 120)] {
        let d = fresh();
        let p = d.0.join(CHECKPOINT);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut b = text.into_bytes();
        let at = at.min(b.len() - 3);
        b[at] = if b[at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&p, &b).unwrap();
        let e = verify_err(&d.0);
        assert!(!e.is_empty(), "{what}");
    }
    // A checkpoint from another key, and one from another origin under the right key name.
    let d = fresh();
    let other = NoteSigner::from_seed("twin.example/ledger", ED25519, [1; 32]).unwrap();
    let note = kos_ledger::Note::parse(&std::fs::read(d.0.join(CHECKPOINT)).unwrap()).unwrap();
    let forged = kos_ledger::Note::sign(&note.text, &other, 0).unwrap();
    std::fs::write(d.0.join(CHECKPOINT), forged.to_bytes()).unwrap();
    assert!(verify_err(&d.0).contains("signature"));
    let d = fresh();
    let text = note
        .text
        .replacen("twin.example/ledger", "elsewhere.example/ledger", 1);
    std::fs::write(
        d.0.join(CHECKPOINT),
        kos_ledger::Note::sign(&text, &signer(), 0)
            .unwrap()
            .to_bytes(),
    )
    .unwrap();
    assert!(verify_err(&d.0).contains("origin"));
}

#[test]
fn a_forked_log_fails_the_consistency_check() {
    let a = TempDir::new("fork-a");
    let b = TempDir::new("fork-b");
    write_log(&a.0, &[100, 50]);
    let old = std::fs::read(a.0.join(CHECKPOINT)).unwrap();
    write_log(&a.0, &[10]);
    let v = signer().verifier();
    let (o, n, _) = verify::consistency(&LogDir::new(&a.0), &v, &old).unwrap();
    assert_eq!((o.size, n.size), (150, 160));
    // Same key, a different history of the same length: signed, but not an extension.
    let mut w = LogWriter::open(DirStorage::new(&b.0).unwrap(), signer()).unwrap();
    w.append(&(0..150).map(|i| entry(i + 1)).collect::<Vec<_>>())
        .unwrap();
    w.append(&(0..10).map(entry).collect::<Vec<_>>()).unwrap();
    assert!(verify::consistency(&LogDir::new(&b.0), &v, &old).is_err());
    // A newer checkpoint given as the old one: the log shrank.
    let newer = std::fs::read(a.0.join(CHECKPOINT)).unwrap();
    let c = TempDir::new("fork-c");
    write_log(&c.0, &[100]);
    assert!(verify::consistency(&LogDir::new(&c.0), &v, &newer).is_err());
}

#[test]
fn witnesses_cosign_and_a_threshold_is_enforced() {
    let dir = TempDir::new("witness");
    write_log(&dir.0, &[10]);
    let witness = NoteSigner::from_seed("neighbour.example/twin", COSIGNATURE, [5; 32]).unwrap();
    let stranger = NoteSigner::from_seed("stranger.example/twin", COSIGNATURE, [6; 32]).unwrap();
    let path = dir.0.join(CHECKPOINT);
    let mut note = kos_ledger::Note::parse(&std::fs::read(&path).unwrap()).unwrap();
    note.add_signature(witness.sign(&note.text, 1_765_000_000).unwrap());
    std::fs::write(&path, note.to_bytes()).unwrap();
    let log = LogDir::new(&dir.0);
    let v = signer().verifier();
    let w: NoteVerifier = witness.verifier();
    let ok = verify::verify(&log, &v, std::slice::from_ref(&w), 1).unwrap();
    assert_eq!(
        ok.signed.cosigners,
        vec![("neighbour.example/twin".to_string(), 1_765_000_000)]
    );
    assert!(verify::verify(&log, &v, &[stranger.verifier()], 1).is_err());
    assert!(verify::verify(&log, &v, std::slice::from_ref(&w), 2).is_err());
    // A bad cosignature from a known witness rejects the checkpoint.
    note.signatures[1].bytes[20] ^= 1;
    std::fs::write(&path, note.to_bytes()).unwrap();
    assert!(verify::verify(&log, &v, std::slice::from_ref(&w), 0).is_err());
}

#[test]
fn a_crash_at_any_write_step_loses_no_acknowledged_entry() {
    let v = signer().verifier();
    let mut runs = 0;
    // Batches that end inside a tile, fill one exactly, and cross tile and level boundaries.
    // The last case starts just below 65,536, where the second level of tiles begins.
    let cases = [
        (10u64, vec![3u64, 5, 7]),
        (10, vec![200, 56, 1]),
        (65_500, vec![30, 10, 300]),
    ];
    for (case, (initial, batches)) in cases.iter().enumerate() {
        let template = TempDir::new("crash-template");
        write_log(&template.0, &[*initial]);
        for fail_at in 1..=60 {
            for torn in [false, true] {
                runs += 1;
                let dir = TempDir::new("crash");
                // Hard links: the writer replaces files by renaming, never in place.
                link_dir(&template.0, &dir.0);
                let mut n = *initial;
                let before = std::fs::read(dir.0.join(CHECKPOINT)).unwrap();
                let storage = Faulty {
                    inner: DirStorage::new(&dir.0).unwrap(),
                    step: 0,
                    fail_at,
                    torn: torn.then(|| dir.0.join(".kos-ledger/tmp")),
                };
                let mut acked = n;
                let mut last_ack = before.clone();
                if let Ok(mut w) = LogWriter::open(storage, signer()) {
                    for &b in batches {
                        let entries: Vec<Vec<u8>> = (n..n + b).map(entry).collect();
                        match w.append(&entries) {
                            Ok(_) => {
                                n += b;
                                acked = n;
                                last_ack = w.checkpoint_note().to_vec();
                            }
                            Err(_) => {
                                assert!(matches!(w.append(&entries), Err(Error::Poisoned)));
                                break;
                            }
                        }
                    }
                }
                // Restart: recovery, then the log verifies, holds every acknowledged entry,
                // and only grew from the last acknowledged checkpoint.
                let mut w = LogWriter::open(DirStorage::new(&dir.0).unwrap(), signer())
                    .unwrap_or_else(|e| panic!("case {case}, step {fail_at}, torn {torn}: {e}"));
                let log = LogDir::new(&dir.0);
                let ok = verify::verify(&log, &v, &[], 0).unwrap();
                assert!(
                    ok.entries >= acked,
                    "case {case} step {fail_at}: {} < {acked}",
                    ok.entries
                );
                for i in [0, acked / 2, acked - 1] {
                    assert_eq!(log.entry(i, ok.entries).unwrap(), entry(i));
                }
                verify::consistency(&log, &v, &last_ack).unwrap();
                verify::consistency(&log, &v, &before).unwrap();
                assert!(
                    std::fs::read_dir(dir.0.join(".kos-ledger/tmp"))
                        .unwrap()
                        .next()
                        .is_none()
                );
                // And it goes on.
                let m = w.size();
                w.append(&[entry(m)]).unwrap();
                verify::verify(&log, &v, &[], 0).unwrap();
            }
        }
    }
    assert!(runs >= 300, "{runs} crash runs");
}

#[test]
fn a_second_writer_is_refused() {
    let dir = TempDir::new("lock");
    let (w, _) = write_log(&dir.0, &[1]);
    let e = DirStorage::new(&dir.0).unwrap_err();
    assert!(e.to_string().contains("another writer"), "{e}");
    drop(w);
    DirStorage::new(&dir.0).unwrap();
}
