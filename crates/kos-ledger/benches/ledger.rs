//! Speed of the ledger: appending batches to a log on local disk, a full verification of a
//! log of a million entries, inclusion proofs from the tiles; and, side by side on the same
//! entries, building the tree in memory with the `ct-merkle` crate and with ours.
//!
//! `cargo bench -p kos-ledger --bench ledger [-- ENTRIES]` (default 1,000,000); the log is
//! written under `$KOS_BENCH_DIR` (default: the system's temporary directory).

use std::time::Instant;

use kos_ledger::note::ED25519;
use kos_ledger::tree::{self, MemoryTree};
use kos_ledger::verify::{self, LogDir};
use kos_ledger::{DirStorage, Entry, LogWriter, NoteSigner, hash};

/// An energy entry as the twin writes it (about 190 bytes).
fn entry(i: u64) -> Vec<u8> {
    use kos_ledger::entry::{Body, Supply};
    Entry::new(
        1_782_000_000 + (i / 200) as i64 * 3600,
        Body::Energy {
            consumer: format!("homes-{:05}", i % 10_000),
            period_s: 3600,
            wh: (i % 9_000) as i64 + 500,
            suppliers: vec![
                Supply {
                    asset: "pv-north-2".into(),
                    wh: 1200,
                },
                Supply {
                    asset: "bat-mill".into(),
                    wh: 300,
                },
                Supply {
                    asset: "wt1".into(),
                    wh: (i % 700) as i64,
                },
            ],
        },
    )
    .to_bytes()
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let base = std::env::var_os("KOS_BENCH_DIR")
        .map(Into::into)
        .unwrap_or_else(std::env::temp_dir);
    let entries: Vec<Vec<u8>> = (0..n).map(entry).collect();
    let bytes: usize = entries.iter().map(Vec::len).sum();
    println!(
        "{n} entries, {:.0} bytes each on average",
        bytes as f64 / n as f64
    );

    // Appends in batches of a tick's size, each batch committed (synced) before the next.
    for batch in [100usize, 1_000, 10_000] {
        let dir = base.join(format!("kos-ledger-bench-{batch}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let signer = NoteSigner::from_seed("bench.example/ledger", ED25519, [1; 32]).unwrap();
        let mut w = LogWriter::open(DirStorage::new(&dir).unwrap(), signer.clone()).unwrap();
        let count = (n as usize).min(batch * 200);
        let t = Instant::now();
        for chunk in entries[..count].chunks(batch) {
            w.append(chunk).unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "append, batches of {batch:>6}: {count:>8} entries in {s:>7.3} s = {:>9.0} entries/s ({:.2} ms per batch)",
            count as f64 / s,
            s * 1e3 / (count / batch) as f64
        );
        drop(w);
        if batch != 10_000 {
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        // The rest of the entries, then a full verification and proofs of the whole log.
        let mut w = LogWriter::open(DirStorage::new(&dir).unwrap(), signer.clone()).unwrap();
        for chunk in entries[count..].chunks(batch) {
            w.append(chunk).unwrap();
        }
        drop(w);
        let log = LogDir::new(&dir);
        let v = signer.verifier();
        let t = Instant::now();
        let ok = verify::verify(&log, &v, &[], 0).unwrap();
        println!(
            "verify, the whole log: {} entries, {} tiles in {:.3} s",
            ok.entries,
            ok.tiles,
            t.elapsed().as_secs_f64()
        );
        let picks: Vec<u64> = (0..1000u64).map(|k| k * 7919 % n).collect();
        let t = Instant::now();
        for &i in &picks {
            verify::prove(&log, &v, i).unwrap();
        }
        println!(
            "prove: inclusion proof from the tiles, read, checked: {:.3} ms each (1,000, a fresh read of the checkpoint, entry and tiles each)",
            t.elapsed().as_secs_f64() * 1e3 / picks.len() as f64
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Side by side: the same entries into a tree in memory, root and 1,000 proofs.
    let t = Instant::now();
    let mut o = ct_merkle::mem_backed_tree::MemoryBackedTree::<sha2::Sha256, Vec<u8>>::new();
    for e in &entries {
        o.push(e.clone());
    }
    let oroot = o.root();
    let oracle_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut m = MemoryTree::new();
    for e in &entries {
        m.push(hash::leaf_hash(e));
    }
    let root = tree::root(&mut m, n).unwrap();
    let ours_s = t.elapsed().as_secs_f64();
    assert_eq!(root.as_slice(), oroot.as_bytes().as_slice());
    println!(
        "tree in memory, {n} entries and the root: ct-merkle {oracle_s:.3} s, kos-ledger {ours_s:.3} s, ratio {:.2} (below 1: kos-ledger faster)",
        ours_s / oracle_s
    );
}
