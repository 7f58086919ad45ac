//! The factorisation against known solutions, and the supernodes' invariants.

use super::supernodes::RELAX_ZEROS;
use super::*;

/// A linear congruential generator: 31 pseudo-random bits per call.
fn lcg(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        s >> 33
    }
}

/// A random sparse matrix with a strong diagonal, column-compressed.
fn matrix(n: usize, seed: u64, scale: f64) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut next = lcg(seed);
    let mut rnd = || next() as f64 / (1u64 << 31) as f64;
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

/// A Jacobian-like matrix: two unknowns per node of a ring with chords, a dense 2 x 2
/// block for each node and each edge, diagonally dominant.
fn block_matrix(nodes: usize, seed: u64) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let mut next = lcg(seed);
    let mut rnd = || next() as f64 / (1u64 << 31) as f64;
    let mut adj: Vec<Vec<usize>> = (0..nodes).map(|i| vec![i]).collect();
    for i in 0..nodes {
        for j in [(i + 1) % nodes, (i * 13 + 5) % nodes] {
            if i != j {
                adj[i].push(j);
                adj[j].push(i);
            }
        }
    }
    let (mut col_ptr, mut row_idx, mut val) = (vec![0], Vec::new(), Vec::new());
    for c in 0..2 * nodes {
        let mut rows: Vec<usize> = adj[c / 2]
            .iter()
            .flat_map(|&j| [2 * j, 2 * j + 1])
            .collect();
        rows.sort_unstable();
        rows.dedup();
        for r in rows {
            row_idx.push(r);
            val.push(if r == c { 20.0 + rnd() } else { rnd() - 0.5 });
        }
        col_ptr.push(row_idx.len());
    }
    (col_ptr, row_idx, val)
}

#[test]
fn supernodal_refactorisation_solves_block_matrices() {
    let (cp, ri, v0) = block_matrix(300, 7);
    let n = cp.len() - 1;
    let mut lu = PatternLu::new(n, &cp, &ri).unwrap();
    let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.61).cos()).collect();
    for seed in [7u64, 8, 9] {
        let (_, _, v) = block_matrix(300, seed);
        let v = if seed == 7 { v0.clone() } else { v };
        assert!(lu.factor(&cp, &ri, &v));
        assert!(lu.diagonal, "diagonal pivots hold on a dominant matrix");
        // Both unknowns of a node share their rows: supernodes of width two or more.
        let widest = lu.snodes.cols.iter().map(|(f, e)| e - f).max();
        assert!(widest.is_some_and(|w| w >= 2), "no supernode found");
        let mut b = mul(&cp, &ri, &v, &x);
        lu.solve(&mut b);
        let err = b
            .iter()
            .zip(&x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-10, "seed {seed}: error {err}");
    }
}

#[test]
fn relaxed_supernodes_only_add_rows_and_keep_the_elimination_structure() {
    // Symbolic Cholesky of a random symmetric pattern, column by column: a column's rows
    // are its own below the diagonal and those of its children in the elimination tree.
    let n = 60;
    let mut next = lcg(11);
    let mut rnd = || next() as usize;
    let mut a = vec![vec![false; n]; n];
    for i in 0..n {
        for j in [(i + 1) % n, rnd() % n, rnd() % n] {
            a[i][j] = true;
            a[j][i] = true;
        }
    }
    let mut l_cols: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut parent = vec![usize::MAX; n];
    for j in 0..n {
        let mut rows: Vec<usize> = (j + 1..n).filter(|&i| a[i][j]).collect();
        for c in 0..j {
            if parent[c] == j {
                rows.extend(l_cols[c].iter().copied().filter(|&i| i > j));
            }
        }
        rows.sort_unstable();
        rows.dedup();
        parent[j] = rows.first().copied().unwrap_or(usize::MAX);
        l_cols[j] = rows;
    }
    let before = l_cols.clone();
    relax_supernodes(&mut l_cols, &parent);
    let mut padded = 0;
    for j in 0..n {
        assert!(
            l_cols[j].windows(2).all(|w| w[0] < w[1]),
            "column {j} unsorted"
        );
        assert!(
            before[j].iter().all(|i| l_cols[j].contains(i)),
            "column {j} lost a row"
        );
        padded += l_cols[j].len() - before[j].len();
        // The parent is unchanged and holds the rest of the column.
        assert_eq!(l_cols[j].first().copied().unwrap_or(usize::MAX), parent[j]);
        if let Some((&p, rest)) = l_cols[j].split_first() {
            assert!(rest.iter().all(|i| l_cols[p].contains(i)), "column {j}");
        }
    }
    let total: usize = l_cols.iter().map(Vec::len).sum();
    assert!(padded > 0, "nothing was relaxed");
    assert!(
        padded as f64 <= RELAX_ZEROS * total as f64,
        "{padded} of {total}"
    );
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
