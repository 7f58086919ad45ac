//! `kos-twin ledger ...`: check, prove, list, and cosign a ledger, and make keys.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail, ensure};
use kos_ledger::note::{COSIGNATURE, ED25519};
use kos_ledger::verify::{self, LogDir};
use kos_ledger::{Entry, Note, NoteSigner, NoteVerifier};
use serde_json::json;

/// Subcommands of `kos-twin ledger`.
#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Recompute every tile from the entries and the root from the tiles, and check the
    /// checkpoint's signature and cosignatures; names the first entry or tile that differs.
    Verify {
        /// The log directory, or `s3://BUCKET/PREFIX` (a build with the `s3` feature).
        dir: super::Place,
        /// The log's verifier key, or a file holding it.
        #[arg(long)]
        vkey: String,
        /// A witness's verifier key (or a file holding it); repeat for several.
        #[arg(long)]
        witness: Vec<String>,
        /// Cosignatures of the witnesses required.
        #[arg(long, default_value_t = 0)]
        threshold: usize,
    },
    /// Prove that an entry is in the checkpointed tree: the entry and its audit path.
    Prove {
        /// The log directory or `s3://BUCKET/PREFIX`.
        dir: super::Place,
        /// Index of the entry (from 0).
        #[arg(long)]
        index: u64,
        /// The log's verifier key or its file (default: `<dir>.vkey`).
        #[arg(long)]
        vkey: Option<String>,
    },
    /// Prove that the log only grew since an older checkpoint.
    Consistency {
        /// The log directory or `s3://BUCKET/PREFIX`.
        dir: super::Place,
        /// The older checkpoint (a file, as the log published it).
        #[arg(long)]
        old: PathBuf,
        /// The log's verifier key or its file (default: `<dir>.vkey`).
        #[arg(long)]
        vkey: Option<String>,
    },
    /// List entries, readable; filters combine.
    Show {
        /// The log directory or `s3://BUCKET/PREFIX`.
        dir: super::Place,
        /// Only entries naming this asset.
        #[arg(long)]
        asset: Option<String>,
        /// Only entries of this kind (energy, production, water, allocation, token,
        /// governance, dna, birth, death).
        #[arg(long)]
        kind: Option<String>,
        /// From this simulated time on (`YYYY-MM-DDTHH:MM[:SS]`, site local time).
        #[arg(long)]
        from: Option<String>,
        /// Up to this simulated time, included.
        #[arg(long)]
        to: Option<String>,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// The log's verifier key or its file (default: `<dir>.vkey`).
        #[arg(long)]
        vkey: Option<String>,
    },
    /// Make a new private key (owner-only file) and print its verifier key.
    Keygen {
        /// Key name: the log's origin, or the witness's name (no spaces or plus signs).
        #[arg(long)]
        name: String,
        /// Where to write the private key (never overwritten).
        #[arg(long)]
        out: PathBuf,
        /// A witness's cosigning key (signature type 0x04) instead of a log key.
        #[arg(long)]
        witness: bool,
    },
    /// As a witness: check the log's checkpoint (and that it extends the last one this
    /// witness cosigned), then add a timestamped cosignature to it.
    Cosign {
        dir: PathBuf,
        /// The witness's private key file (from `ledger keygen --witness`).
        #[arg(long)]
        key: PathBuf,
        /// The log's verifier key or its file.
        #[arg(long)]
        vkey: String,
        /// The witness's record of the last checkpoint it cosigned for this log (default:
        /// `<key>.<origin with / as _>.last`).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Timestamp of the cosignature, POSIX seconds (default: now).
        #[arg(long)]
        time: Option<u64>,
    },
}

/// A verifier key given on the command line, or read from the file it names.
fn read_vkey(arg: &str) -> anyhow::Result<NoteVerifier> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| arg.to_string())?
    } else {
        arg.to_string()
    };
    NoteVerifier::parse(text.trim()).map_err(|e| anyhow!("{arg}: {e}"))
}

fn default_vkey(place: &super::Place, arg: Option<&str>) -> anyhow::Result<NoteVerifier> {
    match (arg, place.beside("vkey")) {
        (Some(a), _) => read_vkey(a),
        (None, Some(p)) => read_vkey(&p.display().to_string())
            .with_context(|| format!("no --vkey, and {} is not usable", p.display())),
        (None, None) => bail!("{place}: a log in a bucket needs --vkey"),
    }
}

fn parse_time(s: &str) -> anyhow::Result<i64> {
    kos_scene::time::parse_local_datetime(s)
        .map_err(|e| anyhow!("{s:?} is not a time like 2026-06-21T12:00: {e}"))
}

/// Runs a `ledger` subcommand; the text to print.
pub fn run(cmd: &LedgerCommand) -> anyhow::Result<String> {
    match cmd {
        LedgerCommand::Verify {
            dir,
            vkey,
            witness,
            threshold,
        } => {
            let log = read_vkey(vkey)?;
            let witnesses = witness
                .iter()
                .map(|w| read_vkey(w))
                .collect::<anyhow::Result<Vec<_>>>()?;
            ensure!(
                *threshold <= witnesses.len(),
                "--threshold {threshold} is more than the {} witnesses given",
                witnesses.len()
            );
            let ok = verify::verify(&dir.reader()?, &log, &witnesses, *threshold)
                .map_err(|e| anyhow!("{dir}: {e}"))?;
            let cp = &ok.signed.checkpoint;
            let mut text = format!(
                "{dir}: ok: {} entries, {} tiles, root {} signed by {}",
                ok.entries,
                ok.tiles,
                kos_ledger::base64(&cp.root),
                log.name
            );
            for (name, t) in &ok.signed.cosigners {
                text.push_str(&format!("; cosigned by {name} at {t}"));
            }
            Ok(text)
        }
        LedgerCommand::Prove { dir, index, vkey } => {
            let log = default_vkey(dir, vkey.as_deref())?;
            let p =
                verify::prove(&dir.reader()?, &log, *index).map_err(|e| anyhow!("{dir}: {e}"))?;
            let out = json!({
                "index": p.index,
                "tree_size": p.checkpoint.size,
                "root": kos_ledger::base64(&p.checkpoint.root),
                "entry": String::from_utf8_lossy(&p.entry),
                "leaf_hash": kos_ledger::base64(&kos_ledger::hash::leaf_hash(&p.entry)),
                "proof": p.proof.iter().map(|h| kos_ledger::base64(h)).collect::<Vec<_>>(),
                "verified": true,
            });
            Ok(serde_json::to_string_pretty(&out)?)
        }
        LedgerCommand::Consistency { dir, old, vkey } => {
            let log = default_vkey(dir, vkey.as_deref())?;
            let old_bytes = std::fs::read(old).with_context(|| old.display().to_string())?;
            let (o, n, proof) = verify::consistency(&dir.reader()?, &log, &old_bytes)
                .map_err(|e| anyhow!("{dir}: {e}"))?;
            let out = json!({
                "old": { "size": o.size, "root": kos_ledger::base64(&o.root) },
                "new": { "size": n.size, "root": kos_ledger::base64(&n.root) },
                "proof": proof.iter().map(|h| kos_ledger::base64(h)).collect::<Vec<_>>(),
                "verified": true,
            });
            Ok(serde_json::to_string_pretty(&out)?)
        }
        LedgerCommand::Show {
            dir,
            asset,
            kind,
            from,
            to,
            json,
            vkey,
        } => {
            let log = default_vkey(dir, vkey.as_deref())?;
            let from = from.as_deref().map(parse_time).transpose()?;
            let to = to.as_deref().map(parse_time).transpose()?;
            let logdir = dir.reader()?;
            let cp = logdir
                .checkpoint(&log, &[], 0)
                .map_err(|e| anyhow!("{dir}: {e}"))?
                .checkpoint;
            let mut lines = Vec::new();
            for b in 0..cp.size.div_ceil(kos_ledger::tile::WIDTH) {
                let bundle = logdir
                    .bundle(b, cp.size)
                    .map_err(|e| anyhow!("{dir}: {e}"))?;
                for (k, bytes) in bundle.iter().enumerate() {
                    let index = b * kos_ledger::tile::WIDTH + k as u64;
                    let e = Entry::from_bytes(bytes)
                        .map_err(|e| anyhow!("{dir}: entry {index}: {e}"))?;
                    let keep = asset
                        .as_ref()
                        .is_none_or(|a| e.body.assets().contains(&a.as_str()))
                        && kind.as_ref().is_none_or(|k| e.body.kind() == k)
                        && from.is_none_or(|f| e.t >= f)
                        && to.is_none_or(|t| e.t <= t);
                    if !keep {
                        continue;
                    }
                    if *json {
                        lines.push(format!(
                            "{{\"index\":{index},\"entry\":{}}}",
                            String::from_utf8_lossy(bytes)
                        ));
                    } else {
                        lines.push(format!(
                            "{index:>8}  {}  {:<10}  {}",
                            kos_scene::time::format_datetime(e.t),
                            e.body.kind(),
                            e.body.describe()
                        ));
                    }
                }
            }
            Ok(lines.join("\n"))
        }
        LedgerCommand::Keygen { name, out, witness } => {
            let kind = if *witness { COSIGNATURE } else { ED25519 };
            let signer = NoteSigner::generate(name, kind)?;
            kos_ledger::keys::write_private(out, &signer)?;
            let vkey = signer.verifier_key();
            let vfile = kos_ledger::keys::vkey_path(out);
            std::fs::write(&vfile, format!("{vkey}\n"))
                .with_context(|| vfile.display().to_string())?;
            Ok(format!(
                "{vkey}\n(private key in {}, verifier key in {})",
                out.display(),
                vfile.display()
            ))
        }
        LedgerCommand::Cosign {
            dir,
            key,
            vkey,
            state,
            time,
        } => cosign(dir, key, vkey, state.as_deref(), *time),
    }
}

fn cosign(
    dir: &Path,
    key: &Path,
    vkey: &str,
    state: Option<&Path>,
    time: Option<u64>,
) -> anyhow::Result<String> {
    let log = read_vkey(vkey)?;
    let text = std::fs::read_to_string(key).with_context(|| key.display().to_string())?;
    let witness =
        NoteSigner::from_private_text(&text).map_err(|e| anyhow!("{}: {e}", key.display()))?;
    ensure!(
        witness.verifier().kind == COSIGNATURE,
        "{} is not a witness key (make one with `ledger keygen --witness`)",
        key.display()
    );
    let logdir = LogDir::new(dir);
    let path = dir.join(kos_ledger::log::CHECKPOINT);
    let bytes = std::fs::read(&path).with_context(|| path.display().to_string())?;
    // The whole log checks out before anything is signed.
    let ok =
        verify::verify(&logdir, &log, &[], 0).map_err(|e| anyhow!("{}: {e}", dir.display()))?;
    let state = state.map(Path::to_path_buf).unwrap_or_else(|| {
        let mut s = key.as_os_str().to_owned();
        s.push(format!(".{}.last", log.name.replace('/', "_")));
        PathBuf::from(s)
    });
    if let Ok(last) = std::fs::read(&state) {
        verify::consistency(&logdir, &log, &last).map_err(|e| {
            anyhow!(
                "the log does not extend the checkpoint last cosigned ({}): {e}",
                state.display()
            )
        })?;
    }
    let time = match time {
        Some(t) => t,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs(),
    };
    let mut note = Note::parse(&bytes)?;
    note.add_signature(witness.sign(&note.text, time)?);
    let signed = note.to_bytes();
    // Written only if the log did not move meanwhile.
    if std::fs::read(&path)? != bytes {
        bail!("the log's checkpoint changed while cosigning; run again");
    }
    let tmp = dir
        .join(kos_ledger::storage::PRIVATE_DIR)
        .join("cosign.tmp");
    std::fs::create_dir_all(tmp.parent().expect("a parent"))?;
    std::fs::write(&tmp, &signed)?;
    std::fs::rename(&tmp, &path)?;
    std::fs::write(&state, &bytes).with_context(|| state.display().to_string())?;
    Ok(format!(
        "{}: cosigned the checkpoint of size {} as {}",
        dir.display(),
        ok.signed.checkpoint.size,
        witness.name()
    ))
}
