//! What the log tests share: storage that fails where a test says.

use kos_ledger::Storage;
use std::io;

/// Storage that fails at one write step, and then at every later one (the process stopped).
pub struct Faulty<S: Storage> {
    pub inner: S,
    pub step: u64,
    pub fail_at: u64,
    /// Where to leave half of the failing write's data as a temporary file (the writer's
    /// temporary directory on local disk), as a crash in the middle of a write would.
    pub torn: Option<std::path::PathBuf>,
}

impl<S: Storage> Faulty<S> {
    pub fn step(&mut self) -> io::Result<()> {
        self.step += 1;
        if self.step >= self.fail_at {
            return Err(io::Error::other(format!(
                "injected failure at step {}",
                self.step
            )));
        }
        Ok(())
    }
}

impl<S: Storage> Storage for Faulty<S> {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        self.inner.read(path)
    }
    fn write_atomic(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        if self.step + 1 == self.fail_at
            && let Some(torn) = &self.torn
        {
            std::fs::write(torn.join("torn"), &data[..data.len() / 2])?;
        }
        self.step()?;
        self.inner.write_atomic(path, data)
    }
    fn remove(&mut self, path: &str) -> io::Result<()> {
        self.step()?;
        self.inner.remove(path)
    }
    fn sync(&mut self) -> io::Result<()> {
        self.step()?;
        self.inner.sync()
    }
    fn clean(&mut self) -> io::Result<()> {
        self.inner.clean()
    }
}
