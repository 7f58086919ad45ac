//! The block factorisation against known solutions and the scalar factorisation.

use super::kernels::{FactorsMut, ZERO};
use super::*;

/// A linear congruential generator: uniform in [0, 1).
fn lcg(seed: u64) -> impl FnMut() -> f64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 33) as f64 / (1u64 << 31) as f64
    }
}

/// A symmetric block pattern from adjacency lists (diagonal added), with random blocks, the
/// diagonal ones dominant by `dominance`.
fn matrix(
    mut adj: Vec<Vec<usize>>,
    seed: u64,
    dominance: f64,
) -> (Vec<usize>, Vec<usize>, Vec<Block>) {
    let mut rnd = lcg(seed);
    let (mut cp, mut ri, mut v) = (vec![0], Vec::new(), Vec::new());
    for (c, rows) in adj.iter_mut().enumerate() {
        rows.push(c);
        rows.sort_unstable();
        rows.dedup();
        for &r in rows.iter() {
            ri.push(r);
            let mut b = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
            if r == c {
                b[0] += dominance;
                b[3] += dominance;
            }
            v.push(b);
        }
        cp.push(ri.len());
    }
    (cp, ri, v)
}

/// A ring with chords.
fn ring(nb: usize) -> Vec<Vec<usize>> {
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nb];
    for i in 0..nb {
        for j in [(i + 1) % nb, (i * 13 + 5) % nb] {
            if i != j {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
    }
    adj
}

/// A `w` x `h` mesh, the pattern of a meshed grid.
fn mesh(w: usize, h: usize) -> Vec<Vec<usize>> {
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); w * h];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if x + 1 < w {
                adj[i].push(i + 1);
                adj[i + 1].push(i);
            }
            if y + 1 < h {
                adj[i].push(i + w);
                adj[i + w].push(i);
            }
        }
    }
    adj
}

fn mul_vec(cp: &[usize], ri: &[usize], v: &[Block], x: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for c in 0..cp.len() - 1 {
        for p in cp[c]..cp[c + 1] {
            let (r, b) = (ri[p], v[p]);
            y[2 * r] += b[0] * x[2 * c] + b[1] * x[2 * c + 1];
            y[2 * r + 1] += b[2] * x[2 * c] + b[3] * x[2 * c + 1];
        }
    }
    y
}

fn max_error(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn block_factors_solve_and_refactorise() {
    for adj in [ring(300), mesh(40, 40)] {
        let nb = adj.len();
        let (cp, ri, _) = matrix(adj.clone(), 1, 8.0);
        let mut lu = BlockLu::new(nb, &cp, &ri).unwrap();
        let x: Vec<f64> = (0..2 * nb).map(|i| (i as f64 * 0.37).sin()).collect();
        for seed in 1..5 {
            let (_, _, v) = matrix(adj.clone(), seed, 8.0);
            assert!(lu.factor(&lu.arrange(&v)));
            assert!(!lu.uses_fallback(), "dominant blocks need no pivoting");
            let mut b = mul_vec(&cp, &ri, &v, &x);
            lu.solve(&mut b);
            assert!(
                max_error(&b, &x) < 1e-11,
                "seed {seed}: {}",
                max_error(&b, &x)
            );
        }
    }
}

#[test]
fn same_solution_as_the_scalar_factorisation() {
    let adj = mesh(50, 40);
    let nb = adj.len();
    let (cp, ri, v) = matrix(adj, 3, 3.0);
    let mut lu = BlockLu::new(nb, &cp, &ri).unwrap();
    // The fill of the block order is that of the Cholesky factor of the order.
    let (_, inv) = amd_order(nb, &cp, &ri).unwrap();
    let (_, l_cols) = cholesky_pattern(&permuted_upper(&cp, &ri, &inv));
    assert_eq!(
        lu.factor_blocks().0,
        l_cols.iter().map(Vec::len).sum::<usize>()
    );
    let identity: Vec<usize> = (0..ri.len()).collect();
    let mut scalar = Scalar::new(nb, &cp, &ri, &identity).unwrap();
    assert!(lu.factor(&lu.arrange(&v)) && scalar.factor(&v));
    let b: Vec<f64> = (0..2 * nb).map(|i| (i as f64 * 0.11).cos()).collect();
    let (mut x1, mut x2) = (b.clone(), b.clone());
    lu.solve(&mut x1);
    scalar.lu.solve(&mut x2);
    assert!(max_error(&x1, &x2) < 1e-10, "{}", max_error(&x1, &x2));
}

#[test]
fn a_singular_pivot_block_falls_back_to_pivoting() {
    // Two blocks, both diagonal ones [0, 0; 0, 1] and both others [1, 0; 0, 0]: each
    // pivot block is singular whichever comes first; the matrix (a permutation) is not.
    let cp = vec![0, 2, 4];
    let ri = vec![0, 1, 0, 1];
    let v = vec![
        [0.0, 0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 1.0],
    ];
    let mut lu = BlockLu::new(2, &cp, &ri).unwrap();
    assert!(lu.factor(&lu.arrange(&v)));
    assert!(lu.uses_fallback());
    let x = [1.0, -2.0, 0.5, 3.0];
    let mut b = mul_vec(&cp, &ri, &v, &x);
    lu.solve(&mut b);
    assert!(max_error(&b, &x) < 1e-12, "{b:?}");
    // Dominant blocks again: back on the block factors.
    let w = vec![
        [5.0, 0.1, 0.2, 5.0],
        [0.3, 0.0, 0.1, 0.2],
        [0.1, 0.4, 0.0, 0.3],
        [6.0, 0.0, 0.5, 4.0],
    ];
    assert!(lu.factor(&lu.arrange(&w)));
    assert!(!lu.uses_fallback());
    assert!(lu.work.iter().all(|b| *b == ZERO));
}

#[test]
fn a_singular_matrix_is_reported() {
    let cp = vec![0, 1];
    let ri = vec![0];
    let mut lu = BlockLu::new(1, &cp, &ri).unwrap();
    assert!(!lu.factor(&[[1.0, 2.0, 2.0, 4.0]]));
}

/// The AVX2 kernels give the portable kernels' bits (no fused multiply-add, the same order of
/// operations), so a result does not depend on the processor.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_and_portable_kernels_give_the_same_bits() {
    use crate::simd_test::{bits, has_avx2};
    if !has_avx2() {
        return;
    }
    for (adj, dominance) in [(mesh(30, 30), 8.0), (ring(400), 4.0)] {
        let nb = adj.len();
        let (cp, ri, v) = matrix(adj, 7, dominance);
        let lu = BlockLu::new(nb, &cp, &ri).unwrap();
        let val = lu.arrange(&v);
        let new_factors = || kernels::Factors {
            l_val: Blocks::zeros(lu.p.l_idx.len()),
            u_val: Blocks::zeros(lu.p.u_idx.len()),
            d_inv: Blocks::zeros(nb),
        };
        let (mut fp, mut fa) = (new_factors(), new_factors());
        let mut x = vec![ZERO; nb];
        // SAFETY: the factors fit the pattern, one thread factorises every column in order,
        // and the processor has AVX2 (checked above).
        unsafe {
            let (vp, va) = (FactorsMut::new(&mut fp), FactorsMut::new(&mut fa));
            assert!(kernels::factor_portable(
                &lu.p,
                &val,
                vp,
                &mut x,
                0..nb,
                1e3
            ));
            assert!(kernels::factor_avx2(&lu.p, &val, va, &mut x, 0..nb, 1e3));
        }
        assert_eq!(bits(&fp.l_val), bits(&fa.l_val));
        assert_eq!(bits(&fp.u_val), bits(&fa.u_val));
        assert_eq!(bits(&fp.d_inv), bits(&fa.d_inv));
        // The split factorisation's kernels: the parts, their shares of the top, the top.
        let (mut fp, mut fa) = (new_factors(), new_factors());
        let n_sums = lu.p.top_cols.row.len();
        let (mut sp, mut sa) = (
            [vec![ZERO; n_sums], vec![ZERO; n_sums]],
            [vec![ZERO; n_sums], vec![ZERO; n_sums]],
        );
        // SAFETY: as above, each part's columns in order and then the top's.
        unsafe {
            let (vp, va) = (FactorsMut::new(&mut fp), FactorsMut::new(&mut fa));
            for h in 0..2 {
                let cols = || lu.p.split.parts[h].iter().map(|&c| c as usize);
                assert!(kernels::factor_portable(
                    &lu.p,
                    &val,
                    vp,
                    &mut x,
                    cols(),
                    1e3
                ));
                kernels::share_of_top_portable(&lu.p, &val, vp, &mut x, h as u8, &mut sp[h]);
                assert!(kernels::factor_avx2(&lu.p, &val, va, &mut x, cols(), 1e3));
                kernels::share_of_top_avx2(&lu.p, &val, va, &mut x, h as u8, &mut sa[h]);
            }
            assert!(kernels::factor_top_portable(
                &lu.p,
                &val,
                vp,
                &mut x,
                [&sp[0], &sp[1]],
                1e3
            ));
            assert!(kernels::factor_top_avx2(
                &lu.p,
                &val,
                va,
                &mut x,
                [&sa[0], &sa[1]],
                1e3
            ));
        }
        assert!(!lu.p.split.top.is_empty());
        assert_eq!(bits(&fp.l_val), bits(&fa.l_val));
        assert_eq!(bits(&fp.u_val), bits(&fa.u_val));
        assert_eq!(bits(&fp.d_inv), bits(&fa.d_inv));
        let b: Vec<[f64; 2]> = (0..nb)
            .map(|i| [(i as f64).sin(), (i as f64).cos()])
            .collect();
        let (mut yp, mut ya) = (b.clone(), b);
        solves::solve_portable(&lu.p, &fp, &mut yp);
        // SAFETY: as above.
        unsafe { solves::solve_avx2(&lu.p, &fa, &mut ya) };
        assert_eq!(bits(&yp), bits(&ya));
        assert!(yp.iter().flatten().all(|x| x.is_finite()));
    }
}

/// The values of `f` (L, U, the inverted diagonal), which are set to zero.
fn take_factors(f: &mut kernels::Factors) -> [Blocks; 3] {
    [&mut f.l_val, &mut f.u_val, &mut f.d_inv].map(|v| std::mem::replace(v, Blocks::zeros(v.len())))
}

/// The factorisation by the split, on two threads and on one, gives the same bits, and
/// the factors of the column-by-column factorisation up to rounding; the work vectors are
/// left zero; the split covers the columns, its parts are independent (checked in `split`),
/// and a failing pivot in either part or the top is reported.
#[test]
fn the_factorisation_on_two_threads_gives_the_bits_of_one() {
    use crate::simd_test::bits;
    for (adj, dominance) in [(mesh(30, 30), 8.0), (ring(400), 4.0), (mesh(3, 1), 4.0)] {
        let nb = adj.len();
        let (cp, ri, v) = matrix(adj, 11, dominance);
        let mut lu = BlockLu::new(nb, &cp, &ri).unwrap();
        let s = &lu.p.split;
        assert_eq!(s.parts[0].len() + s.parts[1].len() + s.top.len(), nb);
        if nb == 900 {
            // A mesh's elimination tree has large independent subtrees.
            assert!(s.gain() > 1.2, "gain {}", s.gain());
            assert!(s.top.len() > 1 && !s.parts[0].is_empty() && !s.parts[1].is_empty());
        }
        let val = lu.arrange(&v);
        let max = 1.0 / PIVOT_TOLERANCE;
        assert!(kernels::factor(&lu.p, &val, &mut lu.f, &mut lu.work, max));
        let columns = take_factors(&mut lu.f);
        assert!(lu.factor_split_in_place(&val, None));
        let one = take_factors(&mut lu.f);
        // Only the order of the sums on the top's columns differs.
        let close = |a: &[Block], b: &[Block]| {
            a.iter()
                .flatten()
                .zip(b.iter().flatten())
                .all(|(x, y)| (x - y).abs() <= 1e-12 * (1.0 + x.abs()))
        };
        assert!(columns.iter().zip(&one).all(|(a, b)| close(a, b)));
        assert!(Team::with(|t| lu.factor_split_in_place(&val, t)));
        let two = take_factors(&mut lu.f);
        for (a, b) in one.iter().zip(&two) {
            assert_eq!(bits(a), bits(b));
        }
        assert!(lu.work.iter().chain(&lu.work2).all(|b| *b == ZERO));
        // The solves too, with a zero in the right-hand side (skipped updates).
        let b: Vec<[f64; 2]> = (0..nb)
            .map(|i| {
                if i % 7 == 3 {
                    [0.0; 2]
                } else {
                    [(i as f64).sin(), (i as f64).cos()]
                }
            })
            .collect();
        let (mut y0, mut y1, mut y2) = (b.clone(), b.clone(), b);
        let mut z = [vec![[0.0; 2]; nb], vec![[0.0; 2]; nb]];
        solves::solve(&lu.p, &lu.f, &mut y0);
        let [z0, z1] = &mut z;
        solves::solve_split(&lu.p, &lu.f, &mut y1, [z0, z1], None);
        Team::with(|t| {
            let [z0, z1] = &mut z;
            solves::solve_split(&lu.p, &lu.f, &mut y2, [z0, z1], t)
        });
        assert_eq!(bits(&y1), bits(&y2));
        assert!(z.iter().flatten().all(|z| *z == [0.0; 2]));
        // Only the order of the sums on the top's rows differs from the plain solve.
        let flat = |y: &[[f64; 2]]| y.iter().flatten().copied().collect::<Vec<f64>>();
        assert!(
            max_error(&flat(&y0), &flat(&y1))
                <= 1e-12 * (1.0 + flat(&y0).iter().fold(0.0f64, |m, x| m.max(x.abs())))
        );
        // A NaN diagonal block, which fails every pivot test, in the last column of each
        // part, then of the top.
        for cols in
            lu.p.split
                .parts
                .clone()
                .iter()
                .chain([&lu.p.split.top.clone()])
        {
            let Some(&k) = cols.last() else { continue };
            let mut bad = v.clone();
            let o = lu.p.perm[k as usize] as usize;
            let d = (cp[o]..cp[o + 1]).find(|&q| ri[q] == o).unwrap();
            bad[d] = [f64::NAN; 4];
            let bad = lu.arrange(&bad);
            assert!(!lu.factor_split_in_place(&bad, None));
            assert!(!Team::with(|t| lu.factor_split_in_place(&bad, t)));
            assert!(lu.work.iter().chain(&lu.work2).all(|b| *b == ZERO));
        }
    }
}

/// Laid out in the elimination order, a matrix keeps the fill of its pivot order and the
/// same solution, and its split keeps each thread's columns contiguous.
#[test]
fn the_elimination_order_keeps_the_fill_and_makes_the_parts_contiguous() {
    for (adj, dominance) in [(mesh(60, 50), 8.0), (ring(400), 4.0)] {
        let nb = adj.len();
        let (cp, ri, v) = matrix(adj, 5, dominance);
        let lu = BlockLu::new(nb, &cp, &ri).unwrap();
        let order = lu.elimination_order();
        let mut at = vec![usize::MAX; nb];
        for (t, &b) in order.iter().enumerate() {
            at[b] = t;
        }
        assert!(at.iter().all(|&t| t < nb), "a permutation");
        // The same matrix, block (i, k) at (at[i], at[k]).
        let mut cols: Vec<Vec<(usize, Block)>> = vec![Vec::new(); nb];
        for k in 0..nb {
            for p in cp[k]..cp[k + 1] {
                cols[at[k]].push((at[ri[p]], v[p]));
            }
        }
        let (mut cp2, mut ri2, mut v2) = (vec![0], Vec::new(), Vec::new());
        for col in &mut cols {
            col.sort_by_key(|e| e.0);
            ri2.extend(col.iter().map(|e| e.0));
            v2.extend(col.iter().map(|e| e.1));
            cp2.push(ri2.len());
        }
        let mut own = BlockLu::in_own_order(nb, &cp2, &ri2).unwrap();
        assert_eq!(own.factor_blocks(), lu.factor_blocks(), "the same fill");
        assert_eq!(own.splits(), lu.splits());
        if nb == 3000 {
            assert!(own.splits());
            let s = &own.p.split;
            let run =
                |v: &[u32], from: usize| v.iter().enumerate().all(|(i, &k)| k as usize == from + i);
            let (a, b) = (s.parts[0].len(), s.parts[1].len());
            assert!(run(&s.parts[0], 0) && run(&s.parts[1], a) && run(&s.top, a + b));
            let old = &lu.p.split.parts;
            assert_eq!((a, b), (old[0].len(), old[1].len()));
        }
        // The same solution.
        let x: Vec<f64> = (0..2 * nb).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut x2 = vec![0.0; 2 * nb];
        for i in 0..nb {
            x2[2 * at[i]] = x[2 * i];
            x2[2 * at[i] + 1] = x[2 * i + 1];
        }
        let mut b2 = mul_vec(&cp2, &ri2, &v2, &x2);
        let val = own.arrange(&v2);
        assert!(own.factor(&val));
        own.solve(&mut b2);
        assert!(max_error(&b2, &x2) < 1e-9, "{}", max_error(&b2, &x2));
    }
}
