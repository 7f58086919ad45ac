//! The triangular solves of the block LU, with the factors of `kernels`: on one thread, and
//! by the split of the pattern on a team of two threads or, in the same order, on one.

use super::Pattern;
use super::kernels::{Factors, apply, at, sub_apply};
use crate::team::{self, Shared, Team};

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
