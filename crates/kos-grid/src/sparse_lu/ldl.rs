//! LDLᵀ factors of a complex symmetric sparse matrix (`A = Aᵀ`, not Hermitian), such as the
//! admittance matrix of a network without phase shifters, with the diagonal of its inverse.
//!
//! The order is faer's approximate minimum degree, as for [`super::PatternLu`]; the symbolic
//! and numeric factorisations follow Davis's LDL (ACM TOMS 31(4), 2005: the elimination tree,
//! then row by row, each row a sparse triangular solve along the tree), without pivoting,
//! which suits matrices that are diagonally dominant in their reactive part, as an
//! admittance matrix with its sources is. The diagonal of `A⁻¹` (the driving-point
//! impedances of a short-circuit calculation) comes from Takahashi's equations (Takahashi,
//! Fagan and Chen, 1973) on the pattern of L: `Z = D⁻¹L⁻¹ − (Lᵀ − I) Z`, column by column
//! from the last, each needing only entries of Z in the pattern of L already computed.

use num_complex::Complex64;

use super::amd_order;
use crate::GridError;

/// No entry.
const NONE: usize = usize::MAX;

const ZERO: Complex64 = Complex64::new(0.0, 0.0);

/// LDLᵀ factors of a complex symmetric matrix with a fixed pattern.
#[derive(Debug, Clone)]
pub struct SymmetricLdl {
    n: usize,
    /// New position to original index.
    perm: Vec<usize>,
    /// Original index to new position.
    inv: Vec<usize>,
    /// Elimination tree in the new order.
    parent: Vec<usize>,
    /// Strictly lower part of L by column (new order): start of each column.
    l_ptr: Vec<usize>,
    /// Rows of L, ascending within a column.
    l_row: Vec<usize>,
    /// Values of L.
    l_val: Vec<Complex64>,
    /// D.
    d: Vec<Complex64>,
}

impl SymmetricLdl {
    /// The symbolic factorisation of the `n` x `n` symmetric pattern (`col_ptr`, `row_idx`),
    /// rows sorted or not, every diagonal present or not.
    pub fn new(n: usize, col_ptr: &[usize], row_idx: &[usize]) -> Result<Self, GridError> {
        if col_ptr.len() != n + 1 || row_idx.iter().any(|&r| r >= n) {
            return Err(GridError::InvalidNetwork("malformed sparse pattern".into()));
        }
        let (perm, inv) = if n > 0 {
            amd_order(n, col_ptr, row_idx)?
        } else {
            (Vec::new(), Vec::new())
        };
        let mut parent = vec![NONE; n];
        let mut flag = vec![NONE; n];
        let mut count = vec![0usize; n];
        for k in 0..n {
            flag[k] = k;
            let kk = perm[k];
            for &r in &row_idx[col_ptr[kk]..col_ptr[kk + 1]] {
                let mut i = inv[r];
                if i < k {
                    while flag[i] != k {
                        if parent[i] == NONE {
                            parent[i] = k;
                        }
                        count[i] += 1;
                        flag[i] = k;
                        i = parent[i];
                    }
                }
            }
        }
        let mut l_ptr = vec![0usize; n + 1];
        for k in 0..n {
            l_ptr[k + 1] = l_ptr[k] + count[k];
        }
        let nnz = l_ptr[n];
        Ok(Self {
            n,
            perm,
            inv,
            parent,
            l_ptr,
            l_row: vec![0; nnz],
            l_val: vec![ZERO; nnz],
            d: vec![ZERO; n],
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.n
    }

    /// Entries of L below the diagonal.
    pub fn factor_entries(&self) -> usize {
        self.l_ptr[self.n]
    }

    /// Factorises the matrix with the values `val` on the pattern given to
    /// [`SymmetricLdl::new`] (either triangle is read; the matrix must be symmetric). Returns
    /// false when a pivot is zero or not finite.
    pub fn factor(&mut self, col_ptr: &[usize], row_idx: &[usize], val: &[Complex64]) -> bool {
        let n = self.n;
        let mut y = vec![ZERO; n];
        let mut flag = vec![NONE; n];
        let mut filled = vec![0usize; n];
        let mut pattern = vec![0usize; n];
        for k in 0..n {
            let mut top = n;
            flag[k] = k;
            let kk = self.perm[k];
            for (&r, &a) in row_idx[col_ptr[kk]..col_ptr[kk + 1]]
                .iter()
                .zip(&val[col_ptr[kk]..col_ptr[kk + 1]])
            {
                let mut i = self.inv[r];
                if i > k {
                    continue;
                }
                y[i] += a;
                let mut len = 0;
                while flag[i] != k {
                    pattern[len] = i;
                    len += 1;
                    flag[i] = k;
                    i = self.parent[i];
                }
                while len > 0 {
                    top -= 1;
                    len -= 1;
                    pattern[top] = pattern[len];
                }
            }
            let mut dk = y[k];
            y[k] = ZERO;
            for &i in &pattern[top..n] {
                let yi = y[i];
                y[i] = ZERO;
                let (start, end) = (self.l_ptr[i], self.l_ptr[i] + filled[i]);
                for p in start..end {
                    let row = self.l_row[p];
                    y[row] -= self.l_val[p] * yi;
                }
                let lki = yi / self.d[i];
                dk -= lki * yi;
                self.l_row[end] = k;
                self.l_val[end] = lki;
                filled[i] += 1;
            }
            if !(dk.norm_sqr() > 0.0 && dk.re.is_finite() && dk.im.is_finite()) {
                return false;
            }
            self.d[k] = dk;
        }
        true
    }

    /// Solves `A x = b` in place (original order) with the last factors.
    pub fn solve(&self, b: &mut [Complex64]) {
        let n = self.n;
        let mut x: Vec<Complex64> = self.perm.iter().map(|&p| b[p]).collect();
        for j in 0..n {
            let xj = x[j];
            for p in self.l_ptr[j]..self.l_ptr[j + 1] {
                x[self.l_row[p]] -= self.l_val[p] * xj;
            }
        }
        for (xj, dj) in x.iter_mut().zip(&self.d) {
            *xj /= dj;
        }
        for j in (0..n).rev() {
            let mut s = x[j];
            for p in self.l_ptr[j]..self.l_ptr[j + 1] {
                s -= self.l_val[p] * x[self.l_row[p]];
            }
            x[j] = s;
        }
        for (k, &p) in self.perm.iter().enumerate() {
            b[p] = x[k];
        }
    }

    /// The diagonal of `A⁻¹` in the original order, from the last factors (Takahashi's
    /// equations on the pattern of L).
    pub fn inverse_diagonal(&self) -> Vec<Complex64> {
        let n = self.n;
        // Z on the pattern of L (same layout) and its diagonal, both in the new order.
        let mut z = vec![ZERO; self.l_val.len()];
        let mut zd = vec![ZERO; n];
        let mut slot = vec![NONE; n];
        let mut acc: Vec<Complex64> = Vec::new();
        for i in (0..n).rev() {
            let (s, e) = (self.l_ptr[i], self.l_ptr[i + 1]);
            let rows = &self.l_row[s..e];
            let li = &self.l_val[s..e];
            for (a, &r) in rows.iter().enumerate() {
                slot[r] = a;
            }
            acc.clear();
            acc.resize(rows.len(), ZERO);
            // acc[a] = Z[row a, i] = -Σ_k Z[row a, k] L[k, i] over k in the column's rows.
            for (a, (&k, &lki)) in rows.iter().zip(li).enumerate() {
                acc[a] -= zd[k] * lki;
                for q in self.l_ptr[k]..self.l_ptr[k + 1] {
                    let b = slot[self.l_row[q]];
                    if b != NONE {
                        // Z[r, k] = Z[k, r] with r = rows[b] > k.
                        acc[b] -= z[q] * lki;
                        acc[a] -= z[q] * li[b];
                    }
                }
            }
            let mut zii = self.d[i].inv();
            for (a, &l) in acc.iter().zip(li) {
                zii -= l * a;
            }
            zd[i] = zii;
            z[s..e].copy_from_slice(&acc);
            for &r in rows {
                slot[r] = NONE;
            }
        }
        let mut out = vec![ZERO; n];
        for (k, &p) in self.perm.iter().enumerate() {
            out[p] = zd[k];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random complex symmetric, diagonally dominant sparse matrix in CSC, and its dense
    /// form.
    fn random_matrix(
        n: usize,
        seed: u64,
    ) -> (Vec<usize>, Vec<usize>, Vec<Complex64>, Vec<Vec<Complex64>>) {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut dense = vec![vec![ZERO; n]; n];
        for i in 0..n {
            // A ring plus random chords: the pattern of a meshed network.
            let mut links = vec![(i + 1) % n];
            if next() < 0.3 {
                links.push((next() * n as f64) as usize % n);
            }
            for j in links {
                if j == i {
                    continue;
                }
                let y = Complex64::new(next() + 0.1, -(3.0 * next() + 1.0));
                dense[i][j] -= y;
                dense[j][i] -= y;
                dense[i][i] += y;
                dense[j][j] += y;
            }
        }
        // A source at every fifth bus.
        for i in (0..n).step_by(5) {
            dense[i][i] += Complex64::new(0.5, -10.0);
        }
        let (mut cp, mut ri, mut v) = (vec![0], Vec::new(), Vec::new());
        for c in 0..n {
            for (r, row) in dense.iter().enumerate() {
                if row[c] != ZERO || r == c {
                    ri.push(r);
                    v.push(row[c]);
                }
            }
            cp.push(ri.len());
        }
        (cp, ri, v, dense)
    }

    /// Dense Gauss-Jordan inverse, the oracle.
    fn dense_inverse(a: &[Vec<Complex64>]) -> Vec<Vec<Complex64>> {
        let n = a.len();
        let mut m: Vec<Vec<Complex64>> = a.to_vec();
        let mut inv: Vec<Vec<Complex64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            Complex64::new(1.0, 0.0)
                        } else {
                            ZERO
                        }
                    })
                    .collect()
            })
            .collect();
        for c in 0..n {
            let p = (c..n)
                .max_by(|&x, &y| m[x][c].norm().total_cmp(&m[y][c].norm()))
                .unwrap();
            m.swap(c, p);
            inv.swap(c, p);
            let piv = m[c][c];
            for j in 0..n {
                m[c][j] /= piv;
                inv[c][j] /= piv;
            }
            for r in 0..n {
                if r != c && m[r][c] != ZERO {
                    let f = m[r][c];
                    for j in 0..n {
                        let (mc, ic) = (m[c][j], inv[c][j]);
                        m[r][j] -= f * mc;
                        inv[r][j] -= f * ic;
                    }
                }
            }
        }
        inv
    }

    #[test]
    fn solve_and_inverse_diagonal_match_a_dense_inverse() {
        for (n, seed) in [(1, 1), (2, 2), (7, 3), (40, 4), (120, 5)] {
            let (cp, ri, v, dense) = random_matrix(n, seed);
            let mut ldl = SymmetricLdl::new(n, &cp, &ri).unwrap();
            assert!(ldl.factor(&cp, &ri, &v));
            let z = dense_inverse(&dense);
            let diag = ldl.inverse_diagonal();
            for i in 0..n {
                assert!(
                    (diag[i] - z[i][i]).norm() < 1e-10 * z[i][i].norm(),
                    "n {n} bus {i}"
                );
            }
            // A x = e_j gives column j of the inverse.
            let j = n / 2;
            let mut b = vec![ZERO; n];
            b[j] = Complex64::new(1.0, 0.0);
            ldl.solve(&mut b);
            for i in 0..n {
                assert!((b[i] - z[i][j]).norm() < 1e-10 * (1.0 + z[i][j].norm()));
            }
        }
    }

    #[test]
    fn a_zero_pivot_is_reported() {
        // [[0, 1], [1, 0]]: no pivoting, so the first pivot is zero.
        let cp = [0, 2, 4];
        let ri = [0, 1, 0, 1];
        let v = [
            ZERO,
            Complex64::new(1.0, 0.0),
            Complex64::new(1.0, 0.0),
            ZERO,
        ];
        let mut ldl = SymmetricLdl::new(2, &cp, &ri).unwrap();
        assert!(!ldl.factor(&cp, &ri, &v));
        assert!(SymmetricLdl::new(2, &[0, 1], &[0]).is_err());
    }
}
