//! The log writer: appends batches of entries, writes tiles and entry bundles and signs a
//! checkpoint, so that a crash at any point loses no acknowledged entry.
//!
//! An append follows Sunlight's order. Everything the batch writes (the new full and partial
//! tiles, the entry bundles and the signed checkpoint) is first *staged* in one file, which
//! is renamed into place and synced: that rename is the commit point, and an append returns
//! only after it. Then the tiles are written, then the checkpoint, then the staging file is
//! removed. On opening, a staging file that is there is applied again (every write is a
//! whole-file replacement, so applying twice is harmless); a crash before the commit leaves
//! only temporary files, which are removed. A checkpoint is signed once per size: a signature
//! that never reached the commit point was never published, and the next one supersedes it.

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::hash::{Hash, leaf_hash, perfect_root, sha256};
use crate::note::{Note, NoteSigner};
use crate::storage::{PRIVATE_DIR, Storage};
use crate::tile::{HEIGHT, Tile, WIDTH, level_len, parse_bundle, parse_hashes, push_bundle_entry};
use crate::tree::{HashSource, root};
use crate::verify::read_signed;
use std::collections::BTreeMap;

/// The published checkpoint's path below the log's prefix.
pub const CHECKPOINT: &str = "checkpoint";
const STAGING: &str = ".kos-ledger/staging";
const STAGING_MAGIC: &[u8] = b"kos-ledger staging 1\n";

/// The right edge of the tree: the hashes of the partial tile at every level, and the
/// entries of the partial bundle. Enough to extend the tree and compute its root.
#[derive(Debug, Clone, Default, PartialEq)]
struct Edge {
    size: u64,
    levels: Vec<Vec<Hash>>,
    bundle: Vec<u8>,
}

impl Edge {
    /// Adds entries; returns the files written on the way (full tiles and bundles), then adds
    /// the partial ones of the new size.
    fn extend(&mut self, entries: &[Vec<u8>]) -> Result<BTreeMap<String, Vec<u8>>, Error> {
        let mut files = BTreeMap::new();
        for e in entries {
            push_bundle_entry(&mut self.bundle, e)?;
            self.size += 1;
            if self.size % WIDTH == 0 {
                let t = Tile {
                    level: None,
                    index: self.size / WIDTH - 1,
                    width: WIDTH as u16,
                };
                files.insert(t.path(), std::mem::take(&mut self.bundle));
            }
            let mut h = leaf_hash(e);
            let mut level = 0;
            loop {
                if self.levels.len() == level {
                    self.levels.push(Vec::with_capacity(WIDTH as usize));
                }
                self.levels[level].push(h);
                if self.levels[level].len() < WIDTH as usize {
                    break;
                }
                let index = level_len(level as u32, self.size) / WIDTH - 1;
                let t = Tile {
                    level: Some(level as u8),
                    index,
                    width: WIDTH as u16,
                };
                let full = std::mem::take(&mut self.levels[level]);
                h = perfect_root(&full);
                files.insert(t.path(), full.concat());
                level += 1;
            }
        }
        for (tile, bytes) in self.partials() {
            files.insert(tile.path(), bytes);
        }
        Ok(files)
    }

    /// The partial tiles and bundle of this size, with their bytes.
    fn partials(&self) -> Vec<(Tile, Vec<u8>)> {
        let mut out = Vec::new();
        if self.size % WIDTH > 0 {
            let t = Tile {
                level: None,
                index: self.size / WIDTH,
                width: (self.size % WIDTH) as u16,
            };
            out.push((t, self.bundle.clone()));
        }
        for (l, hashes) in self.levels.iter().enumerate() {
            if !hashes.is_empty() {
                let index = level_len(l as u32, self.size) / WIDTH;
                let t = Tile {
                    level: Some(l as u8),
                    index,
                    width: hashes.len() as u16,
                };
                out.push((t, hashes.concat()));
            }
        }
        out
    }

    fn root(&self) -> Result<Hash, Error> {
        let size = self.size;
        root(&mut EdgeSource(self), size)
    }

    /// Reads the edge of a tree of `size` leaves from its partial tiles.
    fn load(storage: &dyn Storage, size: u64) -> Result<Self, Error> {
        let mut edge = Edge {
            size,
            levels: Vec::new(),
            bundle: Vec::new(),
        };
        let read = |t: &Tile| -> Result<Vec<u8>, Error> {
            storage.read(&t.path())?.ok_or_else(|| Error::Corrupt {
                what: t.path(),
                why: "missing".into(),
            })
        };
        for l in 0..64u32 {
            let n = level_len(l, size);
            if n == 0 {
                break;
            }
            let width = (n % WIDTH) as u16;
            let hashes = if width == 0 {
                Vec::new()
            } else {
                let t = Tile {
                    level: Some(l as u8),
                    index: n / WIDTH,
                    width,
                };
                parse_hashes(&t, &read(&t)?)?
            };
            edge.levels.push(hashes);
        }
        if size % WIDTH > 0 {
            let t = Tile {
                level: None,
                index: size / WIDTH,
                width: (size % WIDTH) as u16,
            };
            let bytes = read(&t)?;
            let entries = parse_bundle(&t, &bytes)?;
            for (i, e) in entries.iter().enumerate() {
                if leaf_hash(e) != edge.levels[0][i] {
                    return Err(Error::Corrupt {
                        what: t.path(),
                        why: format!(
                            "entry {} does not hash to its leaf",
                            t.index * WIDTH + i as u64
                        ),
                    });
                }
            }
            edge.bundle = bytes;
        }
        Ok(edge)
    }
}

/// Hashes of the right edge: every perfect subtree of the root's decomposition lies in a
/// partial tile.
struct EdgeSource<'a>(&'a Edge);

impl HashSource for EdgeSource<'_> {
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, Error> {
        let level = (height / HEIGHT) as usize;
        let span = 1u64 << (height % HEIGHT);
        let first = index * span;
        let tile_start = level_len(level as u32, self.0.size) / WIDTH * WIDTH;
        let hashes = self.0.levels.get(level).map(Vec::as_slice).unwrap_or(&[]);
        if first < tile_start || first + span > tile_start + hashes.len() as u64 {
            return Err(Error::Proof(format!(
                "the subtree of height {height} at {index} is not on the right edge"
            )));
        }
        let at = (first - tile_start) as usize;
        Ok(perfect_root(&hashes[at..at + span as usize]))
    }
}

/// A batch staged for commit: the signed checkpoint and every file it writes.
struct Staged {
    checkpoint: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
}

impl Staged {
    fn encode(&self) -> Vec<u8> {
        let mut b = STAGING_MAGIC.to_vec();
        b.extend_from_slice(&(self.checkpoint.len() as u32).to_be_bytes());
        b.extend_from_slice(&self.checkpoint);
        b.extend_from_slice(&(self.files.len() as u32).to_be_bytes());
        for (path, data) in &self.files {
            b.extend_from_slice(&(path.len() as u16).to_be_bytes());
            b.extend_from_slice(path.as_bytes());
            b.extend_from_slice(&(data.len() as u32).to_be_bytes());
            b.extend_from_slice(data);
        }
        let h = sha256(&b);
        b.extend_from_slice(&h);
        b
    }

    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let bad = |why: &str| Error::Corrupt {
            what: STAGING.into(),
            why: why.into(),
        };
        if bytes.len() < STAGING_MAGIC.len() + 32 || !bytes.starts_with(STAGING_MAGIC) {
            return Err(bad("not a staging file"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if sha256(body) != sum {
            return Err(bad("its checksum does not match"));
        }
        let mut r = &body[STAGING_MAGIC.len()..];
        let mut take = |n: usize| -> Result<&[u8], Error> {
            if r.len() < n {
                return Err(bad("truncated"));
            }
            let (a, b) = r.split_at(n);
            r = b;
            Ok(a)
        };
        let n = u32::from_be_bytes(take(4)?.try_into().expect("4")) as usize;
        let checkpoint = take(n)?.to_vec();
        let count = u32::from_be_bytes(take(4)?.try_into().expect("4"));
        let mut files = BTreeMap::new();
        for _ in 0..count {
            let n = u16::from_be_bytes(take(2)?.try_into().expect("2")) as usize;
            let path =
                String::from_utf8(take(n)?.to_vec()).map_err(|_| bad("a path is not UTF-8"))?;
            let n = u32::from_be_bytes(take(4)?.try_into().expect("4")) as usize;
            files.insert(path, take(n)?.to_vec());
        }
        Ok(Self { checkpoint, files })
    }
}

/// An open log that entries are appended to.
pub struct LogWriter<S: Storage> {
    storage: S,
    signer: NoteSigner,
    edge: Edge,
    checkpoint: Checkpoint,
    note: Vec<u8>,
    poisoned: bool,
}

impl<S: Storage> LogWriter<S> {
    /// Opens the log in `storage`, or creates an empty one, recovering from an interrupted
    /// append first. The checkpoint's origin is the signer's key name.
    pub fn open(mut storage: S, signer: NoteSigner) -> Result<Self, Error> {
        storage.clean()?;
        let verifier = signer.verifier();
        if let Some(bytes) = storage.read(STAGING)? {
            let staged = Staged::decode(&bytes)?;
            let staged_cp = read_signed(&staged.checkpoint, &verifier, &[], 0)?.checkpoint;
            let current = match storage.read(CHECKPOINT)? {
                Some(b) => Some(read_signed(&b, &verifier, &[], 0)?.checkpoint),
                None => None,
            };
            if current.as_ref().is_none_or(|c| c.size <= staged_cp.size) {
                apply(&mut storage, &staged)?;
            }
            storage.remove(STAGING)?;
            storage.sync()?;
        }
        let (checkpoint, note) = match storage.read(CHECKPOINT)? {
            Some(bytes) => (read_signed(&bytes, &verifier, &[], 0)?.checkpoint, bytes),
            None => {
                let cp = Checkpoint {
                    origin: signer.name().to_string(),
                    size: 0,
                    root: crate::hash::empty_root(),
                    extensions: vec![],
                };
                let note = Note::sign(&cp.to_text(), &signer, 0)?.to_bytes();
                storage.write_atomic(CHECKPOINT, &note)?;
                storage.sync()?;
                (cp, note)
            }
        };
        let edge = Edge::load(&storage, checkpoint.size)?;
        let root = edge.root()?;
        if root != checkpoint.root {
            return Err(Error::Corrupt {
                what: CHECKPOINT.into(),
                why: format!(
                    "its root is not the root of the tiles of size {}",
                    checkpoint.size
                ),
            });
        }
        Ok(Self {
            storage,
            signer,
            edge,
            checkpoint,
            note,
            poisoned: false,
        })
    }

    /// The latest committed checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The latest signed checkpoint note, as published.
    pub fn checkpoint_note(&self) -> &[u8] {
        &self.note
    }

    pub fn size(&self) -> u64 {
        self.edge.size
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Appends `entries` in order and returns the new checkpoint once the batch is committed
    /// (durable: it survives a crash from then on). After an error the writer refuses further
    /// appends; open the log again to recover.
    pub fn append(&mut self, entries: &[Vec<u8>]) -> Result<&Checkpoint, Error> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if entries.is_empty() {
            return Ok(&self.checkpoint);
        }
        let mut edge = self.edge.clone();
        let files = edge.extend(entries)?;
        let checkpoint = Checkpoint {
            origin: self.checkpoint.origin.clone(),
            size: edge.size,
            root: edge.root()?,
            extensions: vec![],
        };
        let note = Note::sign(&checkpoint.to_text(), &self.signer, 0)?.to_bytes();
        let staged = Staged {
            checkpoint: note,
            files,
        };
        self.poisoned = true;
        self.storage.write_atomic(STAGING, &staged.encode())?;
        self.storage.sync()?;
        // Committed.
        apply(&mut self.storage, &staged)?;
        // Not synced: a staging file that outlives a crash is older than the checkpoint, and
        // opening the log discards it (or applies it again, which changes nothing).
        self.storage.remove(STAGING)?;
        self.poisoned = false;
        self.edge = edge;
        self.checkpoint = checkpoint;
        self.note = staged.checkpoint;
        Ok(&self.checkpoint)
    }
}

/// Writes a staged batch's files, then its checkpoint.
fn apply<S: Storage>(storage: &mut S, staged: &Staged) -> Result<(), Error> {
    for (path, data) in &staged.files {
        if path.starts_with(PRIVATE_DIR) || !path.starts_with("tile/") {
            return Err(Error::Corrupt {
                what: STAGING.into(),
                why: format!("it names the path {path:?}"),
            });
        }
        storage.write_atomic(path, data)?;
    }
    // One sync of the directories for the tiles and the checkpoint: until it returns, the
    // staging file is still there to apply again after a crash.
    storage.write_atomic(CHECKPOINT, &staged.checkpoint)?;
    storage.sync()?;
    Ok(())
}
