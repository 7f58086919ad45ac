//! Where a log lies: a directory on local disk in exactly the tiles layout, behind a small
//! interface that tests wrap to inject failures at every write.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Private files of the writer, beside the published layout (a static server may hide them).
pub const PRIVATE_DIR: &str = ".kos-ledger";

/// The operations an append needs. Paths are relative, with `/` separators.
pub trait Storage {
    /// The file's bytes, or `None` when there is none.
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>>;
    /// Replaces the file with `data` so that a crash leaves the old or the new bytes, never a
    /// mix: a temporary file, written and synced, then renamed.
    fn write_atomic(&mut self, path: &str, data: &[u8]) -> io::Result<()>;
    fn remove(&mut self, path: &str) -> io::Result<()>;
    /// Makes the renames and removals done so far durable.
    fn sync(&mut self) -> io::Result<()>;
    /// Removes what an interrupted write left behind.
    fn clean(&mut self) -> io::Result<()>;
}

/// A boxed storage is a storage: the twin picks a directory or a bucket at run time.
impl<S: Storage + ?Sized> Storage for Box<S> {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        (**self).read(path)
    }
    fn write_atomic(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        (**self).write_atomic(path, data)
    }
    fn remove(&mut self, path: &str) -> io::Result<()> {
        (**self).remove(path)
    }
    fn sync(&mut self) -> io::Result<()> {
        (**self).sync()
    }
    fn clean(&mut self) -> io::Result<()> {
        (**self).clean()
    }
}

/// A directory on local disk, locked against a second writer while this one lives.
#[derive(Debug)]
pub struct DirStorage {
    root: PathBuf,
    dirty: BTreeSet<PathBuf>,
    counter: u64,
    _lock: File,
}

impl DirStorage {
    /// Opens (creating) the directory; fails when another writer has it open.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(root.join(PRIVATE_DIR).join("tmp"))?;
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join(PRIVATE_DIR).join("lock"))?;
        lock.try_lock().map_err(|e| match e {
            fs::TryLockError::WouldBlock => io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{}: another writer has this log open", root.display()),
            ),
            fs::TryLockError::Error(e) => e,
        })?;
        Ok(Self {
            root,
            dirty: BTreeSet::new(),
            counter: 0,
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: &str) -> io::Result<PathBuf> {
        if path.is_empty()
            || path.starts_with('/')
            || path
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a relative path: {path:?}"),
            ));
        }
        Ok(self.root.join(path))
    }

    /// A temporary file's path (in the private directory, on the same file system).
    pub fn temp_path(&mut self) -> PathBuf {
        self.counter += 1;
        self.root.join(PRIVATE_DIR).join("tmp").join(format!(
            "{}-{}",
            std::process::id(),
            self.counter
        ))
    }
}

impl Storage for DirStorage {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match fs::read(self.full(path)?) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn write_atomic(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        let target = self.full(path)?;
        let parent = target
            .parent()
            .expect("a path below the root")
            .to_path_buf();
        if !parent.is_dir() {
            fs::create_dir_all(&parent)?;
            // The new directories' own entries must be durable too.
            let mut p = parent.as_path();
            while let Some(up) = p.parent() {
                self.dirty.insert(up.to_path_buf());
                if up == self.root {
                    break;
                }
                p = up;
            }
        }
        let temp = self.temp_path();
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&temp, &target)?;
        self.dirty.insert(parent);
        Ok(())
    }

    fn remove(&mut self, path: &str) -> io::Result<()> {
        let target = self.full(path)?;
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        self.dirty.insert(
            target
                .parent()
                .expect("a path below the root")
                .to_path_buf(),
        );
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        for dir in std::mem::take(&mut self.dirty) {
            // Directories can be opened and synced on Unix; elsewhere renames are as durable
            // as the platform makes them.
            #[cfg(unix)]
            File::open(&dir)?.sync_all()?;
            #[cfg(not(unix))]
            let _ = dir;
        }
        Ok(())
    }

    fn clean(&mut self) -> io::Result<()> {
        let tmp = self.root.join(PRIVATE_DIR).join("tmp");
        for e in fs::read_dir(&tmp)? {
            fs::remove_file(e?.path())?;
        }
        Ok(())
    }
}
