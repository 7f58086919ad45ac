//! One pass over the island's admittance matrix by rows: each bus's injection, the
//! mismatch and the Jacobian's values, shared by the two threads of a team by rows.

use std::sync::Mutex;

use num_complex::Complex64;

use super::IslandNewton;
use crate::aligned::Aligned;
use crate::team::{self, Shared, Team};
use crate::ybus::Ybus;

/// The admittance matrix by rows (the transpose of its columns), for computing each bus's
/// injection and Jacobian row in one pass that threads can share by rows. The rows are laid
/// out in the Newton system's order (for a factorisation that splits, its elimination order:
/// [`crate::sparse_lu::BlockLu::elimination_order`]), and entries name their columns by
/// position in it: a row's columns and Jacobian blocks lie near it.
pub(super) struct Rows {
    /// Each position's entries.
    ptr: Vec<usize>,
    /// Column of each entry, as a position.
    col: Vec<u32>,
    val: Aligned<Complex64>,
    /// The entry's Jacobian block, in the factorisation's order.
    block: Vec<u32>,
    /// The entry's position in the admittance matrix by columns.
    src: Vec<u32>,
    /// The diagonal block of each position's row.
    diag: Vec<u32>,
}

impl Rows {
    /// The rows of `y` in the order `order` (a permutation of the buses), whose entry `p`
    /// has its block at `j_pos[p]`; columns ascending by position within each row.
    pub(super) fn new(y: &Ybus, j_pos: &[u32], order: &[usize]) -> Self {
        let n = y.n;
        let nnz = y.row_idx.len();
        let mut at = vec![0u32; n];
        for (t, &b) in order.iter().enumerate() {
            at[b] = t as u32;
        }
        // Each row's entries as (column position, entry), rows by position.
        let mut rows: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        for k in 0..n {
            for p in y.col_ptr[k]..y.col_ptr[k + 1] {
                rows[at[y.row_idx[p]] as usize].push((at[k], p as u32));
            }
        }
        let mut ptr = Vec::with_capacity(n + 1);
        let (mut col, mut src) = (Vec::with_capacity(nnz), Vec::with_capacity(nnz));
        ptr.push(0);
        for row in &mut rows {
            row.sort_unstable();
            for &(c, p) in row.iter() {
                col.push(c);
                src.push(p);
            }
            ptr.push(col.len());
        }
        let val: Vec<Complex64> = src.iter().map(|&p| y.val[p as usize]).collect();
        let val = Aligned::from_slice(&val);
        let block = src.iter().map(|&p| j_pos[p as usize]).collect();
        let diag = order.iter().map(|&b| j_pos[y.diag[b]]).collect();
        Self {
            ptr,
            col,
            val,
            block,
            src,
            diag,
        }
    }

    /// The first row after which half the entries lie (where two threads share the rows).
    pub(super) fn half_cut(&self) -> usize {
        let n = self.ptr.len() - 1;
        self.ptr.partition_point(|&p| 2 * p < self.ptr[n])
    }

    /// The values again from `y`, the same pattern with new values.
    pub(super) fn refresh(&mut self, y: &Ybus) {
        for (v, &p) in self.val.iter_mut().zip(&self.src) {
            *v = y.val[p as usize];
        }
    }
}

/// The largest absolute mismatch and its bus, as one pass over the rows in order finds it
/// (the last NaN, else the first largest), from the results of two consecutive ranges.
fn worse(a: (f64, usize), b: (f64, usize)) -> (f64, usize) {
    if b.0.is_nan() || (!a.0.is_nan() && b.0 > a.0) {
        b
    } else {
        a
    }
}

impl IslandNewton {
    /// Computes `V`, each bus's injection and the mismatch vector into `rhs`, and with
    /// `JACOBIAN` the Jacobian's values; returns the largest absolute mismatch and its local
    /// bus. One pass over the admittance matrix by rows, shared by the two threads of `team`
    /// when there is one: every number is computed by the same operations either way.
    pub(super) fn evaluate<const JACOBIAN: bool>(
        &mut self,
        vm: &[f64],
        va: &[f64],
        p_spec: &[f64],
        q_spec: &[f64],
        lambda: f64,
        team: Option<&Team>,
    ) -> (f64, usize) {
        let n = self.v.len();
        let (vm, va) = (&vm[..n], &va[..n]);
        assert!(
            self.rhs.len() >= 2 * n
                && self.s.len() == n
                && self.col_factor.len() == n
                && self.rows.ptr.len() == n + 1
                && self.order.len() == n,
            "state arrays fit the island"
        );
        // Two halves of the rows' positions, cut where half the entries are on each side.
        let cut = if team.is_some() { self.row_split } else { n };
        let halves = [(0, cut), (cut, n)];
        let (v, cf) = (
            Shared(self.v.as_mut_ptr()),
            Shared(self.col_factor.as_mut_ptr()),
        );
        let col_mask = &self.col_mask;
        team::both(team, |h| {
            for t in halves[h].0..halves[h].1 {
                let [a, m] = col_mask[t];
                // SAFETY: position `t` of this half alone, within the arrays (asserted
                // above).
                unsafe {
                    *v.ptr().add(t) = crate::polar(vm[t], va[t]);
                    *cf.ptr().add(t) = [a, m / vm[t]];
                }
            }
        });
        let (rhs, s, j) = (
            Shared(self.rhs.as_mut_ptr()),
            Shared(self.s.as_mut_ptr()),
            Shared(self.j_val.as_mut_ptr()),
        );
        let this = &*self;
        let worst = [Mutex::new((0.0, 0)), Mutex::new((0.0, 0))];
        team::both(team, |h| {
            // SAFETY: the arrays hold the island's rows (asserted above), the rows' blocks
            // lie in the Jacobian (built by `IslandNewton::new`), and each half writes only
            // its own rows' entries and blocks.
            let w = unsafe {
                this.rows_of::<JACOBIAN>(halves[h], (p_spec, q_spec, lambda), (rhs, s, j))
            };
            *worst[h].lock().unwrap_or_else(|e| e.into_inner()) = w;
        });
        let [a, b] = worst.map(|w| w.into_inner().unwrap_or_else(|e| e.into_inner()));
        let worst = worse(a, b);
        if JACOBIAN {
            for &(t, pos) in &self.lambda_pos {
                self.j_val[pos][0] = if self.p_eq[t] { -self.alpha_at[t] } else { 0.0 };
            }
        }
        worst
    }

    /// [`IslandNewton::evaluate`] on the rows `lo..hi`, with `V` and the column factors
    /// computed.
    ///
    /// # Safety
    /// `rhs`, `s` and `j` point at the island's mismatch vector, injections and Jacobian, no
    /// other thread writes these rows' parts of them, and `p_spec`, `q_spec` cover the island.
    pub(super) unsafe fn rows_of<const JACOBIAN: bool>(
        &self,
        (lo, hi): (usize, usize),
        spec: (&[f64], &[f64], f64),
        out: (Shared<f64>, Shared<Complex64>, Shared<[f64; 4]>),
    ) -> (f64, usize) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above); the rest is the caller's.
            return unsafe { self.rows_avx2::<JACOBIAN>((lo, hi), spec, out) };
        }
        // SAFETY: the caller's.
        unsafe { self.rows_portable::<JACOBIAN>((lo, hi), spec, out) }
    }

    /// [`IslandNewton::rows_of`] compiled for AVX2 (a block is one register). Without FMA
    /// every product rounds as in the portable code: both give the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn rows_avx2<const JACOBIAN: bool>(
        &self,
        range: (usize, usize),
        spec: (&[f64], &[f64], f64),
        out: (Shared<f64>, Shared<Complex64>, Shared<[f64; 4]>),
    ) -> (f64, usize) {
        // SAFETY: the caller's.
        unsafe { self.rows_portable::<JACOBIAN>(range, spec, out) }
    }

    #[inline(always)]
    pub(super) unsafe fn rows_portable<const JACOBIAN: bool>(
        &self,
        (lo, hi): (usize, usize),
        (p_spec, q_spec, lambda): (&[f64], &[f64], f64),
        (rhs, s_out, j): (Shared<f64>, Shared<Complex64>, Shared<[f64; 4]>),
    ) -> (f64, usize) {
        let r = &self.rows;
        let (v, cf) = (&self.v[..], &self.col_factor[..]);
        let mut worst = (0.0f64, self.order.get(lo).copied().unwrap_or(0));
        for t in lo..hi {
            let vi = v[t];
            let row = self.row_mask[t];
            let (first, end) = (r.ptr[t], r.ptr[t + 1]);
            let mut s = Complex64::new(0.0, 0.0);
            for ((&k, &yik), &q) in r.col[first..end]
                .iter()
                .zip(&r.val[first..end])
                .zip(&r.block[first..end])
            {
                // With w = V_i conj(Y_ik V_k): S_i sums the w, dS_i/dθ_k = -j w and
                // dS_i/d|V_k| = w / |V_k|.
                let k = k as usize;
                let w = vi * (yik * v[k]).conj();
                s += w;
                if JACOBIAN {
                    let [a, m] = cf[k];
                    let f = [row[0] * a, row[1] * m, row[2] * a, row[3] * m];
                    // SAFETY: the block of an entry of this row (the caller's).
                    unsafe {
                        *j.ptr().add(q as usize) =
                            [f[0] * w.im, f[1] * w.re, f[2] * w.re, f[3] * w.im];
                    }
                }
            }
            // SAFETY: this row's entries (the caller's).
            unsafe { *s_out.ptr().add(t) = s };
            if JACOBIAN {
                // On the diagonal dS_i/dθ_i gains j S_i and dS_i/d|V_i| gains S_i / |V_i|;
                // an equation not solved is an identity row.
                let [a, m] = cf[t];
                let (row_p, row_q) = (row[0], row[3]);
                // SAFETY: as above.
                let b = unsafe { &mut *j.ptr().add(r.diag[t] as usize) };
                b[0] += row_p * a * -s.im + (1.0 - row_p);
                b[1] += row_p * m * s.re;
                b[2] += row_q * a * s.re;
                b[3] += row_q * m * s.im + (1.0 - row_q);
            }
            let mut f = [0.0; 2];
            let i = self.order[t];
            if self.p_eq[t] {
                let share = if self.alpha_at.is_empty() {
                    0.0
                } else {
                    self.alpha_at[t] * lambda
                };
                f[0] = s.re - p_spec[t] - share;
                if f[0].abs() > worst.0 || f[0].is_nan() {
                    worst = (f[0].abs(), i);
                }
            }
            if self.q_eq[t] {
                f[1] = s.im - q_spec[t];
                if f[1].abs() > worst.0 || f[1].is_nan() {
                    worst = (f[1].abs(), i);
                }
            }
            // SAFETY: as above.
            unsafe {
                *rhs.ptr().add(2 * t) = f[0];
                *rhs.ptr().add(2 * t + 1) = f[1];
            }
        }
        worst
    }
}
