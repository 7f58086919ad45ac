//! The readers on arbitrary and damaged input: errors, never panics; and a log with any one
//! byte of any published file changed never verifies.

use kos_ledger::note::ED25519;
use kos_ledger::tile::{Tile, parse_bundle, parse_hashes};
use kos_ledger::verify::{self, LogDir};
use kos_ledger::{Checkpoint, DirStorage, Entry, LogWriter, Note, NoteSigner, NoteVerifier};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn readers_of_arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..300), width in 1u16..=256) {
        let _ = Note::parse(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = Checkpoint::parse(&text);
        let _ = NoteVerifier::parse(&text);
        let _ = NoteSigner::from_private_text(&text);
        let _ = Entry::from_bytes(&bytes);
        let t = Tile { level: None, index: 3, width };
        let _ = parse_bundle(&t, &bytes);
        let _ = parse_hashes(&Tile { level: Some(0), ..t }, &bytes);
    }

    #[test]
    fn readers_of_plausible_text_do_not_panic(lines in prop::collection::vec("[a-z0-9+/=. \u{2014}]{0,60}", 0..8)) {
        let text = lines.join("\n");
        let _ = Note::parse(text.as_bytes());
        let _ = Checkpoint::parse(&text);
        let _ = NoteVerifier::parse(&text);
    }
}

fn published_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_name() == ".kos-ledger" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            published_files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

#[test]
fn any_changed_byte_of_a_published_log_fails_verification() {
    let dir = std::env::temp_dir().join(format!("kos-ledger-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let signer = NoteSigner::from_seed("fuzz.example/log", ED25519, [8; 32]).unwrap();
    let mut w = LogWriter::open(DirStorage::new(&dir).unwrap(), signer.clone()).unwrap();
    w.append(
        &(0..700u32)
            .map(|i| format!("entry {i}").into_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    drop(w);
    let v = signer.verifier();
    let log = LogDir::new(&dir);
    verify::verify(&log, &v, &[], 0).unwrap();
    let mut files = Vec::new();
    published_files(&dir, &mut files);
    files.sort();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(1500));
    runner
        .run(
            &(0..files.len(), any::<usize>(), 1u8..=255),
            |(f, at, x)| {
                let path = &files[f];
                let original = std::fs::read(path).unwrap();
                let mut b = original.clone();
                let i = at % b.len();
                b[i] ^= x;
                std::fs::write(path, &b).unwrap();
                let r = verify::verify(&log, &v, &[], 0);
                std::fs::write(path, &original).unwrap();
                prop_assert!(r.is_err(), "{} byte {i} ^ {x} verified", path.display());
                Ok(())
            },
        )
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
