//! Roots, inclusion proofs and consistency proofs of an RFC 6962 Merkle tree (RFC 6962 §2.1;
//! the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2), over any store that can
//! give the hash of a perfect subtree: tiles on disk, or hashes in memory.

use crate::Error;
use crate::hash::{Hash, empty_root, node_hash};

/// Where the hashes of perfect subtrees come from.
pub trait HashSource {
    /// The Merkle tree hash of the perfect subtree of `2^height` leaves starting at leaf
    /// `index * 2^height`.
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, Error>;
}

/// The largest power of two strictly below `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start..end]) for a range of the RFC's recursion: `start` is a multiple of the
/// smallest power of two at least `end - start`.
pub fn subtree_root(src: &mut dyn HashSource, start: u64, end: u64) -> Result<Hash, Error> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() {
        let height = n.trailing_zeros();
        return src.perfect(height, start >> height);
    }
    let k = split(n);
    let left = subtree_root(src, start, start + k)?;
    let right = subtree_root(src, start + k, end)?;
    Ok(node_hash(&left, &right))
}

/// The root of the tree of the first `size` leaves.
pub fn root(src: &mut dyn HashSource, size: u64) -> Result<Hash, Error> {
    subtree_root(src, 0, size)
}

/// The audit path of leaf `index` in the tree of `size` leaves, from the leaf up (RFC 6962
/// §2.1.1 PATH).
pub fn inclusion_proof(
    src: &mut dyn HashSource,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, Error> {
    if index >= size {
        return Err(Error::Proof(format!(
            "index {index} is not below the tree size {size}"
        )));
    }
    let mut proof = Vec::new();
    path(src, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path(
    src: &mut dyn HashSource,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split(n);
    if m < k {
        path(src, m, start, start + k, out)?;
        out.push(subtree_root(src, start + k, end)?);
    } else {
        path(src, m - k, start + k, end, out)?;
        out.push(subtree_root(src, start, start + k)?);
    }
    Ok(())
}

/// The proof that the tree of `old` leaves is a prefix of the tree of `new` leaves (RFC 6962
/// §2.1.2 PROOF).
pub fn consistency_proof(src: &mut dyn HashSource, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
    if old > new {
        return Err(Error::Proof(format!(
            "the old size {old} is above the new size {new}"
        )));
    }
    let mut proof = Vec::new();
    if old > 0 && old < new {
        subproof(src, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof(
    src: &mut dyn HashSource,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), Error> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(subtree_root(src, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, start, start + k, whole, out)?;
        out.push(subtree_root(src, start + k, end)?);
    } else {
        subproof(src, m - k, start + k, end, false, out)?;
        out.push(subtree_root(src, start, start + k)?);
    }
    Ok(())
}

/// Checks an audit path (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    if index >= size {
        return Err(Error::Proof(format!(
            "index {index} is not below the tree size {size}"
        )));
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(Error::Proof("the inclusion proof is too long".into()));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::Proof("the inclusion proof is too short".into()));
    }
    if &r != root {
        return Err(Error::Proof(
            "the inclusion proof does not lead to the root".into(),
        ));
    }
    Ok(())
}

/// Checks a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), Error> {
    if old_size > new_size {
        return Err(Error::Proof(format!(
            "the old size {old_size} is above the new size {new_size}"
        )));
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(Error::Proof(
                "a consistency proof between these sizes must be empty".into(),
            ));
        }
        if old_size == new_size && old_root != new_root {
            return Err(Error::Proof(format!(
                "two different roots for the tree size {old_size}"
            )));
        }
        return Ok(());
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(Error::Proof("the consistency proof is empty".into()));
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(Error::Proof("the consistency proof is too long".into()));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(Error::Proof("the consistency proof is too short".into()));
    }
    if &fr != old_root {
        return Err(Error::Proof(
            "the consistency proof does not lead to the old root".into(),
        ));
    }
    if &sr != new_root {
        return Err(Error::Proof(
            "the consistency proof does not lead to the new root".into(),
        ));
    }
    Ok(())
}

/// Every leaf hash in memory, with every level above it: the reference store for tests, and
/// for small trees.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self {
            levels: vec![Vec::new()],
        }
    }

    pub fn push(&mut self, leaf: Hash) {
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len() % 2 == 0 {
            let n = self.levels[level].len();
            let parent = node_hash(&self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }
}

impl HashSource for MemoryTree {
    fn perfect(&mut self, height: u32, index: u64) -> Result<Hash, Error> {
        self.levels
            .get(height as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or_else(|| Error::Proof(format!("no subtree of height {height} at {index}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        t
    }

    #[test]
    fn every_proof_of_small_trees_verifies_and_a_changed_one_does_not() {
        for size in 1..=40u64 {
            let mut t = tree(size);
            let r = root(&mut t, size).unwrap();
            for i in 0..size {
                let p = inclusion_proof(&mut t, i, size).unwrap();
                let leaf = leaf_hash(&i.to_be_bytes());
                verify_inclusion(&leaf, i, size, &p, &r).unwrap();
                assert!(
                    verify_inclusion(&leaf, (i + 1) % size, size, &p, &r).is_err() || size == 1
                );
                if let Some(first) = p.first() {
                    let mut bad = p.clone();
                    bad[0] = node_hash(first, first);
                    assert!(verify_inclusion(&leaf, i, size, &bad, &r).is_err());
                }
            }
            for old in 0..=size {
                let old_root = root(&mut t, old).unwrap();
                let p = consistency_proof(&mut t, old, size).unwrap();
                verify_consistency(old, size, &old_root, &r, &p).unwrap();
                if old > 0 && old < size {
                    let other = leaf_hash(b"not the root");
                    assert!(verify_consistency(old, size, &other, &r, &p).is_err());
                    assert!(verify_consistency(old, size, &old_root, &other, &p).is_err());
                    assert!(
                        verify_consistency(old, size, &old_root, &r, &p[..p.len() - 1]).is_err()
                    );
                }
            }
        }
    }
}
