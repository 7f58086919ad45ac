//! The numeric kernels of the block LU: 2 x 2 block arithmetic and the left-looking
//! factorisation (the triangular solves are in `solves`).
//!
//! Each kernel exists twice, portable and compiled for AVX2 (a block is then one 256-bit
//! register), chosen at run time. AVX2 is enabled without FMA, so every product and sum
//! rounds as in the portable code: both give the same bits.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{Block, Blocks, Pattern};
use crate::team::{self, Shared, Team};

pub(super) const ZERO: Block = [0.0; 4];

/// `a - l u`.
#[inline(always)]
fn sub_mul(a: Block, l: Block, u: Block) -> Block {
    [
        a[0] - (l[0] * u[0] + l[1] * u[2]),
        a[1] - (l[0] * u[1] + l[1] * u[3]),
        a[2] - (l[2] * u[0] + l[3] * u[2]),
        a[3] - (l[2] * u[1] + l[3] * u[3]),
    ]
}

/// `a b`.
#[inline(always)]
fn mul(a: Block, b: Block) -> Block {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
    ]
}

/// `a x` for a 2-vector `x`.
#[inline(always)]
pub(super) fn apply(a: Block, x: [f64; 2]) -> [f64; 2] {
    [a[0] * x[0] + a[1] * x[1], a[2] * x[0] + a[3] * x[1]]
}

/// `y - a x` for 2-vectors `x`, `y`.
#[inline(always)]
pub(super) fn sub_apply(y: [f64; 2], a: Block, x: [f64; 2]) -> [f64; 2] {
    [
        y[0] - (a[0] * x[0] + a[1] * x[1]),
        y[1] - (a[2] * x[0] + a[3] * x[1]),
    ]
}

/// The inverse of `d`, unless it is singular or so near it that the determinant cancels to
/// below 1e-12 of its terms.
#[inline(always)]
fn inverse(d: Block) -> Option<Block> {
    let (p, q) = (d[0] * d[3], d[1] * d[2]);
    let det = p - q;
    if !(det.is_finite() && det != 0.0 && det.abs() > 1e-12 * (p.abs() + q.abs())) {
        return None;
    }
    let r = 1.0 / det;
    Some([d[3] * r, -d[1] * r, -d[2] * r, d[0] * r])
}

/// The numbers of the factors.
pub(super) struct Factors {
    pub l_val: Blocks,
    pub u_val: Blocks,
    /// Inverses of U's diagonal blocks.
    pub d_inv: Blocks,
}

impl Factors {
    /// Whether these factors and `p`'s pointers have the lengths of `p`'s pattern. With what
    /// `Pattern::new` guarantees besides (pointers ascending, every row index below `nb`),
    /// that keeps the kernels' unchecked indexing in bounds.
    pub(super) fn fit(&self, p: &Pattern) -> bool {
        let nb = p.nb;
        let ends = |ptr: &[usize], len: usize| ptr.len() == nb + 1 && ptr[nb] == len;
        self.d_inv.len() == nb
            && self.l_val.len() == p.l_idx.len()
            && self.u_val.len() == p.u_idx.len()
            && ends(&p.a_ptr, p.a_row.len())
            && ends(&p.l_ptr, p.l_idx.len())
            && ends(&p.u_ptr, p.u_idx.len())
            && p.split.parts[0].len() + p.split.parts[1].len() + p.split.top.len() == nb
    }
}

/// Raw views of the factors' numbers, for threads that factorise disjoint columns (and read
/// only columns finished before: `factor_split`).
#[derive(Clone, Copy)]
pub(super) struct FactorsMut {
    l: Shared<Block>,
    u: Shared<Block>,
    d: Shared<Block>,
}

impl FactorsMut {
    pub(super) fn new(f: &mut Factors) -> Self {
        Self {
            l: Shared(f.l_val.as_mut_ptr()),
            u: Shared(f.u_val.as_mut_ptr()),
            d: Shared(f.d_inv.as_mut_ptr()),
        }
    }
}

/// Factorises (left-looking, one block column at a time) with the work vector `x` (all
/// zero, and left so). False when a pivot block is singular or gives a multiplier above
/// `max_multiplier`.
pub(super) fn factor(
    p: &Pattern,
    val: &[Block],
    f: &mut Factors,
    x: &mut [Block],
    max_multiplier: f64,
) -> bool {
    assert!(f.fit(p) && val.len() == p.a_row.len() && x.len() == p.nb);
    // SAFETY: the lengths are as asserted, and one thread factorises every column in order.
    unsafe { factor_columns(p, val, FactorsMut::new(f), x, 0..p.nb, max_multiplier) }
}

/// The factorisation of a split pattern (`p.split`), on a team of two threads or, without
/// one, on the caller in the same order of operations (so the same bits either way): each
/// part's columns, then its share of the top's columns (the entries of U in its rows and the
/// sums of its updates on the top's rows, left in `sums[h]`), the two side by side, each with
/// its own work vector; then the top's columns on the caller's.
pub(super) fn factor_split(
    p: &Pattern,
    val: &[Block],
    f: &mut Factors,
    x: [&mut [Block]; 2],
    sums: [&mut [Block]; 2],
    max_multiplier: f64,
    team: Option<&Team>,
) -> bool {
    let [x0, x1] = x;
    let [s0, s1] = sums;
    let n_sums = p.top_cols.row.len();
    assert!(f.fit(p) && val.len() == p.a_row.len() && x0.len() == p.nb && x1.len() == p.nb);
    assert!(s0.len() == n_sums && s1.len() == n_sums && p.top_cols.owner.len() == p.nb);
    assert!(
        p.top_cols.ptr.len() == p.split.top.len() + 1
            && p.top_cols.ptr[p.split.top.len()] == n_sums
    );
    let s = &p.split;
    let f = FactorsMut::new(f);
    let x = [Shared(x0.as_mut_ptr()), Shared(x1.as_mut_ptr())];
    let sums = [Shared(s0.as_mut_ptr()), Shared(s1.as_mut_ptr())];
    let ok = [AtomicBool::new(false), AtomicBool::new(false)];
    team::both(team, |h| {
        // SAFETY: the lengths are as asserted; half `h` alone uses work vector `h` and sums
        // `h`; each part's columns are ascending, a column's descendants are in its own part,
        // the parts write disjoint columns (`split::split`), and in the top's columns the
        // entries of U in disjoint rows (their own).
        let done = unsafe {
            let x = std::slice::from_raw_parts_mut(x[h].ptr(), p.nb);
            let cols = s.parts[h].iter().map(|&c| c as usize);
            factor_columns(p, val, f, x, cols, max_multiplier) && {
                let sums = std::slice::from_raw_parts_mut(sums[h].ptr(), n_sums);
                share_of_top(p, val, f, x, h as u8, sums);
                true
            }
        };
        ok[h].store(done, Ordering::Relaxed);
    });
    // SAFETY: as above; both parts and their shares are done.
    ok.iter().all(|o| o.load(Ordering::Relaxed))
        && unsafe { factor_top(p, val, f, x0, [&*s0, &*s1], max_multiplier) }
}

/// Defines an unsafe kernel `$name` that runs `$portable` compiled for AVX2 (`$avx2`) where
/// the processor has it, else as it is: the same operations, so the same bits.
macro_rules! avx2_or_portable {
    ($(#[$doc:meta])* fn $name:ident, $avx2:ident => $portable:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?) => {
        $(#[$doc])*
        unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2 (checked just above); the rest is the
                // caller's.
                return unsafe { $avx2($($arg),*) };
            }
            // SAFETY: the caller's.
            unsafe { $portable($($arg),*) }
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        pub(super) unsafe fn $avx2($($arg: $ty),*) $(-> $ret)? {
            // SAFETY: the caller's.
            unsafe { $portable($($arg),*) }
        }
    };
}

avx2_or_portable! {
    /// Factorises the columns `cols` (ascending), whose descendants must be factorised
    /// already.
    ///
    /// # Safety
    /// `f` views factors that fit `p` (`Factors::fit`), `val` and `x` have `p`'s lengths, and
    /// no other thread writes the columns this one reads or writes.
    fn factor_columns, factor_avx2 => factor_portable(
        p: &Pattern,
        val: &[Block],
        f: FactorsMut,
        x: &mut [Block],
        cols: impl Iterator<Item = usize>,
        max_multiplier: f64
    ) -> bool
}

avx2_or_portable! {
    /// Part `h`'s share of the top's columns (see [`factor_split`]), with the part's columns
    /// factorised.
    ///
    /// # Safety
    /// As [`factor_columns`]; `sums` has `p.top_cols.row`'s length.
    fn share_of_top, share_of_top_avx2 => share_of_top_portable(
        p: &Pattern,
        val: &[Block],
        f: FactorsMut,
        x: &mut [Block],
        h: u8,
        sums: &mut [Block]
    )
}

avx2_or_portable! {
    /// The top's columns, with both parts' shares of them done (see [`factor_split`]).
    ///
    /// # Safety
    /// As [`factor_columns`]; both `sums` have `p.top_cols.row`'s length.
    fn factor_top, factor_top_avx2 => factor_top_portable(
        p: &Pattern,
        val: &[Block],
        f: FactorsMut,
        x: &mut [Block],
        sums: [&[Block]; 2],
        max_multiplier: f64
    ) -> bool
}

#[inline(always)]
pub(super) unsafe fn at<T: Copy>(v: &[T], i: usize) -> T {
    // SAFETY: the caller's.
    unsafe { *v.get_unchecked(i) }
}

/// `x -= L(:, j) u` over the rows of column `j` of L.
///
/// # Safety
/// As [`factor_columns`], and column `j` of L is final.
#[inline(always)]
unsafe fn update(p: &Pattern, f: FactorsMut, x: &mut [Block], j: usize, u: Block) {
    // SAFETY: the caller's (see `Factors::fit` for the indices).
    unsafe {
        // Two rows a step (the loop's own instructions are a third of it otherwise).
        let (mut r, end) = (at(&p.l_ptr, j), at(&p.l_ptr, j + 1));
        while r + 1 < end {
            let (i0, i1) = (at(&p.l_idx, r), at(&p.l_idx, r + 1));
            let (l0, l1) = (*f.l.ptr().add(r), *f.l.ptr().add(r + 1));
            let x0 = x.get_unchecked_mut(i0 as usize);
            *x0 = sub_mul(*x0, l0, u);
            let x1 = x.get_unchecked_mut(i1 as usize);
            *x1 = sub_mul(*x1, l1, u);
            r += 2;
        }
        if r < end {
            let xi = x.get_unchecked_mut(at(&p.l_idx, r) as usize);
            *xi = sub_mul(*xi, *f.l.ptr().add(r), u);
        }
    }
}

/// Column `k`'s entries of U from the rows `j` that `take` accepts, in order, each taken from
/// `x` and its updates applied.
///
/// # Safety
/// As [`update`], for every accepted `j`.
#[inline(always)]
unsafe fn take_u(
    p: &Pattern,
    f: FactorsMut,
    x: &mut [Block],
    k: usize,
    take: impl Fn(usize) -> bool,
) {
    // SAFETY: the caller's.
    unsafe {
        for q in at(&p.u_ptr, k)..at(&p.u_ptr, k + 1) {
            let j = at(&p.u_idx, q) as usize;
            if !take(j) {
                continue;
            }
            let u = *x.get_unchecked(j);
            *x.get_unchecked_mut(j) = ZERO;
            *f.u.ptr().add(q) = u;
            if u != ZERO {
                update(p, f, x, j, u);
            }
        }
    }
}

/// Column `k`'s pivot and multipliers, from `x` after its updates: false (and `x` all zero)
/// when the pivot block fails the test.
///
/// # Safety
/// As [`factor_columns`].
#[inline(always)]
unsafe fn pivot(
    p: &Pattern,
    f: FactorsMut,
    x: &mut [Block],
    k: usize,
    max_multiplier: f64,
) -> bool {
    // SAFETY: the caller's.
    unsafe {
        let d = *x.get_unchecked(k);
        *x.get_unchecked_mut(k) = ZERO;
        let Some(d_inv) = inverse(d) else {
            x.fill(ZERO);
            return false;
        };
        *f.d.ptr().add(k) = d_inv;
        // Per entry, whether some multiplier exceeds the bound or is NaN.
        let mut over = [false; 4];
        for q in at(&p.l_ptr, k)..at(&p.l_ptr, k + 1) {
            let xi = x.get_unchecked_mut(at(&p.l_idx, q) as usize);
            let l = mul(*xi, d_inv);
            *xi = ZERO;
            for e in 0..4 {
                over[e] |= !(l[e].abs() <= max_multiplier);
            }
            *f.l.ptr().add(q) = l;
        }
        if over.iter().any(|&o| o) {
            x.fill(ZERO);
            return false;
        }
    }
    true
}

#[inline(always)]
pub(super) unsafe fn factor_portable(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    cols: impl Iterator<Item = usize>,
    max_multiplier: f64,
) -> bool {
    // SAFETY: as the caller guarantees (see `Factors::fit` for the indices).
    unsafe {
        for k in cols {
            for q in at(&p.a_ptr, k)..at(&p.a_ptr, k + 1) {
                *x.get_unchecked_mut(at(&p.a_row, q) as usize) = at(val, q);
            }
            take_u(p, f, x, k, |_| true);
            if !pivot(p, f, x, k, max_multiplier) {
                return false;
            }
        }
    }
    true
}

#[inline(always)]
pub(super) unsafe fn share_of_top_portable(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    h: u8,
    sums: &mut [Block],
) {
    let t = &p.top_cols;
    // SAFETY: as the caller guarantees (see `Factors::fit` for the indices, `TopCols::new`
    // for `t`'s).
    unsafe {
        let mine = |j: usize| at(&t.owner, j) == h;
        for (ti, &k) in p.split.top.iter().enumerate() {
            let k = k as usize;
            for q in at(&p.a_ptr, k)..at(&p.a_ptr, k + 1) {
                let row = at(&p.a_row, q) as usize;
                if mine(row) {
                    *x.get_unchecked_mut(row) = at(val, q);
                }
            }
            take_u(p, f, x, k, mine);
            for e in at(&t.ptr, ti)..at(&t.ptr, ti + 1) {
                let xr = x.get_unchecked_mut(at(&t.row, e) as usize);
                *sums.get_unchecked_mut(e) = *xr;
                *xr = ZERO;
            }
        }
    }
}

#[inline(always)]
pub(super) unsafe fn factor_top_portable(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    sums: [&[Block]; 2],
    max_multiplier: f64,
) -> bool {
    let t = &p.top_cols;
    // SAFETY: as the caller guarantees (see `Factors::fit` for the indices, `TopCols::new`
    // for `t`'s).
    unsafe {
        let top = |j: usize| at(&t.owner, j) == 2;
        for (ti, &k) in p.split.top.iter().enumerate() {
            let k = k as usize;
            for q in at(&p.a_ptr, k)..at(&p.a_ptr, k + 1) {
                let row = at(&p.a_row, q) as usize;
                if top(row) {
                    *x.get_unchecked_mut(row) = at(val, q);
                }
            }
            for e in at(&t.ptr, ti)..at(&t.ptr, ti + 1) {
                let xr = x.get_unchecked_mut(at(&t.row, e) as usize);
                let (a, b) = (at(sums[0], e), at(sums[1], e));
                *xr = std::array::from_fn(|i| (xr[i] + a[i]) + b[i]);
            }
            take_u(p, f, x, k, top);
            if !pivot(p, f, x, k, max_multiplier) {
                return false;
            }
        }
    }
    true
}
