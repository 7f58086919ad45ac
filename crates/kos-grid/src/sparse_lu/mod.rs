//! Sparse LU for Newton-Raphson Jacobians whose pattern stays fixed across iterations.
//!
//! Columns follow faer's approximate-minimum-degree order of `A + A^T` (KLU's default, and
//! the better order for the nearly symmetric Jacobians of power flow). Pivots are first taken
//! on the diagonal, which keeps the fill of that order: the patterns of L and U are those of
//! the Cholesky factor of `A + A^T`, found from its elimination tree, and the numbers
//! follow. If a diagonal pivot is too small, faer's LU with partial pivoting (Gilbert-Peierls)
//! factorises the real matrix instead, under faer's COLAMD order, which bounds the fill
//! whatever rows the pivoting picks. Later factorisations reuse its row
//! pivots and the patterns of L and U and only recompute the numbers, as KLU's `refactor`
//! does; if a reused pivot has become too small against its column, the pivoting
//! factorisation runs again. Solves use the stored factors.
//!
//! In the numeric factorisation with diagonal pivots, runs of columns of L that share their
//! rows below (fundamental supernodes: the angle and magnitude unknowns of a load bus, and
//! chains near the top of the elimination tree) update later columns as one dense block:
//! one index per row instead of one per row and column.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::perm::PermRef;
use faer::sparse::linalg::amd;
use faer::sparse::linalg::lu::simplicial::{
    SimplicialLu, factorize_simplicial_numeric_lu, factorize_simplicial_numeric_lu_scratch,
};
use faer::sparse::linalg::lu::{LuSymbolicParams, factorize_symbolic_lu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};

use crate::GridError;

mod block;
mod ldl;
mod supernodes;

pub(crate) use block::Blocks;
pub use block::{Block, BlockLu};
pub use ldl::SymmetricLdl;

use supernodes::{Supernodes, relax_supernodes};

/// A pivot smaller than this fraction of the largest entry below it triggers a pivoting
/// factorisation (threshold pivoting's test, with KLU's default).
const PIVOT_TOLERANCE: f64 = 1e-3;

/// LU factors of a square sparse matrix with a fixed pattern.
pub struct PatternLu {
    n: usize,
    /// Column order of the factors in use.
    col_perm: Vec<usize>,
    col_perm_inv: Vec<usize>,
    /// AMD order of `A + A^T`, for diagonal pivots.
    amd: (Vec<usize>, Vec<usize>),
    /// COLAMD order, for pivoting factorisations (bounds their fill whatever rows pivot);
    /// computed on first need.
    colamd: Option<(Vec<usize>, Vec<usize>)>,
    row_perm: Vec<usize>,
    row_perm_inv: Vec<usize>,
    /// Strictly lower part of L (unit diagonal implied), by column, rows in pivot order.
    l_ptr: Vec<usize>,
    l_idx: Vec<usize>,
    l_val: Vec<f64>,
    /// U by column, rows ascending, the diagonal last.
    u_ptr: Vec<usize>,
    u_idx: Vec<usize>,
    u_val: Vec<f64>,
    /// A's stored entries in pivot-column order, as (position in A's values, pivot-order
    /// row), with each pivot column's range in `a_ptr` (valid while `factored`).
    a_ptr: Vec<usize>,
    a_map: Vec<(u32, u32)>,
    /// Supernodes of L (see [`Supernodes`]); none while pivoting factors are in use.
    snodes: Supernodes,
    factored: bool,
    /// The factors in use have their pivots on the diagonal.
    diagonal: bool,
    simplicial: SimplicialLu<usize, f64>,
    mem: MemBuffer,
    work: Vec<f64>,
}

impl PatternLu {
    /// Prepares the factorisation of matrices with the pattern (`col_ptr`, `row_idx`) of an
    /// `n` x `n` matrix (rows sorted within columns).
    pub fn new(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Self, GridError> {
        if row_idx.len() > u32::MAX as usize {
            return Err(GridError::Numerical(format!(
                "matrix too large: {} entries",
                row_idx.len()
            )));
        }
        let (fwd, inv) = amd_order(n, col_ptr, row_idx)?;
        let mem = MemBuffer::try_new(factorize_simplicial_numeric_lu_scratch::<usize, f64>(n, n))
            .map_err(|_| GridError::Numerical("out of memory".into()))?;
        Ok(Self {
            n,
            col_perm: fwd.clone(),
            col_perm_inv: inv.clone(),
            amd: (fwd, inv),
            colamd: None,
            row_perm: vec![0; n],
            row_perm_inv: vec![0; n],
            l_ptr: Vec::new(),
            l_idx: Vec::new(),
            l_val: Vec::new(),
            u_ptr: Vec::new(),
            u_idx: Vec::new(),
            u_val: Vec::new(),
            a_ptr: Vec::new(),
            a_map: Vec::new(),
            snodes: Supernodes::none(n),
            factored: false,
            diagonal: false,
            simplicial: SimplicialLu::new(),
            mem,
            work: vec![0.0; n],
        })
    }

    /// Factorises `a` (same pattern as given to [`PatternLu::new`]). Returns false when the
    /// matrix is singular.
    pub fn factor(&mut self, col_ptr: &[usize], row_idx: &[usize], val: &[f64]) -> bool {
        if self.factored && self.diagonal && self.refactor(val) {
            return true;
        }
        // Diagonal pivots first (again after a pivoting factorisation: that one's fill is
        // worse, and the pivot that failed may be fine at the next Newton step).
        if !(self.factored && self.diagonal) {
            self.diagonal_pattern(col_ptr, row_idx);
            if self.refactor(val) {
                return true;
            }
        }
        self.factor_pivoting(col_ptr, row_idx, val)
    }

    /// Lists A's entries in the order the factorisation reads them, under the current
    /// row and column permutations.
    fn map_a(&mut self, col_ptr: &[usize], row_idx: &[usize]) {
        self.a_ptr.clear();
        self.a_ptr.push(0);
        self.a_map.clear();
        for k in 0..self.n {
            let c = self.col_perm[k];
            for p in col_ptr[c]..col_ptr[c + 1] {
                self.a_map
                    .push((p as u32, self.row_perm_inv[row_idx[p]] as u32));
            }
            self.a_ptr.push(self.a_map.len());
        }
    }

    /// Lays out L and U for pivots on the diagonal of the column order: the pattern of U's
    /// column k is the reach of row k in the elimination tree of `A + A^T` (CSparse's
    /// `ereach`), and L is its transpose.
    fn diagonal_pattern(&mut self, col_ptr: &[usize], row_idx: &[usize]) {
        let n = self.n;
        self.col_perm.clone_from(&self.amd.0);
        self.col_perm_inv.clone_from(&self.amd.1);
        let inv = &self.col_perm_inv;
        // Strict upper triangle of the permuted A + A^T, by column.
        let mut upper: Vec<Vec<usize>> = vec![Vec::new(); n];
        for c in 0..n {
            for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
                let (pr, pc) = (inv[r], inv[c]);
                if pr != pc {
                    upper[pr.max(pc)].push(pr.min(pc));
                }
            }
        }
        let (parent, mut l_cols) = cholesky_pattern(&upper);
        relax_supernodes(&mut l_cols, &parent);
        // U's columns: the transpose of L's, then the diagonal.
        let mut u_cols: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (j, col) in l_cols.iter().enumerate() {
            for &k in col {
                u_cols[k].push(j);
            }
        }
        self.u_ptr.clear();
        self.u_idx.clear();
        self.u_ptr.push(0);
        for (k, col) in u_cols.iter().enumerate() {
            self.u_idx.extend_from_slice(col);
            self.u_idx.push(k);
            self.u_ptr.push(self.u_idx.len());
        }
        self.u_val.clear();
        self.u_val.resize(self.u_idx.len(), 0.0);
        self.l_ptr.clear();
        self.l_idx.clear();
        self.l_ptr.push(0);
        for col in &l_cols {
            self.l_idx.extend_from_slice(col);
            self.l_ptr.push(self.l_idx.len());
        }
        self.l_val.clear();
        self.l_val.resize(self.l_idx.len(), 0.0);
        self.row_perm.clone_from(&self.col_perm);
        self.row_perm_inv.clone_from(&self.col_perm_inv);
        self.diagonal = true;
        self.snodes = Supernodes::find(&self.l_ptr, &self.l_idx);
        self.map_a(col_ptr, row_idx);
        self.factored = true;
    }

    #[inline(never)]
    fn factor_pivoting(&mut self, col_ptr: &[usize], row_idx: &[usize], val: &[f64]) -> bool {
        let n = self.n;
        self.factored = false;
        self.diagonal = false;
        self.snodes = Supernodes::none(n);
        let sym = SymbolicSparseColMatRef::new_checked(n, n, col_ptr, None, row_idx);
        if self.colamd.is_none() {
            let Ok(symbolic) = factorize_symbolic_lu(sym, LuSymbolicParams::default()) else {
                return false;
            };
            let (fwd, inv) = symbolic.col_perm().arrays();
            self.colamd = Some((fwd.to_vec(), inv.to_vec()));
        }
        if let Some((fwd, inv)) = &self.colamd {
            self.col_perm.clone_from(fwd);
            self.col_perm_inv.clone_from(inv);
        }
        let a = SparseColMatRef::new(sym, val);
        let perm = PermRef::new_checked(&self.col_perm, &self.col_perm_inv, n);
        if factorize_simplicial_numeric_lu(
            &mut self.row_perm,
            &mut self.row_perm_inv,
            &mut self.simplicial,
            a,
            perm,
            MemStack::new(&mut self.mem),
        )
        .is_err()
        {
            return false;
        }
        // Copy the factors into sorted, diagonal-separated form for refactorisation.
        let l = self.simplicial.l_factor_unsorted();
        let u = self.simplicial.u_factor_unsorted();
        self.l_ptr.clear();
        self.l_idx.clear();
        self.l_val.clear();
        self.u_ptr.clear();
        self.u_idx.clear();
        self.u_val.clear();
        self.l_ptr.push(0);
        self.u_ptr.push(0);
        let mut col: Vec<(usize, f64)> = Vec::new();
        for j in 0..n {
            for (&i, &v) in l.row_idx_of_col_raw(j).iter().zip(l.val_of_col(j)) {
                if i != j {
                    self.l_idx.push(i);
                    self.l_val.push(v);
                }
            }
            self.l_ptr.push(self.l_idx.len());
            col.clear();
            col.extend(
                u.row_idx_of_col_raw(j)
                    .iter()
                    .copied()
                    .zip(u.val_of_col(j).iter().copied()),
            );
            col.sort_unstable_by_key(|&(i, _)| i);
            if col
                .last()
                .is_none_or(|&(i, v)| i != j || v == 0.0 || !v.is_finite())
            {
                return false;
            }
            for &(i, v) in &col {
                self.u_idx.push(i);
                self.u_val.push(v);
            }
            self.u_ptr.push(self.u_idx.len());
        }
        self.map_a(col_ptr, row_idx);
        self.factored = true;
        true
    }

    /// Numeric factorisation on the stored pivots and patterns (left-looking, column by
    /// column). The update of a column by a supernode of L is one small triangular solve and
    /// one dense block product over the supernode's shared rows, instead of one sparse
    /// update per column.
    #[inline(never)]
    fn refactor(&mut self, val: &[f64]) -> bool {
        let x = &mut self.work;
        let sn = &mut self.snodes;
        let mut ubuf = [0.0f64; Supernodes::MAX_WIDTH];
        for k in 0..self.n {
            for &(src, row) in &self.a_map[self.a_ptr[k]..self.a_ptr[k + 1]] {
                x[row as usize] = val[src as usize];
            }
            let (us, ue) = (self.u_ptr[k], self.u_ptr[k + 1]);
            let mut p = us;
            while p < ue - 1 {
                let j = self.u_idx[p];
                let s = sn.of_col[j];
                if s != u32::MAX {
                    let s = s as usize;
                    let (f, e) = sn.cols[s];
                    let m = e - j;
                    // U(:,k) holds j's whole chain to the supernode's end (its last column
                    // is reached from j through L), so entries p..p+m are j..e.
                    if m >= 2 && e <= k && p + m < ue && self.u_idx[p + m - 1] == e - 1 {
                        for t in 0..m {
                            let u = x[j + t];
                            x[j + t] = 0.0;
                            self.u_val[p + t] = u;
                            ubuf[t] = u;
                            if u != 0.0 {
                                let lp = self.l_ptr[j + t];
                                for t2 in t + 1..m {
                                    x[j + t2] -= self.l_val[lp + t2 - t - 1] * u;
                                }
                            }
                        }
                        let w = e - f;
                        let (rs, re) = (sn.row_ptr[s], sn.row_ptr[s + 1]);
                        let block = &sn.val[sn.val_ptr[s]..sn.val_ptr[s] + (re - rs) * w];
                        let rows = &sn.rows[rs..re];
                        if m == 2 {
                            let (u0, u1) = (ubuf[0], ubuf[1]);
                            for (&i, row) in rows.iter().zip(block.chunks_exact(w)) {
                                let row = &row[w - 2..];
                                x[i] -= row[0] * u0 + row[1] * u1;
                            }
                        } else {
                            let u = &ubuf[..m];
                            for (&i, row) in rows.iter().zip(block.chunks_exact(w)) {
                                let acc: f64 = row[w - m..].iter().zip(u).map(|(a, b)| a * b).sum();
                                x[i] -= acc;
                            }
                        }
                        p += m;
                        continue;
                    }
                }
                let ujk = x[j];
                x[j] = 0.0;
                self.u_val[p] = ujk;
                if ujk != 0.0 {
                    let (ls, le) = (self.l_ptr[j], self.l_ptr[j + 1]);
                    for (&i, &l) in self.l_idx[ls..le].iter().zip(&self.l_val[ls..le]) {
                        x[i] -= l * ujk;
                    }
                }
                p += 1;
            }
            let d = x[k];
            x[k] = 0.0;
            self.u_val[ue - 1] = d;
            let inv_d = 1.0 / d;
            let mut below = 0.0f64;
            for q in self.l_ptr[k]..self.l_ptr[k + 1] {
                let i = self.l_idx[q];
                below = below.max(x[i].abs());
                self.l_val[q] = x[i] * inv_d;
                x[i] = 0.0;
            }
            if !(d.is_finite() && d != 0.0 && d.abs() >= PIVOT_TOLERANCE * below) {
                x.iter_mut().for_each(|v| *v = 0.0);
                return false;
            }
            // Copy the column's rows below its supernode into the supernode's block.
            let s = sn.of_col[k];
            if s != u32::MAX {
                let s = s as usize;
                let (f, e) = sn.cols[s];
                let w = e - f;
                let below_start = self.l_ptr[k] + (e - 1 - k);
                let block = &mut sn.val[sn.val_ptr[s]..];
                for (r, &l) in self.l_val[below_start..self.l_ptr[k + 1]]
                    .iter()
                    .enumerate()
                {
                    block[r * w + (k - f)] = l;
                }
            }
        }
        true
    }

    /// Solves `A x = b` in place with the last factors.
    pub fn solve(&mut self, b: &mut [f64]) {
        let n = self.n;
        let y = &mut self.work;
        for i in 0..n {
            y[i] = b[self.row_perm[i]];
        }
        for j in 0..n {
            let yj = y[j];
            if yj != 0.0 {
                let (ls, le) = (self.l_ptr[j], self.l_ptr[j + 1]);
                for (&i, &l) in self.l_idx[ls..le].iter().zip(&self.l_val[ls..le]) {
                    y[i] -= l * yj;
                }
            }
        }
        for j in (0..n).rev() {
            let (s, e) = (self.u_ptr[j], self.u_ptr[j + 1]);
            let yj = y[j] / self.u_val[e - 1];
            y[j] = yj;
            if yj != 0.0 {
                for (&i, &u) in self.u_idx[s..e - 1].iter().zip(&self.u_val[s..e - 1]) {
                    y[i] -= u * yj;
                }
            }
        }
        for k in 0..n {
            b[self.col_perm[k]] = y[k];
            y[k] = 0.0;
        }
    }
}

/// Faer's approximate-minimum-degree order of `A + A^T` for the `n` x `n` pattern
/// (`col_ptr`, `row_idx`): (new to old, old to new).
pub(crate) fn amd_order(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Result<(Vec<usize>, Vec<usize>), GridError> {
    // Upper triangle of the pattern of A + A^T, rows sorted.
    let mut upper: Vec<Vec<usize>> = vec![Vec::new(); n];
    for c in 0..n {
        upper[c].push(c);
        for &r in &row_idx[col_ptr[c]..col_ptr[c + 1]] {
            let (lo, hi) = if r < c { (r, c) } else { (c, r) };
            upper[hi].push(lo);
        }
    }
    let mut u_ptr = vec![0usize];
    let mut u_idx = Vec::new();
    for col in &mut upper {
        col.sort_unstable();
        col.dedup();
        u_idx.extend_from_slice(col);
        u_ptr.push(u_idx.len());
    }
    let mut fwd = vec![0usize; n];
    let mut inv = vec![0usize; n];
    let mut order_mem = MemBuffer::try_new(amd::order_scratch::<usize>(n, u_idx.len()))
        .map_err(|_| GridError::Numerical("out of memory".into()))?;
    amd::order(
        &mut fwd,
        &mut inv,
        SymbolicSparseColMatRef::new_checked(n, n, &u_ptr, None, &u_idx),
        amd::Control::default(),
        MemStack::new(&mut order_mem),
    )
    .map_err(|e| GridError::Numerical(format!("ordering failed: {e:?}")))?;
    Ok((fwd, inv))
}

/// The elimination tree and the pattern of L (rows below the diagonal, ascending, by column)
/// of the Cholesky factor of a symmetric pattern given by its strict upper triangle `upper`
/// (rows of each column). The pattern of U's column k, the reach of row k in the tree
/// (CSparse's `ereach`), is the transpose.
pub(crate) fn cholesky_pattern(upper: &[Vec<usize>]) -> (Vec<usize>, Vec<Vec<usize>>) {
    let n = upper.len();
    // Elimination tree (Liu's algorithm with path compression).
    let mut parent = vec![NONE; n];
    let mut ancestor = vec![NONE; n];
    for k in 0..n {
        for &i0 in &upper[k] {
            let mut i = i0;
            while i != NONE && i < k {
                let next = ancestor[i];
                ancestor[i] = k;
                if next == NONE {
                    parent[i] = k;
                }
                i = next;
            }
        }
    }
    // L's columns from the reaches of U's (row k of L^T is the reach of row k).
    let mut mark = vec![NONE; n];
    let mut l_cols: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut reach = Vec::new();
    for k in 0..n {
        reach.clear();
        mark[k] = k;
        for &i0 in &upper[k] {
            let mut i = i0;
            while i != NONE && mark[i] != k {
                mark[i] = k;
                reach.push(i);
                i = parent[i];
            }
        }
        for &j in &reach {
            l_cols[j].push(k);
        }
    }
    (parent, l_cols)
}

/// No parent, no entry.
const NONE: usize = usize::MAX;

#[cfg(test)]
mod tests;
