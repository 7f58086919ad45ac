//! The resource ledger of kos-twin, free of any engine: a transparency log in the C2SP
//! `tlog-tiles` layout, with checkpoints (C2SP `tlog-checkpoint`) signed as C2SP signed notes
//! with Ed25519 and optionally cosigned by witnesses (C2SP `tlog-cosignature`).
//!
//! Anyone with the log's verifier key checks, without trusting the writer, that an entry is
//! in the log ([`verify::prove`]) and that the log only grew ([`verify::consistency`]); the
//! directory can be served by any static web server as it lies.
//!
//! - [`hash`], [`tree`]: RFC 6962 hashing, roots and proofs;
//! - [`tile`]: tiles, entry bundles and their paths;
//! - [`note`], [`checkpoint`]: signed notes, keys, checkpoints;
//! - [`log`], [`storage`]: the crash-safe writer;
//! - [`verify`]: reading and checking a published log;
//! - [`entry`]: what the twin records.

pub mod checkpoint;
pub mod entry;
pub mod hash;
pub mod keys;
pub mod log;
pub mod note;
#[cfg(feature = "object-store")]
pub mod object;
pub mod storage;
pub mod tile;
pub mod tree;
pub mod verify;

pub use checkpoint::Checkpoint;
pub use entry::{Body, Entry};
pub use hash::Hash;
pub use log::LogWriter;
pub use note::{Note, NoteSigner, NoteVerifier};
pub use storage::{DirStorage, Storage};
pub use verify::LogDir;

/// Standard base64 (RFC 4648 §4), as checkpoints, notes and proofs write hashes.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// What can go wrong, named so that a person can find it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("{what}: {why}")]
    Corrupt { what: String, why: String },
    #[error("mismatch: {0}")]
    Mismatch(String),
    #[error("proof: {0}")]
    Proof(String),
    #[error("key: {0}")]
    Key(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("note: {0}")]
    Note(String),
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("entry: {0}")]
    Entry(String),
    #[error("an earlier append failed: open the log again to recover")]
    Poisoned,
}
