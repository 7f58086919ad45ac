//! The numeric kernels of the block LU: 2 x 2 block arithmetic, the left-looking
//! factorisation and the triangular solves.
//!
//! Each kernel exists twice, portable and compiled for AVX2 (a block is then one 256-bit
//! register), chosen at run time. AVX2 is enabled without FMA, so every product and sum
//! rounds as in the portable code: both give the same bits.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{Block, Pattern};
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
fn apply(a: Block, x: [f64; 2]) -> [f64; 2] {
    [a[0] * x[0] + a[1] * x[1], a[2] * x[0] + a[3] * x[1]]
}

/// `y - a x` for 2-vectors `x`, `y`.
#[inline(always)]
fn sub_apply(y: [f64; 2], a: Block, x: [f64; 2]) -> [f64; 2] {
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
    pub l_val: Vec<Block>,
    pub u_val: Vec<Block>,
    /// Inverses of U's diagonal blocks.
    pub d_inv: Vec<Block>,
}

impl Factors {
    /// Whether these factors and `p`'s pointers have the lengths of `p`'s pattern. With what
    /// `Pattern::new` guarantees besides (pointers ascending, every row index below `nb`),
    /// that keeps the kernels' unchecked indexing in bounds.
    fn fit(&self, p: &Pattern) -> bool {
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

/// Factorises the columns `cols` (ascending), whose descendants must be factorised already.
///
/// # Safety
/// `f` views factors that fit `p` (`Factors::fit`), `val` and `x` have `p`'s lengths, and no
/// other thread writes the columns this one reads or writes.
unsafe fn factor_columns(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    cols: impl Iterator<Item = usize>,
    max_multiplier: f64,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above); the rest is the caller's.
        return unsafe { factor_avx2(p, val, f, x, cols, max_multiplier) };
    }
    // SAFETY: the caller's.
    unsafe { factor_portable(p, val, f, x, cols, max_multiplier) }
}

/// Part `h`'s share of the top's columns (see [`factor_split`]), with the part's columns
/// factorised.
///
/// # Safety
/// As [`factor_columns`]; `sums` has `p.top_cols.row`'s length.
unsafe fn share_of_top(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    h: u8,
    sums: &mut [Block],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above); the rest is the caller's.
        return unsafe { share_of_top_avx2(p, val, f, x, h, sums) };
    }
    // SAFETY: the caller's.
    unsafe { share_of_top_portable(p, val, f, x, h, sums) }
}

/// The top's columns, with both parts' shares of them done (see [`factor_split`]).
///
/// # Safety
/// As [`factor_columns`]; both `sums` have `p.top_cols.row`'s length.
unsafe fn factor_top(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    sums: [&[Block]; 2],
    max_multiplier: f64,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above); the rest is the caller's.
        return unsafe { factor_top_avx2(p, val, f, x, sums, max_multiplier) };
    }
    // SAFETY: the caller's.
    unsafe { factor_top_portable(p, val, f, x, sums, max_multiplier) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn factor_avx2(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    cols: impl Iterator<Item = usize>,
    max_multiplier: f64,
) -> bool {
    // SAFETY: the caller's.
    unsafe { factor_portable(p, val, f, x, cols, max_multiplier) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn share_of_top_avx2(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    h: u8,
    sums: &mut [Block],
) {
    // SAFETY: the caller's.
    unsafe { share_of_top_portable(p, val, f, x, h, sums) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn factor_top_avx2(
    p: &Pattern,
    val: &[Block],
    f: FactorsMut,
    x: &mut [Block],
    sums: [&[Block]; 2],
    max_multiplier: f64,
) -> bool {
    // SAFETY: the caller's.
    unsafe { factor_top_portable(p, val, f, x, sums, max_multiplier) }
}

#[inline(always)]
unsafe fn at<T: Copy>(v: &[T], i: usize) -> T {
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

/// Solves `L U y = b` in place in `y` (pivot order) with the factors `f`.
pub(super) fn solve(p: &Pattern, f: &Factors, y: &mut [[f64; 2]]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        return unsafe { solve_avx2(p, f, y) };
    }
    solve_portable(p, f, y)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn solve_avx2(p: &Pattern, f: &Factors, y: &mut [[f64; 2]]) {
    solve_portable(p, f, y)
}

#[inline(always)]
pub(super) fn solve_portable(p: &Pattern, f: &Factors, y: &mut [[f64; 2]]) {
    let nb = p.nb;
    assert!(f.fit(p) && y.len() == nb);
    // SAFETY: the lengths are as asserted (see `Factors::fit` for the rest).
    unsafe {
        let at = |v: &[usize], i: usize| *v.get_unchecked(i);
        for j in 0..nb {
            let yj = *y.get_unchecked(j);
            if yj == [0.0; 2] {
                continue;
            }
            for q in at(&p.l_ptr, j)..at(&p.l_ptr, j + 1) {
                let yi = y.get_unchecked_mut(*p.l_idx.get_unchecked(q) as usize);
                *yi = sub_apply(*yi, *f.l_val.get_unchecked(q), yj);
            }
        }
        for j in (0..nb).rev() {
            let yj = apply(*f.d_inv.get_unchecked(j), *y.get_unchecked(j));
            *y.get_unchecked_mut(j) = yj;
            if yj == [0.0; 2] {
                continue;
            }
            for q in at(&p.u_ptr, j)..at(&p.u_ptr, j + 1) {
                let yi = y.get_unchecked_mut(*p.u_idx.get_unchecked(q) as usize);
                *yi = sub_apply(*yi, *f.u_val.get_unchecked(q), yj);
            }
        }
    }
}

/// The solve of a split pattern (`p.split`), on a team of two threads or, without one, on
/// the caller in the same order of operations (so the same bits either way). Forward, each
/// part's columns update the part's rows and sum their updates of the top's rows in `z[h]`
/// (all zero before and after), the two parts side by side; then each top row takes both
/// sums and the updates of the top's columns, row by row. Backward, the top's columns update
/// the top's rows; then, side by side, each part takes the top's columns' updates of its rows
/// and goes on through its own columns: every row of a part receives the updates that
/// [`solve`] gives it, in the same order.
pub(super) fn solve_split(
    p: &Pattern,
    f: &Factors,
    y: &mut [[f64; 2]],
    z: [&mut [[f64; 2]]; 2],
    team: Option<&Team>,
) {
    let nb = p.nb;
    let (s, t, owner) = (&p.split, &p.top_rows, &p.top_cols.owner);
    let [z0, z1] = z;
    assert!(f.fit(p) && y.len() == nb && z0.len() == nb && z1.len() == nb);
    assert!(t.part_end.len() == nb && t.ptr.len() == s.top.len() + 1 && owner.len() == nb);
    let yp = Shared(y.as_mut_ptr());
    let zp = [Shared(z0.as_mut_ptr()), Shared(z1.as_mut_ptr())];
    // SAFETY (all blocks below): the lengths are as asserted and the patterns' indices in
    // bounds (`Pattern::new`, `TopRows::new`); in each half, part `h`'s columns update only
    // rows of part `h` (their descendants backward, their ancestors in the part forward) and
    // `z[h]`'s top rows, and the top's columns' updates of part `h`'s rows are taken by half
    // `h` alone.
    team::both(team, |h| unsafe {
        let (y, z) = (yp.ptr(), zp[h].ptr());
        for &j in &s.parts[h] {
            let j = j as usize;
            let yj = *y.add(j);
            if yj == [0.0; 2] {
                continue;
            }
            let (first, top, end) = (at(&p.l_ptr, j), at(&t.part_end, j), at(&p.l_ptr, j + 1));
            for q in first..top {
                let yi = &mut *y.add(at(&p.l_idx, q) as usize);
                *yi = sub_apply(*yi, at(&f.l_val, q), yj);
            }
            for q in top..end {
                let zi = &mut *z.add(at(&p.l_idx, q) as usize);
                *zi = sub_apply(*zi, at(&f.l_val, q), yj);
            }
        }
    });
    unsafe {
        let y = yp.ptr();
        for (r, &i) in s.top.iter().enumerate() {
            let i = i as usize;
            let (a, b) = (&mut *zp[0].ptr().add(i), &mut *zp[1].ptr().add(i));
            let y_i = *y.add(i);
            let mut yi = [(y_i[0] + a[0]) + b[0], (y_i[1] + a[1]) + b[1]];
            (*a, *b) = ([0.0; 2], [0.0; 2]);
            for e in at(&t.ptr, r)..at(&t.ptr, r + 1) {
                let yj = *y.add(at(&t.col, e) as usize);
                if yj != [0.0; 2] {
                    yi = sub_apply(yi, at(&f.l_val, at(&t.pos, e) as usize), yj);
                }
            }
            *y.add(i) = yi;
        }
        backward(p, f, yp, s.top.iter().rev(), |i| at(owner, i) == 2);
    }
    team::both(team, |h| unsafe {
        let y = yp.ptr();
        let mine = |i: usize| at(owner, i) == h as u8;
        for &j in s.top.iter().rev() {
            let j = j as usize;
            let yj = *y.add(j);
            if yj == [0.0; 2] {
                continue;
            }
            for q in at(&p.u_ptr, j)..at(&p.u_ptr, j + 1) {
                let i = at(&p.u_idx, q) as usize;
                if mine(i) {
                    let yi = &mut *y.add(i);
                    *yi = sub_apply(*yi, at(&f.u_val, q), yj);
                }
            }
        }
        backward(p, f, yp, s.parts[h].iter().rev(), |_| true)
    });
}

/// The backward solve through the columns `cols` (descending), updating the rows `to`
/// accepts.
///
/// # Safety
/// `y` points at `p.nb` pairs, `f` fits `p`, and no other thread touches the rows these
/// columns update.
#[inline(always)]
unsafe fn backward<'a>(
    p: &Pattern,
    f: &Factors,
    y: Shared<[f64; 2]>,
    cols: impl Iterator<Item = &'a u32>,
    to: impl Fn(usize) -> bool,
) {
    let y = y.ptr();
    // SAFETY: the caller's.
    unsafe {
        for &j in cols {
            let j = j as usize;
            let yj = apply(*f.d_inv.get_unchecked(j), *y.add(j));
            *y.add(j) = yj;
            if yj == [0.0; 2] {
                continue;
            }
            for q in *p.u_ptr.get_unchecked(j)..*p.u_ptr.get_unchecked(j + 1) {
                let i = *p.u_idx.get_unchecked(q) as usize;
                if to(i) {
                    let yi = &mut *y.add(i);
                    *yi = sub_apply(*yi, *f.u_val.get_unchecked(q), yj);
                }
            }
        }
    }
}
