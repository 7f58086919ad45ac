//! Checking a published log without trusting its writer: every tile recomputed from the
//! entries, the root from the tiles, the checkpoint's signature and cosignatures; proofs of
//! inclusion and consistency computed from the tiles.

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::hash::{Hash, leaf_hash, perfect_root};
use crate::log::CHECKPOINT;
use crate::note::{COSIGNATURE, Note, NoteVerifier};
use crate::tile::{Tile, TileHashes, WIDTH, level_len, parse_bundle, parse_hashes};
use crate::tree::{consistency_proof, inclusion_proof, root, verify_consistency, verify_inclusion};
use std::path::PathBuf;

/// Reads a file of a published log by its path in the layout.
type Reader = std::sync::Arc<dyn Fn(&str) -> Result<Vec<u8>, Error> + Send + Sync>;

/// A log as published, read only: a directory in the tiles layout, or any other source of
/// its files (an object store, say).
#[derive(Clone)]
pub struct LogDir {
    name: String,
    read: Reader,
}

impl std::fmt::Debug for LogDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LogDir({})", self.name)
    }
}

impl LogDir {
    /// The log in a directory.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root: PathBuf = root.into();
        let name = root.display().to_string();
        Self::from_reader(name, move |path| {
            std::fs::read(root.join(path)).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Error::Corrupt {
                    what: path.into(),
                    why: "missing".into(),
                },
                _ => Error::Io(e),
            })
        })
    }

    /// A log whose files `read` returns (a missing file is an error naming it).
    pub fn from_reader(
        name: String,
        read: impl Fn(&str) -> Result<Vec<u8>, Error> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name,
            read: std::sync::Arc::new(read),
        }
    }

    /// Where the log is read from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A file of the layout; a missing one is an error naming it.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, Error> {
        (self.read)(path)
    }

    fn tile(&self, t: &Tile) -> Result<Vec<u8>, Error> {
        self.read(&t.path())
    }

    /// The entries of bundle `index` of a tree of `size` leaves.
    pub fn bundle(&self, index: u64, size: u64) -> Result<Vec<Vec<u8>>, Error> {
        let t = Tile::containing(None, index * WIDTH, size);
        parse_bundle(&t, &self.tile(&t)?)
    }

    /// Entry `index` of a tree of `size` leaves.
    pub fn entry(&self, index: u64, size: u64) -> Result<Vec<u8>, Error> {
        if index >= size {
            return Err(Error::Proof(format!(
                "entry {index} is not below the tree size {size}"
            )));
        }
        let mut b = self.bundle(index / WIDTH, size)?;
        Ok(b.swap_remove((index % WIDTH) as usize))
    }

    /// The checkpoint, its signatures checked: the log's key must have signed it, and at least
    /// `threshold` of the witnesses must have cosigned it. A known key's bad signature is an
    /// error.
    pub fn checkpoint(
        &self,
        log: &NoteVerifier,
        witnesses: &[NoteVerifier],
        threshold: usize,
    ) -> Result<Signed, Error> {
        read_signed(&self.read(CHECKPOINT)?, log, witnesses, threshold)
    }

    /// The hashes of the tree of `size` leaves, read from the tiles.
    pub fn hashes(
        &self,
        size: u64,
    ) -> TileHashes<impl FnMut(&Tile) -> Result<Vec<u8>, Error> + '_> {
        TileHashes::new(size, move |t: &Tile| self.tile(t))
    }
}

/// A checkpoint whose signatures were checked.
#[derive(Debug, Clone)]
pub struct Signed {
    pub checkpoint: Checkpoint,
    /// Key names of the witnesses whose cosignatures verified, with their timestamps.
    pub cosigners: Vec<(String, u64)>,
}

/// Checks a checkpoint note's signatures (see [`LogDir::checkpoint`]).
pub fn read_signed(
    bytes: &[u8],
    log: &NoteVerifier,
    witnesses: &[NoteVerifier],
    threshold: usize,
) -> Result<Signed, Error> {
    let note = Note::parse(bytes)?;
    let mut known = vec![log.clone()];
    known.extend(witnesses.iter().filter(|w| w.kind == COSIGNATURE).cloned());
    let ok = note.verify(&known)?;
    if !ok.iter().any(|(v, _)| *v == log) {
        return Err(Error::Signature(format!(
            "the checkpoint is not signed by the log's key {}",
            log.name
        )));
    }
    let cosigners: Vec<(String, u64)> = ok
        .iter()
        .filter_map(|(v, t)| t.map(|t| (v.name.clone(), t)))
        .collect();
    if cosigners.len() < threshold {
        return Err(Error::Signature(format!(
            "{} of the {threshold} witness cosignatures asked for",
            cosigners.len()
        )));
    }
    let checkpoint = Checkpoint::parse(&note.text)?;
    if checkpoint.origin != log.name {
        return Err(Error::Checkpoint(format!(
            "the origin {:?} is not the log key's name {:?}",
            checkpoint.origin, log.name
        )));
    }
    Ok(Signed {
        checkpoint,
        cosigners,
    })
}

/// What a full verification found.
#[derive(Debug, Clone)]
pub struct Verified {
    pub signed: Signed,
    pub entries: u64,
    pub tiles: u64,
}

/// Recomputes every tile of the checkpointed tree from the entries and the root from the
/// tiles, and checks the signatures. The first entry or tile that does not match is named.
pub fn verify(
    dir: &LogDir,
    log: &NoteVerifier,
    witnesses: &[NoteVerifier],
    threshold: usize,
) -> Result<Verified, Error> {
    let signed = dir.checkpoint(log, witnesses, threshold)?;
    let size = signed.checkpoint.size;
    let mut tiles = 0u64;
    // Level 0 from the entries; each level's full tiles give the next level's hashes.
    let mut expected: Vec<Hash> = Vec::new();
    for b in 0..size.div_ceil(WIDTH) {
        let entries = dir.bundle(b, size)?;
        expected.extend(entries.iter().map(|e| leaf_hash(e)));
        tiles += 1;
    }
    for level in 0..64u32 {
        let n = level_len(level, size);
        if n == 0 {
            break;
        }
        debug_assert_eq!(expected.len() as u64, n);
        let mut next = Vec::with_capacity((n / WIDTH) as usize);
        for (i, chunk) in expected.chunks(WIDTH as usize).enumerate() {
            let t = Tile::containing(Some(level as u8), i as u64 * WIDTH, size);
            let stored = parse_hashes(&t, &dir.tile(&t)?)?;
            if let Some(k) = (0..chunk.len()).find(|&k| stored[k] != chunk[k]) {
                let what = if level == 0 {
                    format!("entry {}", i as u64 * WIDTH + k as u64)
                } else {
                    format!(
                        "tile/{}/{}",
                        level - 1,
                        crate::tile::index_path(i as u64 * WIDTH + k as u64)
                    )
                };
                return Err(Error::Mismatch(format!(
                    "{what} does not hash to position {k} of {}",
                    t.path()
                )));
            }
            if t.is_full() {
                next.push(perfect_root(chunk));
            }
            tiles += 1;
        }
        expected = next;
    }
    let computed = root(&mut dir.hashes(size), size)?;
    if computed != signed.checkpoint.root {
        return Err(Error::Mismatch(format!(
            "the checkpoint's root is not the root of the tiles (tree size {size})"
        )));
    }
    Ok(Verified {
        signed,
        entries: size,
        tiles,
    })
}

/// An entry with its proof of inclusion in the checkpointed tree.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub index: u64,
    pub entry: Vec<u8>,
    pub checkpoint: Checkpoint,
    pub proof: Vec<Hash>,
}

/// Proves that entry `index` is in the log's checkpointed tree, and checks the proof.
pub fn prove(dir: &LogDir, log: &NoteVerifier, index: u64) -> Result<Inclusion, Error> {
    let signed = dir.checkpoint(log, &[], 0)?;
    let cp = signed.checkpoint;
    let entry = dir.entry(index, cp.size)?;
    let proof = inclusion_proof(&mut dir.hashes(cp.size), index, cp.size)?;
    verify_inclusion(&leaf_hash(&entry), index, cp.size, &proof, &cp.root)?;
    Ok(Inclusion {
        index,
        entry,
        checkpoint: cp,
        proof,
    })
}

/// Proves that the log's current tree extends the one of an older checkpoint (signed by the
/// same key), and checks the proof.
pub fn consistency(
    dir: &LogDir,
    log: &NoteVerifier,
    old: &[u8],
) -> Result<(Checkpoint, Checkpoint, Vec<Hash>), Error> {
    let old = read_signed(old, log, &[], 0)?.checkpoint;
    let new = dir.checkpoint(log, &[], 0)?.checkpoint;
    if old.size > new.size {
        return Err(Error::Proof(format!(
            "the old checkpoint's size {} is above the log's {}: the log shrank",
            old.size, new.size
        )));
    }
    let proof = consistency_proof(&mut dir.hashes(new.size), old.size, new.size)?;
    verify_consistency(old.size, new.size, &old.root, &new.root, &proof)?;
    Ok((old, new, proof))
}
