//! Supernodes of L for the numeric factorisation: runs of columns that share their rows
//! below the diagonal, found as they stand (fundamental) or made by padding chains with a few
//! explicit zeros (relaxed).

/// Largest share of explicit zeros a relaxed supernode may hold.
pub(super) const RELAX_ZEROS: f64 = 0.1;

/// Pads chains of columns of L (each column's parent in the elimination tree the next
/// column) whose patterns differ by few rows to one pattern, so that they form one
/// supernode (relaxed supernodes, as in CHOLMOD): a column's rows are always within its
/// parent's plus the parent itself, so padding only adds explicit zeros. A run grows while
/// its zeros stay within [`RELAX_ZEROS`] of its entries. `l_cols[j]` holds the rows below
/// the diagonal of column j, ascending.
pub(super) fn relax_supernodes(l_cols: &mut [Vec<usize>], parent: &[usize]) {
    let n = l_cols.len();
    let mut f = 0;
    while f < n {
        let mut true_nz = l_cols[f].len();
        let mut e = f + 1;
        while e < n && e - f < Supernodes::MAX_WIDTH && parent[e - 1] == e {
            let w = e - f + 1;
            let padded = w * (w - 1) / 2 + w * l_cols[e].len();
            let t = true_nz + l_cols[e].len();
            if padded.saturating_sub(t) as f64 > RELAX_ZEROS * padded as f64 {
                break;
            }
            true_nz = t;
            e += 1;
        }
        let last = e - 1;
        for c in f..last {
            let mut col: Vec<usize> = (c + 1..=last).collect();
            col.extend_from_slice(&l_cols[last]);
            l_cols[c] = col;
        }
        f = e;
    }
}

/// Fundamental supernodes of L: runs of consecutive columns `f..e` where each column's first
/// row below the diagonal is the next column and its remaining rows are those of the next
/// column, so all share one set of rows below `e`. Their values below the run are kept row by
/// row in one dense block (`val`, row-major, `e - f` wide) beside L's column storage.
#[derive(Default)]
pub(super) struct Supernodes {
    /// Supernode of each column (`u32::MAX`: a column of its own).
    pub(super) of_col: Vec<u32>,
    /// Columns of each supernode: first, and one past the last.
    pub(super) cols: Vec<(usize, usize)>,
    pub(super) row_ptr: Vec<usize>,
    /// Shared rows below each supernode.
    pub(super) rows: Vec<usize>,
    pub(super) val_ptr: Vec<usize>,
    pub(super) val: Vec<f64>,
}

impl Supernodes {
    /// Widest supernode kept (wider runs are split).
    pub(super) const MAX_WIDTH: usize = 32;
    /// Fewest shared rows below a supernode for its block to pay off; narrower runs are
    /// updated column by column (measured on case118 to case_ACTIVSg10k).
    pub(super) const MIN_SHARED_ROWS: usize = 16;

    /// No supernodes: every column of `n` on its own.
    pub(super) fn none(n: usize) -> Self {
        Self {
            of_col: vec![u32::MAX; n],
            ..Self::default()
        }
    }

    pub(super) fn find(l_ptr: &[usize], l_idx: &[usize]) -> Self {
        let n = l_ptr.len() - 1;
        let col = |j: usize| &l_idx[l_ptr[j]..l_ptr[j + 1]];
        let mut sn = Self {
            of_col: vec![u32::MAX; n],
            cols: Vec::new(),
            row_ptr: vec![0],
            rows: Vec::new(),
            val_ptr: vec![0],
            val: Vec::new(),
        };
        let mut f = 0;
        while f < n {
            let mut e = f + 1;
            while e < n && e - f < Self::MAX_WIDTH {
                let prev = col(e - 1);
                if prev.first() == Some(&e) && prev[1..] == *col(e) {
                    e += 1;
                } else {
                    break;
                }
            }
            if e - f >= 2 && col(e - 1).len() >= Self::MIN_SHARED_ROWS {
                let s = sn.cols.len();
                sn.cols.push((f, e));
                sn.of_col[f..e].fill(s as u32);
                let below = col(e - 1);
                sn.rows.extend_from_slice(below);
                sn.row_ptr.push(sn.rows.len());
                sn.val_ptr.push(sn.val_ptr[s] + below.len() * (e - f));
            }
            f = e;
        }
        sn.val = vec![0.0; sn.val_ptr[sn.cols.len()]];
        sn
    }
}
