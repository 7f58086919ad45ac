//! The log on S3-compatible object storage (feature `object-store`), against a real S3 API
//! server: moto's (`moto_server`, path in `$KOS_MOTO_SERVER`; `scripts/test-s3.sh` installs
//! it). The same writer and verifier as on disk: appends, reopening, proofs, a changed object
//! caught, and failures injected at every write step of an append.
#![cfg(feature = "object-store")]

mod common;
#[path = "common/moto.rs"]
mod moto;

use common::Faulty;
use kos_ledger::log::CHECKPOINT;
use kos_ledger::note::ED25519;
use kos_ledger::object::ObjectStorage;
use kos_ledger::verify;
use kos_ledger::{LogWriter, NoteSigner, Storage};
use moto::{bucket, server};
use object_store::aws::AmazonS3Builder;

fn storage(port: u16, bucket: &str, prefix: &str) -> ObjectStorage {
    let b = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_endpoint(format!("http://127.0.0.1:{port}"))
        .with_allow_http(true)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test");
    ObjectStorage::from_s3(b, prefix).unwrap()
}

fn signer() -> NoteSigner {
    NoteSigner::from_seed("twin.example/ledger", ED25519, [21; 32]).unwrap()
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry {i}").into_bytes()
}

#[test]
fn a_log_in_a_bucket_is_written_verified_proven_and_survives_failures() {
    let s = server();
    bucket(s.1, "ledger");
    let v = signer().verifier();

    // Batches across tile boundaries; reopened; verified and proven through the bucket.
    let mut w = LogWriter::open(storage(s.1, "ledger", "aldermoor/log"), signer()).unwrap();
    let mut n = 0;
    for b in [1u64, 255, 300, 700] {
        w.append(&(n..n + b).map(entry).collect::<Vec<_>>())
            .unwrap();
        n += b;
    }
    let root = w.checkpoint().root;
    drop(w);
    let w = LogWriter::open(storage(s.1, "ledger", "aldermoor/log"), signer()).unwrap();
    assert_eq!((w.size(), w.checkpoint().root), (n, root));
    drop(w);
    let reader = storage(s.1, "ledger", "aldermoor/log").reader().unwrap();
    let ok = verify::verify(&reader, &v, &[], 0).unwrap();
    assert_eq!(ok.entries, 1256);
    assert_eq!(verify::prove(&reader, &v, 1000).unwrap().entry, entry(1000));

    // A changed object is caught.
    let mut raw = storage(s.1, "ledger", "aldermoor/log");
    let tile = "tile/0/001";
    let good = raw.read(tile).unwrap().unwrap();
    let mut bad = good.clone();
    bad[40] ^= 1;
    raw.write_atomic(tile, &bad).unwrap();
    let e = verify::verify(&reader, &v, &[], 0).unwrap_err().to_string();
    assert!(e.contains("tile/0/001"), "{e}");
    raw.write_atomic(tile, &good).unwrap();

    // A failure at every write step of the next appends: after reopening, nothing
    // acknowledged is lost and the log only grew.
    let mut acked = n;
    for fail_at in 1..=14 {
        let before = raw.read(CHECKPOINT).unwrap().unwrap();
        let faulty = Faulty {
            inner: storage(s.1, "ledger", "aldermoor/log"),
            step: 0,
            fail_at,
            torn: None,
        };
        if let Ok(mut w) = LogWriter::open(faulty, signer()) {
            // What the opened log holds is committed (recovered batches included).
            acked = acked.max(w.size());
            for b in [3u64, 256] {
                let size = w.size();
                if w.append(&(size..size + b).map(entry).collect::<Vec<_>>())
                    .is_err()
                {
                    break;
                }
                acked = w.size();
            }
        }
        let w = LogWriter::open(storage(s.1, "ledger", "aldermoor/log"), signer()).unwrap();
        assert!(w.size() >= acked, "step {fail_at}: {} < {acked}", w.size());
        let ok = verify::verify(&reader, &v, &[], 0).unwrap();
        verify::consistency(&reader, &v, &before).unwrap();
        assert_eq!(
            reader.entry(acked - 1, ok.entries).unwrap(),
            entry(acked - 1)
        );
    }
}
