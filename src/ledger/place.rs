//! Where a log lies: a directory on local disk, or a prefix of an S3-compatible bucket
//! (`s3://bucket/prefix`, with the `s3` cargo feature; credentials and region from the usual
//! `AWS_*` variables, an S3-compatible server's address from `KOS_S3_ENDPOINT`).

use std::path::PathBuf;

use anyhow::anyhow;
use kos_ledger::Storage;
use kos_ledger::verify::LogDir;

/// The environment variable naming an S3-compatible server (`http://127.0.0.1:9000`).
pub const ENDPOINT_ENV: &str = "KOS_S3_ENDPOINT";

/// A storage the ledger can own in a resource.
pub type BoxedStorage = Box<dyn Storage + Send + Sync>;

/// A log's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A local directory in the tiles layout.
    Dir(PathBuf),
    /// A prefix of an S3 bucket, in the same layout.
    S3 {
        /// The bucket.
        bucket: String,
        /// The prefix (no leading or trailing `/`; may be empty).
        prefix: String,
    },
}

impl std::str::FromStr for Place {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.strip_prefix("s3://") {
            Some(rest) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(format!("`{s}`: expected s3://BUCKET/PREFIX"));
                }
                Ok(Self::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                })
            }
            None if s.is_empty() => Err("an empty path".into()),
            None => Ok(Self::Dir(PathBuf::from(s))),
        }
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dir(d) => write!(f, "{}", d.display()),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl Place {
    /// The local directory, if the log is on local disk.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            Self::Dir(d) => Some(d),
            Self::S3 { .. } => None,
        }
    }

    /// The file beside a local log with this extension (`<dir>.vkey`); `None` for a bucket.
    pub fn beside(&self, extension: &str) -> Option<PathBuf> {
        self.dir().map(|d| kos_ledger::keys::beside(d, extension))
    }

    /// The storage a writer appends through (a local directory is locked against a second
    /// writer).
    pub fn storage(&self) -> anyhow::Result<BoxedStorage> {
        match self {
            Self::Dir(d) => Ok(Box::new(
                kos_ledger::DirStorage::new(d).map_err(|e| anyhow!("{self}: {e}"))?,
            )),
            Self::S3 { .. } => {
                #[cfg(feature = "s3")]
                return Ok(Box::new(self.s3()?));
                #[cfg(not(feature = "s3"))]
                return Err(self.no_s3());
            }
        }
    }

    /// A reader of the published log, for verification and proofs.
    pub fn reader(&self) -> anyhow::Result<LogDir> {
        match self {
            Self::Dir(d) => Ok(LogDir::new(d)),
            Self::S3 { .. } => {
                #[cfg(feature = "s3")]
                return self.s3()?.reader().map_err(|e| anyhow!("{self}: {e}"));
                #[cfg(not(feature = "s3"))]
                return Err(self.no_s3());
            }
        }
    }

    #[cfg(feature = "s3")]
    fn s3(&self) -> anyhow::Result<kos_ledger::object::ObjectStorage> {
        let Self::S3 { bucket, prefix } = self else {
            unreachable!("called for a bucket only");
        };
        let endpoint = std::env::var(ENDPOINT_ENV).ok();
        kos_ledger::object::ObjectStorage::s3(bucket, prefix, endpoint.as_deref())
            .map_err(|e| anyhow!("{self}: {e}"))
    }

    #[cfg(not(feature = "s3"))]
    fn no_s3(&self) -> anyhow::Error {
        anyhow!("{self}: this build has no S3 support (build kos-twin with `--features s3`)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_parse_from_paths_and_s3_urls() {
        assert_eq!(
            "ledger/".parse::<Place>(),
            Ok(Place::Dir(PathBuf::from("ledger/")))
        );
        assert_eq!(
            "s3://community/logs/aldermoor/".parse::<Place>(),
            Ok(Place::S3 {
                bucket: "community".into(),
                prefix: "logs/aldermoor".into()
            })
        );
        assert_eq!(
            "s3://community".parse::<Place>(),
            Ok(Place::S3 {
                bucket: "community".into(),
                prefix: String::new()
            })
        );
        assert!("s3:///x".parse::<Place>().is_err());
        assert!("".parse::<Place>().is_err());
    }
}
