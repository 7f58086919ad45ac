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

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::perm::PermRef;
use faer::sparse::linalg::amd;
use faer::sparse::linalg::lu::simplicial::{
    SimplicialLu, factorize_simplicial_numeric_lu, factorize_simplicial_numeric_lu_scratch,
};
use faer::sparse::linalg::lu::{LuSymbolicParams, factorize_symbolic_lu};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};

use crate::GridError;

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
    /// Pivot-order row of every stored entry of A (valid while `factored`).
    a_row_perm: Vec<usize>,
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
        let mem = MemBuffer::try_new(factorize_simplicial_numeric_lu_scratch::<usize, f64>(n, n))
            .map_err(|_| GridError::Numerical("out of memory".into()))?;
        Ok(Self {
            n,
            col_perm: fwd.to_vec(),
            col_perm_inv: inv.to_vec(),
            amd: (fwd.to_vec(), inv.to_vec()),
            colamd: None,
            row_perm: vec![0; n],
            row_perm_inv: vec![0; n],
            l_ptr: Vec::new(),
            l_idx: Vec::new(),
            l_val: Vec::new(),
            u_ptr: Vec::new(),
            u_idx: Vec::new(),
            u_val: Vec::new(),
            a_row_perm: Vec::new(),
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
        if self.factored && self.diagonal && self.refactor(col_ptr, val) {
            return true;
        }
        // Diagonal pivots first (again after a pivoting factorisation: that one's fill is
        // worse, and the pivot that failed may be fine at the next Newton step).
        if !(self.factored && self.diagonal) {
            self.diagonal_pattern(col_ptr, row_idx);
            if self.refactor(col_ptr, val) {
                return true;
            }
        }
        self.factor_pivoting(col_ptr, row_idx, val)
    }

    /// Lays out L and U for pivots on the diagonal of the column order: the pattern of U's
    /// column k is the reach of row k in the elimination tree of `A + A^T` (CSparse's
    /// `ereach`), and L is its transpose.
    fn diagonal_pattern(&mut self, col_ptr: &[usize], row_idx: &[usize]) {
        let n = self.n;
        const NONE: usize = usize::MAX;
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
        // U's columns from the reaches; L's from their transpose.
        let mut mark = vec![NONE; n];
        let mut l_cols: Vec<Vec<usize>> = vec![Vec::new(); n];
        self.u_ptr.clear();
        self.u_idx.clear();
        self.u_ptr.push(0);
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
            reach.sort_unstable();
            for &j in &reach {
                l_cols[j].push(k);
            }
            self.u_idx.extend_from_slice(&reach);
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
        self.a_row_perm.clear();
        self.a_row_perm
            .extend(row_idx.iter().map(|&r| self.row_perm_inv[r]));
        self.factored = true;
    }

    #[inline(never)]
    fn factor_pivoting(&mut self, col_ptr: &[usize], row_idx: &[usize], val: &[f64]) -> bool {
        let n = self.n;
        self.factored = false;
        self.diagonal = false;
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
        self.a_row_perm.clear();
        self.a_row_perm
            .extend(row_idx.iter().map(|&r| self.row_perm_inv[r]));
        self.factored = true;
        true
    }

    /// Numeric factorisation on the stored pivots and patterns.
    #[inline(never)]
    fn refactor(&mut self, col_ptr: &[usize], val: &[f64]) -> bool {
        let x = &mut self.work;
        for k in 0..self.n {
            let c = self.col_perm[k];
            for p in col_ptr[c]..col_ptr[c + 1] {
                x[self.a_row_perm[p]] = val[p];
            }
            let (us, ue) = (self.u_ptr[k], self.u_ptr[k + 1]);
            for p in us..ue - 1 {
                let j = self.u_idx[p];
                let ujk = x[j];
                x[j] = 0.0;
                self.u_val[p] = ujk;
                if ujk != 0.0 {
                    let (ls, le) = (self.l_ptr[j], self.l_ptr[j + 1]);
                    for (&i, &l) in self.l_idx[ls..le].iter().zip(&self.l_val[ls..le]) {
                        x[i] -= l * ujk;
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A random sparse matrix with a strong diagonal, column-compressed.
    fn matrix(n: usize, seed: u64, scale: f64) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let mut s = seed;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut col_ptr = vec![0];
        let mut row_idx = Vec::new();
        let mut val = Vec::new();
        for c in 0..n {
            let mut rows: Vec<usize> = vec![c, (c + 1) % n, (c * 7 + 3) % n, (c + n - 2) % n];
            rows.sort_unstable();
            rows.dedup();
            for r in rows {
                row_idx.push(r);
                val.push(if r == c {
                    4.0 + rnd()
                } else {
                    (rnd() - 0.5) * scale
                });
            }
            col_ptr.push(row_idx.len());
        }
        (col_ptr, row_idx, val)
    }

    fn mul(cp: &[usize], ri: &[usize], v: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; x.len()];
        for c in 0..x.len() {
            for p in cp[c]..cp[c + 1] {
                y[ri[p]] += v[p] * x[c];
            }
        }
        y
    }

    #[test]
    fn factor_refactor_and_solve_recover_the_solution() {
        let n = 60;
        let (cp, ri, v0) = matrix(n, 1, 2.0);
        let mut lu = PatternLu::new(n, &cp, &ri).unwrap();
        let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
        for (round, seed) in [1u64, 2, 3, 4].into_iter().enumerate() {
            // Same pattern, new numbers: the first round pivots, the others refactorise.
            let (_, _, v) = matrix(n, seed, 2.0 + round as f64);
            let v = if round == 0 { v0.clone() } else { v };
            assert!(lu.factor(&cp, &ri, &v));
            let mut b = mul(&cp, &ri, &v, &x);
            lu.solve(&mut b);
            let err = b
                .iter()
                .zip(&x)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-10, "round {round}: error {err}");
        }
    }

    #[test]
    fn a_collapsed_pivot_falls_back_to_pivoting() {
        let n = 3;
        // [[1, 2, 0], [3, 4, 5], [0, 6, 7]], then the first pivot becomes tiny.
        let cp = vec![0, 2, 5, 7];
        let ri = vec![0, 1, 0, 1, 2, 1, 2];
        let mut lu = PatternLu::new(n, &cp, &ri).unwrap();
        let x = [1.0, -2.0, 0.5];
        for v in [
            vec![1.0, 3.0, 2.0, 4.0, 6.0, 5.0, 7.0],
            vec![1e-14, 3.0, 2.0, 4.0, 6.0, 5.0, 7.0],
            vec![3.0, 1e-14, 2.0, 4.0, 6.0, 5.0, 7.0],
        ] {
            assert!(lu.factor(&cp, &ri, &v));
            let mut b = mul(&cp, &ri, &v, &x);
            lu.solve(&mut b);
            for (a, e) in b.iter().zip(&x) {
                assert!((a - e).abs() < 1e-9, "{b:?}");
            }
        }
    }

    #[test]
    fn a_singular_matrix_is_reported() {
        let cp = vec![0, 2, 4];
        let ri = vec![0, 1, 0, 1];
        let mut lu = PatternLu::new(2, &cp, &ri).unwrap();
        assert!(!lu.factor(&cp, &ri, &[1.0, 2.0, 2.0, 4.0]));
    }
}
