//! The log's signing key on disk: created on first use, readable by its owner only, never
//! printed. Its verifier key is written beside it, for anyone.

use crate::Error;
use crate::note::NoteSigner;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file beside a log directory (or a key file): the path with `.<extension>` appended
/// (`ledger/` and `vkey` give `ledger.vkey`).
pub fn beside(path: &Path, extension: &str) -> PathBuf {
    let mut s = path.components().as_path().as_os_str().to_owned();
    s.push(".");
    s.push(extension);
    PathBuf::from(s)
}

/// Where a log's (or a key's) verifier key is stored: `<path>.vkey`.
pub fn vkey_path(path: &Path) -> PathBuf {
    beside(path, "vkey")
}

/// Reads the private key in `path`, or creates one named `name` (type `kind`) there with
/// owner-only permissions. Returns the signer and whether it was created.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_or_create(path: &Path, name: &str, kind: u8) -> Result<(NoteSigner, bool), Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_private(path)?;
            let signer = NoteSigner::from_private_text(&text)
                .map_err(|e| Error::Key(format!("{}: {e}", path.display())))?;
            Ok((signer, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let signer = NoteSigner::generate(name, kind)?;
            write_private(path, &signer)?;
            Ok((signer, true))
        }
        Err(e) => Err(Error::Io(e)),
    }
}

/// Writes a private key to a new file readable by its owner only; an existing file is
/// never overwritten.
pub fn write_private(path: &Path, signer: &NoteSigner) -> Result<(), Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| Error::Key(format!("{}: {e}", path.display())))?;
    f.write_all(signer.to_private_text().as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// A private key file others can read is refused.
fn check_private(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(Error::Key(format!(
                "{}: the private key is readable by others (mode {:o}); chmod 600 it",
                path.display(),
                mode & 0o777
            )));
        }
    }
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::ED25519;

    #[test]
    fn a_key_is_created_once_for_its_owner_and_read_back() {
        let dir = std::env::temp_dir().join(format!("kos-ledger-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("log.key");
        let (a, created) = load_or_create(&path, "twin.example/log", ED25519).unwrap();
        assert!(created);
        let (b, created) = load_or_create(&path, "other.name", ED25519).unwrap();
        assert!(!created);
        assert_eq!(a.verifier_key(), b.verifier_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(load_or_create(&path, "twin.example/log", ED25519).is_err());
        }
        assert!(write_private(&path, &a).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
