//! Cross-checks against an independent RFC 6962 implementation (the `ct-merkle` crate): the
//! roots, inclusion proofs and consistency proofs of our tree, in memory and read from the
//! tiles of a log on disk, must be the oracle's, byte for byte, and each side must accept the
//! other's proofs.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use kos_ledger::note::ED25519;
use kos_ledger::tree::{self, HashSource, MemoryTree};
use kos_ledger::verify::LogDir;
use kos_ledger::{DirStorage, LogWriter, NoteSigner, hash};
use proptest::prelude::*;
use sha2::Sha256;

fn oracle(entries: &[Vec<u8>]) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut t = MemoryBackedTree::new();
    for e in entries {
        t.push(e.clone());
    }
    t
}

fn ours(entries: &[Vec<u8>]) -> MemoryTree {
    let mut t = MemoryTree::new();
    for e in entries {
        t.push(hash::leaf_hash(e));
    }
    t
}

fn flat(proof: &[kos_ledger::Hash]) -> Vec<u8> {
    proof.concat()
}

/// Every check of one tree against the oracle, through any hash source.
fn check(src: &mut dyn HashSource, entries: &[Vec<u8>], indices: &[u64], olds: &[u64]) {
    let n = entries.len() as u64;
    let o = oracle(entries);
    let root = tree::root(src, n).unwrap();
    assert_eq!(
        root.as_slice(),
        o.root().as_bytes().as_slice(),
        "root of {n}"
    );
    let oracle_root = RootHash::<Sha256>::new(*o.root().as_bytes(), n);
    for &i in indices {
        let i = i % n;
        let p = tree::inclusion_proof(src, i, n).unwrap();
        assert_eq!(
            flat(&p),
            o.prove_inclusion(i as usize).as_bytes(),
            "inclusion {i} of {n}"
        );
        oracle_root
            .verify_inclusion(
                &entries[i as usize],
                i,
                &InclusionProof::from_bytes(flat(&p)),
            )
            .unwrap();
    }
    for &old in olds {
        let old = 1 + old % n;
        let p = tree::consistency_proof(src, old, n).unwrap();
        let old_root = tree::root(src, old).unwrap();
        if old < n {
            let op = o.prove_consistency((n - old) as usize);
            assert_eq!(flat(&p), op.as_bytes(), "consistency {old} -> {n}");
            let old_oracle = RootHash::<Sha256>::new(old_root.into(), old);
            oracle_root
                .verify_consistency(
                    &old_oracle,
                    &ConsistencyProof::try_from_bytes(flat(&p)).unwrap(),
                )
                .unwrap();
        }
        tree::verify_consistency(old, n, &old_root, &root, &p).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_tree_in_memory_is_the_oracles(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..700),
        indices in prop::collection::vec(any::<u64>(), 8),
        olds in prop::collection::vec(any::<u64>(), 8),
    ) {
        let mut t = ours(&entries);
        check(&mut t, &entries, &indices, &olds);
    }
}

#[test]
fn the_tree_read_from_tiles_on_disk_is_the_oracles() {
    let dir = std::env::temp_dir().join(format!("kos-ledger-oracle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let signer = NoteSigner::from_seed("oracle.example/log", ED25519, [3; 32]).unwrap();
    let mut w = LogWriter::open(DirStorage::new(&dir).unwrap(), signer).unwrap();
    let entries: Vec<Vec<u8>> = (0..66_000u32)
        .map(|i| i.to_le_bytes().repeat(1 + (i % 5) as usize))
        .collect();
    // Checkpoints at sizes around tile and level edges, each checked in full.
    let mut written = 0usize;
    for size in [
        1usize, 255, 256, 257, 511, 513, 65_535, 65_536, 65_537, 66_000,
    ] {
        w.append(&entries[written..size]).unwrap();
        written = size;
        let log = LogDir::new(&dir);
        let picks: Vec<u64> = vec![0, 1, 254, 255, 256, 257, 65_535, 65_536, size as u64 - 1];
        check(
            &mut log.hashes(size as u64),
            &entries[..size],
            &picks,
            &picks,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
