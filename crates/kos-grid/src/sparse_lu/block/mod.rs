//! Sparse LU of matrices made of 2 x 2 blocks on a fixed block pattern: the Newton-Raphson
//! Jacobian in polar form, whose block `(i, k)` is `[dP_i/dθ_k, dP_i/d|V_k|; dQ_i/dθ_k,
//! dQ_i/d|V_k|]` wherever the admittance matrix has an entry.
//!
//! The blocks are ordered by faer's approximate minimum degree on the bus graph, and the
//! diagonal blocks are the pivots, so the patterns of L and U are those of the Cholesky factor
//! of the block pattern (from its elimination tree). The numeric factorisation is
//! left-looking, one block column at a time, and each update is one 2 x 2 product: one index
//! per eight multiply-adds where a scalar factorisation reads one per multiply-add, which is
//! what bounds the scalar one on these very sparse matrices. The values are stored in the
//! order the factorisation reads them.
//!
//! Threshold pivoting's test, on blocks: a diagonal block that is singular, or that would make
//! a multiplier of L larger than `1 / PIVOT_TOLERANCE`, stops the block factorisation, and the
//! matrix is factorised entry by entry by [`PatternLu`] instead (diagonal pivots in its own
//! order, then faer's LU with partial pivoting). The next factorisation tries the blocks again.

mod kernels;
mod solves;
mod split;

use kernels::{Factors, ZERO};
use split::{Split, TopCols, TopRows};

use super::{PIVOT_TOLERANCE, PatternLu, amd_order, cholesky_pattern};
use crate::GridError;
use crate::aligned::Aligned;
use crate::team::Team;

/// Least estimated work (block updates and the like, `Split::total`) worth two threads: the
/// join costs some microseconds.
const MIN_SPLIT_WORK: u64 = 100_000;

/// Least estimated speed-up worth two threads.
const MIN_SPLIT_GAIN: f64 = 1.2;

/// A 2 x 2 block, row-major: `[a00, a01, a10, a11]`.
pub type Block = [f64; 4];

/// Blocks on cache lines.
pub(crate) type Blocks = crate::aligned::Aligned<Block>;

/// The symbolic part: order, and patterns of A, L and U.
pub(super) struct Pattern {
    nb: usize,
    /// Original block of each pivot position.
    perm: Vec<u32>,
    /// A's blocks are stored by pivot column (each column's range in `a_ptr`), with their
    /// pivot-order rows in `a_row`; block `p` of the pattern as given is stored at
    /// `stored[p]`.
    a_ptr: Vec<usize>,
    a_row: Vec<u32>,
    stored: Vec<usize>,
    /// Strictly lower part of L (identity diagonal blocks implied), by column, rows
    /// ascending.
    l_ptr: Vec<usize>,
    l_idx: Vec<u32>,
    /// Strictly upper part of U, by column, rows ascending.
    u_ptr: Vec<usize>,
    u_idx: Vec<u32>,
    /// The columns shared between two threads, and the solves' view of them.
    split: Split,
    top_rows: TopRows,
    top_cols: TopCols,
}

impl Pattern {
    /// The pattern with pivots in the order `fwd` (pivot position to block), `inv` its
    /// inverse.
    fn new(
        nb: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        (fwd, inv): (Vec<usize>, Vec<usize>),
    ) -> Result<Self, GridError> {
        let (parent, l_cols) = cholesky_pattern(&permuted_upper(col_ptr, row_idx, &inv));
        let mut u_cols: Vec<Vec<u32>> = vec![Vec::new(); nb];
        for (j, col) in l_cols.iter().enumerate() {
            for &k in col {
                u_cols[k].push(j as u32);
            }
        }
        let (u_ptr, u_idx) = flatten(u_cols);
        let (l_ptr, l_idx) = flatten(
            l_cols
                .into_iter()
                .map(|c| c.into_iter().map(|i| i as u32).collect())
                .collect(),
        );
        let mut a_ptr = Vec::with_capacity(nb + 1);
        let mut a_row = Vec::with_capacity(row_idx.len());
        let mut stored = vec![0; row_idx.len()];
        a_ptr.push(0);
        for &c in &fwd {
            for p in col_ptr[c]..col_ptr[c + 1] {
                stored[p] = a_row.len();
                a_row.push(inv[row_idx[p]] as u32);
            }
            a_ptr.push(a_row.len());
        }
        // A column's work: its updates (each the length of the column of L it reads), its
        // multipliers, and the entries it gathers.
        let len = |ptr: &[usize], j: usize| (ptr[j + 1] - ptr[j]) as u64;
        let work: Vec<u64> = (0..nb)
            .map(|k| {
                let updates: u64 = u_idx[u_ptr[k]..u_ptr[k + 1]]
                    .iter()
                    .map(|&j| 1 + len(&l_ptr, j as usize))
                    .sum();
                updates + len(&l_ptr, k) + len(&a_ptr, k) + 1
            })
            .collect();
        // A column's share of the top's work: its updates of the top's columns.
        let share = |in_top: &[bool]| {
            let mut share = vec![0u64; nb];
            for k in (0..nb).filter(|&k| in_top[k]) {
                for &j in &u_idx[u_ptr[k]..u_ptr[k + 1]] {
                    let j = j as usize;
                    if !in_top[j] {
                        share[j] += 1 + len(&l_ptr, j);
                    }
                }
            }
            share
        };
        let split = split::split(&parent, &work, share);
        let top_rows = TopRows::new(&split, &l_ptr, &l_idx);
        let top_cols = TopCols::new(&split, (&l_ptr, &l_idx), (&u_ptr, &u_idx));
        Ok(Self {
            nb,
            split,
            top_rows,
            top_cols,
            perm: fwd.iter().map(|&c| c as u32).collect(),
            a_ptr,
            a_row,
            stored,
            l_ptr,
            l_idx,
            u_ptr,
            u_idx,
        })
    }
}

/// Strict upper triangle of `A + A^T` under the order `inv` (old to new), by column.
fn permuted_upper(col_ptr: &[usize], row_idx: &[usize], inv: &[usize]) -> Vec<Vec<usize>> {
    let nb = inv.len();
    let mut upper: Vec<Vec<usize>> = vec![Vec::new(); nb];
    for c in 0..nb {
        for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
            let (pr, pc) = (inv[r], inv[c]);
            if pr != pc {
                upper[pr.max(pc)].push(pr.min(pc));
            }
        }
    }
    upper
}

fn flatten(cols: Vec<Vec<u32>>) -> (Vec<usize>, Vec<u32>) {
    let mut ptr = Vec::with_capacity(cols.len() + 1);
    let mut idx = Vec::new();
    ptr.push(0);
    for col in cols {
        idx.extend_from_slice(&col);
        ptr.push(idx.len());
    }
    (ptr, idx)
}

/// The entry-by-entry form of the block matrix, for the fallback factorisation.
struct Scalar {
    lu: PatternLu,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    val: Vec<f64>,
    /// Block position (in the stored order) and entry of each scalar entry.
    from: Vec<(u32, u8)>,
}

impl Scalar {
    /// Scalar columns `2c` and `2c + 1` of block column `c`; rows stay sorted. Block `p` of
    /// the pattern is stored at `stored[p]`.
    fn new(
        nb: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        stored: &[usize],
    ) -> Result<Self, GridError> {
        let mut s_ptr = Vec::with_capacity(2 * nb + 1);
        let mut s_idx = Vec::with_capacity(4 * row_idx.len());
        let mut from = Vec::with_capacity(4 * row_idx.len());
        s_ptr.push(0);
        for c in 0..nb {
            for half in 0..2u8 {
                for p in col_ptr[c]..col_ptr[c + 1] {
                    let r = row_idx[p];
                    s_idx.push(2 * r);
                    from.push((stored[p] as u32, half));
                    s_idx.push(2 * r + 1);
                    from.push((stored[p] as u32, 2 + half));
                }
                s_ptr.push(s_idx.len());
            }
        }
        Ok(Self {
            lu: PatternLu::new(2 * nb, &s_ptr, &s_idx)?,
            val: vec![0.0; s_idx.len()],
            col_ptr: s_ptr,
            row_idx: s_idx,
            from,
        })
    }

    fn factor(&mut self, val: &[Block]) -> bool {
        for (v, &(p, e)) in self.val.iter_mut().zip(&self.from) {
            *v = val[p as usize][e as usize];
        }
        self.lu.factor(&self.col_ptr, &self.row_idx, &self.val)
    }
}

/// LU factors of a square sparse matrix of 2 x 2 blocks with a fixed block pattern.
pub struct BlockLu {
    p: Pattern,
    /// The block pattern as given (for the fallback).
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    f: Factors,
    /// Work vectors of the factorisation, one a thread (all zero between factorisations).
    work: Blocks,
    work2: Blocks,
    /// The parts' sums on the top's columns (see `kernels::factor_split`).
    sums: [Blocks; 2],
    /// The parts' sums on the top's rows in the forward solve (see `solves::solve_split`;
    /// all zero between solves).
    z: [Aligned<[f64; 2]>; 2],
    rhs: Aligned<[f64; 2]>,
    scalar: Option<Scalar>,
    /// The factors in use are the fallback's.
    scalar_in_use: bool,
}

impl BlockLu {
    /// Prepares the factorisation of matrices with the block pattern (`col_ptr`, `row_idx`)
    /// of `nb` x `nb` blocks (rows sorted within columns, every diagonal block present).
    pub fn new(nb: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Self, GridError> {
        Self::ordered(nb, col_ptr, row_idx, false)
    }

    /// [`BlockLu::new`] with the pivots in the blocks' own order, for a pattern already laid
    /// out in an order such as [`BlockLu::elimination_order`] gives.
    pub fn in_own_order(
        nb: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
    ) -> Result<Self, GridError> {
        Self::ordered(nb, col_ptr, row_idx, true)
    }

    /// Pivots in faer's AMD order, or with `own` in the blocks' order.
    fn ordered(
        nb: usize,
        col_ptr: &[usize],
        row_idx: &[usize],
        own: bool,
    ) -> Result<Self, GridError> {
        if row_idx.len() >= u32::MAX as usize / 4 {
            return Err(GridError::Numerical(format!(
                "matrix too large: {} blocks",
                row_idx.len()
            )));
        }
        let order = if own {
            ((0..nb).collect(), (0..nb).collect())
        } else {
            amd_order(nb, col_ptr, row_idx)?
        };
        let p = Pattern::new(nb, col_ptr, row_idx, order)?;
        Ok(Self {
            f: Factors {
                l_val: Blocks::zeros(p.l_idx.len()),
                u_val: Blocks::zeros(p.u_idx.len()),
                d_inv: Blocks::zeros(nb),
            },
            work: Blocks::zeros(nb),
            work2: Blocks::default(),
            sums: [Blocks::default(), Blocks::default()],
            z: [Aligned::default(), Aligned::default()],
            rhs: Aligned::zeros(nb),
            col_ptr: col_ptr.to_vec(),
            row_idx: row_idx.to_vec(),
            p,
            scalar: None,
            scalar_in_use: false,
        })
    }

    /// Number of blocks of L and U below and above the diagonal.
    pub fn factor_blocks(&self) -> (usize, usize) {
        (self.p.l_idx.len(), self.p.u_idx.len())
    }

    /// Whether the factorisation gains from two threads: enough work, and enough of it in
    /// independent subtrees of the elimination tree.
    pub fn splits(&self) -> bool {
        let s = &self.p.split;
        s.total >= MIN_SPLIT_WORK && s.gain() >= MIN_SPLIT_GAIN
    }

    /// Whether the factors in use are the entry-by-entry fallback's.
    pub fn uses_fallback(&self) -> bool {
        self.scalar_in_use
    }

    /// Where each block of the pattern (in the order given to [`BlockLu::new`]) goes in the
    /// values [`BlockLu::factor`] takes: the factorisation's own order, so that it reads
    /// them in sequence.
    pub fn positions(&self) -> &[usize] {
        &self.p.stored
    }

    /// An order of the blocks with the fill of the pivot order (every column of the
    /// elimination tree still after its descendants) in which the columns of each thread of
    /// a split factorisation are contiguous: the first part's, the second's, then the top's,
    /// each in pivot order (the pivot order itself when the factorisation does not split).
    /// Blocks laid out in it (see [`BlockLu::in_own_order`]) lie near the blocks they share
    /// a row or a column with, and a thread that fills the rows of its part fills the
    /// columns it factorises: the parts share no entry.
    pub fn elimination_order(&self) -> Vec<usize> {
        let p = &self.p;
        if self.splits() {
            let s = &p.split;
            let parts = s.parts[0].iter().chain(&s.parts[1]).chain(&s.top);
            parts.map(|&k| p.perm[k as usize] as usize).collect()
        } else {
            p.perm.iter().map(|&b| b as usize).collect()
        }
    }

    /// The blocks `val`, in the pattern's order, in the factorisation's order.
    pub fn arrange(&self, val: &[Block]) -> Vec<Block> {
        let mut out = vec![ZERO; val.len()];
        for (&q, &v) in self.p.stored.iter().zip(val) {
            out[q] = v;
        }
        out
    }

    /// Factorises the matrix whose blocks are `val`, in the factorisation's order (see
    /// [`BlockLu::positions`]). Returns false when it is singular.
    pub fn factor(&mut self, val: &[Block]) -> bool {
        self.factor_with(val, None)
    }

    /// [`BlockLu::factor`], on a team of two threads when one is given and the matrix gains
    /// from it ([`BlockLu::splits`]): the same factors, bit for bit.
    pub fn factor_with(&mut self, val: &[Block], team: Option<&Team>) -> bool {
        if self.factor_blocks_in_place(val, team) {
            self.scalar_in_use = false;
            return true;
        }
        if self.scalar.is_none() {
            match Scalar::new(self.p.nb, &self.col_ptr, &self.row_idx, &self.p.stored) {
                Ok(s) => self.scalar = Some(s),
                Err(_) => return false,
            }
        }
        let ok = self.scalar.as_mut().is_some_and(|s| s.factor(val));
        self.scalar_in_use = ok;
        ok
    }

    /// The block factorisation; false when a pivot block fails the test (the work vectors
    /// are left zero). A matrix that gains from two threads is factorised by its split,
    /// with or without a team, so that the factors do not depend on the team.
    fn factor_blocks_in_place(&mut self, val: &[Block], team: Option<&Team>) -> bool {
        if self.splits() {
            self.factor_split_in_place(val, team)
        } else {
            let max = 1.0 / PIVOT_TOLERANCE;
            kernels::factor(&self.p, val, &mut self.f, &mut self.work, max)
        }
    }

    /// The block factorisation by the split, on the team or without one.
    fn factor_split_in_place(&mut self, val: &[Block], team: Option<&Team>) -> bool {
        self.work2.resize(self.p.nb);
        for s in &mut self.sums {
            s.resize(self.p.top_cols.row.len());
        }
        let x = [&mut self.work[..], &mut self.work2[..]];
        let [s0, s1] = &mut self.sums;
        let max = 1.0 / PIVOT_TOLERANCE;
        kernels::factor_split(&self.p, val, &mut self.f, x, [s0, s1], max, team)
    }

    /// Solves `A x = b` in place with the last factors; `b` holds two entries per block row,
    /// in the original order.
    pub fn solve(&mut self, b: &mut [f64]) {
        self.solve_with(b, None)
    }

    /// [`BlockLu::solve`], on a team of two threads when one is given and the matrix gains
    /// from it ([`BlockLu::splits`]): the same solution, bit for bit.
    pub fn solve_with(&mut self, b: &mut [f64], team: Option<&Team>) {
        if self.scalar_in_use
            && let Some(s) = self.scalar.as_mut()
        {
            s.lu.solve(b);
            return;
        }
        let split = self.splits();
        let team = team.filter(|_| split);
        let p = &self.p;
        let y = &mut self.rhs;
        for (k, &o) in p.perm.iter().enumerate() {
            let o = o as usize;
            y[k] = [b[2 * o], b[2 * o + 1]];
        }
        if split {
            for z in &mut self.z {
                z.resize(p.nb);
            }
            let [z0, z1] = &mut self.z;
            solves::solve_split(p, &self.f, y, [z0, z1], team);
        } else {
            solves::solve(p, &self.f, y);
        }
        for (k, &o) in p.perm.iter().enumerate() {
            let o = o as usize;
            [b[2 * o], b[2 * o + 1]] = y[k];
        }
    }
}

#[cfg(test)]
mod tests;
