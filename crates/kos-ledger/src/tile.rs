//! C2SP tlog-tiles: tiles of height 8 (256 hashes), their paths, and hashes read from them.

use crate::Error;
use crate::hash::{Hash, perfect_root};
use crate::tree::HashSource;
use std::collections::HashMap;

/// Tile height: each tile spans 8 levels of the tree.
pub const HEIGHT: u32 = 8;
/// Hashes in a full tile (and entries in a full bundle).
pub const WIDTH: u64 = 1 << HEIGHT;

/// A tile of hashes (`level` 0..=63) or, with `level` `None`, an entry bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Tile level, or `None` for an entry bundle.
    pub level: Option<u8>,
    /// Index of the tile within its level.
    pub index: u64,
    /// Number of hashes (or entries): 256 for a full tile, 1..=255 for a partial one.
    pub width: u16,
}

impl Tile {
    /// The path of the tile below the log's prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        let level = match self.level {
            Some(l) => l.to_string(),
            None => "entries".to_string(),
        };
        let mut p = format!("tile/{level}/{}", index_path(self.index));
        if u64::from(self.width) < WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    pub fn is_full(&self) -> bool {
        u64::from(self.width) == WIDTH
    }

    /// The tile of `level` that holds hash `n` of that level, as published for a tree of
    /// `size` leaves (full, or the partial tile of that size).
    pub fn containing(level: Option<u8>, n: u64, size: u64) -> Tile {
        let l = u32::from(level.unwrap_or(0));
        let index = n / WIDTH;
        let hashes = level_len(l, size);
        let full = hashes / WIDTH;
        let width = if index < full { WIDTH } else { hashes % WIDTH };
        Tile {
            level,
            index,
            width: width as u16,
        }
    }
}

/// Number of hashes at tile level `l` of a tree of `size` leaves (hashes of full subtrees of
/// 256^l leaves).
pub fn level_len(l: u32, size: u64) -> u64 {
    let shift = HEIGHT * l;
    if shift >= 64 { 0 } else { size >> shift }
}

/// Every tile and bundle a tree of `size` leaves publishes: the full ones and the partial
/// ones of this size.
pub fn tiles_for_size(size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    for level in std::iter::once(None).chain((0..64u8).map(Some)) {
        let hashes = level_len(u32::from(level.unwrap_or(0)), size);
        if hashes == 0 {
            break;
        }
        for index in 0..hashes / WIDTH {
            tiles.push(Tile {
                level,
                index,
                width: WIDTH as u16,
            });
        }
        if hashes % WIDTH > 0 {
            tiles.push(Tile {
                level,
                index: hashes / WIDTH,
                width: (hashes % WIDTH) as u16,
            });
        }
    }
    tiles
}

/// The tile index as path elements: three-digit groups, all but the last prefixed with `x`
/// (1234067 is `x001/x234/067`).
pub fn index_path(mut n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    n /= 1000;
    while n > 0 {
        groups.push(format!("x{:03}", n % 1000));
        n /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// Splits a tile's bytes into hashes; the length must be `width` hashes.
pub fn parse_hashes(tile: &Tile, bytes: &[u8]) -> Result<Vec<Hash>, Error> {
    if bytes.len() != usize::from(tile.width) * 32 {
        return Err(Error::Corrupt {
            what: tile.path(),
            why: format!(
                "{} bytes, a tile of width {} has {}",
                bytes.len(),
                tile.width,
                usize::from(tile.width) * 32
            ),
        });
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32-byte chunk"))
        .collect())
}

/// Splits an entry bundle into its entries (each prefixed by a big-endian 16-bit length).
pub fn parse_bundle(tile: &Tile, bytes: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let mut entries = Vec::with_capacity(usize::from(tile.width));
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(Error::Corrupt {
                what: tile.path(),
                why: "truncated length prefix".into(),
            });
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len {
            return Err(Error::Corrupt {
                what: tile.path(),
                why: format!(
                    "entry {} is truncated",
                    tile.index * WIDTH + entries.len() as u64
                ),
            });
        }
        entries.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    if entries.len() != usize::from(tile.width) {
        return Err(Error::Corrupt {
            what: tile.path(),
            why: format!(
                "{} entries in a bundle of width {}",
                entries.len(),
                tile.width
            ),
        });
    }
    Ok(entries)
}

/// Appends one entry to a bundle.
pub fn push_bundle_entry(bundle: &mut Vec<u8>, entry: &[u8]) -> Result<(), Error> {
    let len = u16::try_from(entry.len()).map_err(|_| {
        Error::Entry(format!(
            "an entry of {} bytes is over the 65,535 a bundle holds",
            entry.len()
        ))
    })?;
    bundle.extend_from_slice(&len.to_be_bytes());
    bundle.extend_from_slice(entry);
    Ok(())
}

/// Reads tiles through a function and caches them: the hashes of a tree of `size` leaves.
pub struct TileHashes<F: FnMut(&Tile) -> Result<Vec<u8>, Error>> {
    read: F,
    size: u64,
    cache: HashMap<Tile, Vec<Hash>>,
}

impl<F: FnMut(&Tile) -> Result<Vec<u8>, Error>> TileHashes<F> {
    pub fn new(size: u64, read: F) -> Self {
        Self {
            read,
            size,
            cache: HashMap::new(),
        }
    }

    fn tile(&mut self, tile: Tile) -> Result<&Vec<Hash>, Error> {
        if !self.cache.contains_key(&tile) {
            let bytes = (self.read)(&tile)?;
            let hashes = parse_hashes(&tile, &bytes)?;
            self.cache.insert(tile, hashes);
        }
        Ok(&self.cache[&tile])
    }
}

impl<F: FnMut(&Tile) -> Result<Vec<u8>, Error>> HashSource for TileHashes<F> {
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, Error> {
        let level = height / HEIGHT;
        let span = 1u64 << (height % HEIGHT);
        let first = index * span;
        if level > 63 || (first + span) > level_len(level, self.size) {
            return Err(Error::Proof(format!(
                "the subtree of height {height} at {index} is not in the tree of size {}",
                self.size
            )));
        }
        let tile = Tile::containing(Some(level as u8), first, self.size);
        let at = (first % WIDTH) as usize;
        let hashes = self.tile(tile)?;
        Ok(perfect_root(&hashes[at..at + span as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paths_are_the_specifications() {
        // C2SP tlog-tiles: index 1234067 is encoded as x001/x234/067.
        assert_eq!(index_path(1234067), "x001/x234/067");
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
        let t = Tile {
            level: Some(0),
            index: 1234067,
            width: 256,
        };
        assert_eq!(t.path(), "tile/0/x001/x234/067");
        let t = Tile {
            level: None,
            index: 1234067,
            width: 8,
        };
        assert_eq!(t.path(), "tile/entries/x001/x234/067.p/8");
    }

    #[test]
    fn a_tree_of_70000_has_the_tiles_the_specification_lists() {
        // "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial
        // level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width
        // 17, and one partial level 2 tile of width 1."
        let tiles = tiles_for_size(70_000);
        let count = |level: Option<u8>, full: bool| {
            tiles
                .iter()
                .filter(|t| t.level == level && t.is_full() == full)
                .count()
        };
        assert_eq!(count(Some(0), true), 273);
        assert_eq!(count(Some(1), true), 1);
        assert_eq!(count(Some(2), true), 0);
        let partial = |level| {
            tiles
                .iter()
                .find(|t: &&Tile| t.level == Some(level) && !t.is_full())
                .map(|t| t.width)
        };
        assert_eq!(partial(0), Some(112));
        assert_eq!(partial(1), Some(17));
        assert_eq!(partial(2), Some(1));
        assert_eq!(count(None, true), 273);
        assert_eq!(
            tiles
                .iter()
                .filter(|t| t.level.is_none() && !t.is_full())
                .count(),
            1
        );
        // "a tree of size 256 will be represented by a full level 0 tile and a partial level
        // 1 tile of width 1."
        let tiles = tiles_for_size(256);
        assert_eq!(
            tiles,
            vec![
                Tile {
                    level: None,
                    index: 0,
                    width: 256
                },
                Tile {
                    level: Some(0),
                    index: 0,
                    width: 256
                },
                Tile {
                    level: Some(1),
                    index: 0,
                    width: 1
                },
            ]
        );
        assert!(tiles_for_size(0).is_empty());
    }

    #[test]
    fn a_bundle_reads_back_what_was_written_and_rejects_a_truncated_one() {
        let mut b = Vec::new();
        for e in [&b"a"[..], b"", b"longer entry"] {
            push_bundle_entry(&mut b, e).unwrap();
        }
        let t = Tile {
            level: None,
            index: 0,
            width: 3,
        };
        assert_eq!(
            parse_bundle(&t, &b).unwrap(),
            vec![b"a".to_vec(), vec![], b"longer entry".to_vec()]
        );
        assert!(parse_bundle(&t, &b[..b.len() - 1]).is_err());
        assert!(parse_bundle(&Tile { width: 4, ..t }, &b).is_err());
        assert!(push_bundle_entry(&mut b, &vec![0; 70_000]).is_err());
    }
}
