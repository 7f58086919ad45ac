//! The log on S3-compatible object storage (the `object-store` feature): the same tiles layout,
//! through the `object_store` crate, so that a community's ledger can be published from a
//! bucket as it lies.
//!
//! Object stores write whole objects atomically and durably before a put returns, so the
//! writer's steps map directly: `write_atomic` is one put, `sync` has nothing left to do, and
//! there are no temporary files to clean. The staging object under `.kos-ledger/` is the
//! commit point, as on disk. One writer per prefix: an object store has no lock that a
//! crashed writer releases, so running two writers on one prefix is the operator's error.

use crate::Error;
use crate::storage::Storage;
use crate::verify::LogDir;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::io;
use std::sync::Arc;

/// A log under a prefix of an object store.
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectStorage({}/{})", self.store, self.prefix)
    }
}

fn io_err(e: object_store::Error) -> io::Error {
    let kind = match e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e.to_string())
}

impl ObjectStorage {
    /// A log under `prefix` (no leading or trailing `/`) of `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            store,
            prefix: prefix.trim_matches('/').to_string(),
            runtime,
        })
    }

    /// An S3 bucket (or an S3-compatible server at `endpoint`, e.g. `http://127.0.0.1:9000`),
    /// with credentials and region from the usual `AWS_*` environment variables.
    pub fn s3(bucket: &str, prefix: &str, endpoint: Option<&str>) -> io::Result<Self> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        Self::from_s3(b, prefix)
    }

    /// A log under `prefix` of the bucket `builder` describes.
    pub fn from_s3(builder: AmazonS3Builder, prefix: &str) -> io::Result<Self> {
        // TLS through rustls with ring, set before the client is built (once per process).
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self::new(Arc::new(builder.build().map_err(io_err)?), prefix)
    }

    fn path(&self, path: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(path)
        } else {
            Path::from(format!("{}/{path}", self.prefix))
        }
    }

    /// A reader of the published log, for verification and proofs.
    pub fn reader(&self) -> io::Result<LogDir> {
        let me = Self::new(Arc::clone(&self.store), &self.prefix)?;
        let name = format!("{}/{}", self.store, self.prefix);
        Ok(LogDir::from_reader(name, move |p| {
            me.read(p)?.ok_or_else(|| Error::Corrupt {
                what: p.into(),
                why: "missing".into(),
            })
        }))
    }
}

impl Storage for ObjectStorage {
    fn read(&self, path: &str) -> io::Result<Option<Vec<u8>>> {
        let p = self.path(path);
        self.runtime.block_on(async {
            match self.store.get(&p).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(io_err)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io_err(e)),
            }
        })
    }

    fn write_atomic(&mut self, path: &str, data: &[u8]) -> io::Result<()> {
        let p = self.path(path);
        let payload = PutPayload::from(data.to_vec());
        self.runtime
            .block_on(self.store.put(&p, payload))
            .map(|_| ())
            .map_err(io_err)
    }

    fn remove(&mut self, path: &str) -> io::Result<()> {
        let p = self.path(path);
        match self.runtime.block_on(self.store.delete(&p)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn clean(&mut self) -> io::Result<()> {
        Ok(())
    }
}
