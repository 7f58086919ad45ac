//! Building an island's Newton system: its local admittance matrix, the Jacobian's block
//! pattern, the factorisation's order (the island's own, or for a factorisation that splits
//! its elimination order) and the admittance rows in it.

use num_complex::Complex64;

use super::evaluate::Rows;
use super::{IslandNewton, Role};
use crate::GridError;
use crate::aligned::Aligned;
use crate::sparse_lu::{BlockLu, Blocks};
use crate::ybus::Ybus;

const NONE: usize = usize::MAX;

impl IslandNewton {
    /// Builds the Newton system of the island made of `buses` (ascending global indices) of the
    /// global admittance matrix `y` (entries linking it to buses outside must be explicit
    /// zeros: open branches kept in the pattern). `roles[i]` is the role of local bus `i`; exactly one is
    /// the reference. With `alpha` non-empty (one share per local bus, summing to one), the
    /// slack power is shared among buses by those shares and the reference angle stays fixed.
    pub fn new(
        y: &Ybus,
        buses: Vec<usize>,
        roles: Vec<Role>,
        alpha: Vec<f64>,
    ) -> Result<Self, GridError> {
        let n = buses.len();
        let mut local = vec![NONE; y.n];
        for (i, &b) in buses.iter().enumerate() {
            local[b] = i;
        }
        // Local admittance matrix: the island's columns; every row lies in the island.
        let mut col_ptr = Vec::with_capacity(n + 1);
        let mut row_idx = Vec::new();
        let mut val = Vec::new();
        let mut diag = vec![0; n];
        let mut global_pos = Vec::new();
        col_ptr.push(0);
        for (c, &g) in buses.iter().enumerate() {
            for p in y.col_ptr[g]..y.col_ptr[g + 1] {
                let r = local[y.row_idx[p]];
                if r == NONE {
                    if y.val[p] == Complex64::new(0.0, 0.0) {
                        continue;
                    }
                    return Err(GridError::InvalidNetwork(
                        "island is connected to a bus outside it".into(),
                    ));
                }
                if r == c {
                    diag[c] = row_idx.len();
                }
                row_idx.push(r);
                val.push(y.val[p]);
                global_pos.push(p);
            }
            col_ptr.push(row_idx.len());
        }
        let ybus = Ybus {
            n,
            col_ptr,
            row_idx,
            val,
            diag,
            branch_pos: Vec::new(),
        };

        // Block pattern: the admittance matrix's, and with a distributed slack the share's
        // column (every participating bus in the reference's column, mirrored in its row so
        // that the pattern stays symmetric).
        let lambda_bus = if alpha.is_empty() {
            None
        } else {
            roles.iter().position(|&r| r == Role::Reference)
        };
        let mut extra: Vec<Vec<usize>> = vec![Vec::new(); n];
        if let Some(r) = lambda_bus {
            for i in 0..n {
                if i != r && alpha[i] != 0.0 {
                    extra[r].push(i);
                    extra[i].push(r);
                }
            }
        }
        // The pattern in the island's order. A factorisation that splits lays it out again
        // in its elimination order, where each thread's columns are contiguous, and the
        // Newton system keeps all its vectors in that order: a thread's rows, columns and
        // blocks lie together, and it fills the Jacobian's columns it factorises.
        let identity: Vec<usize> = (0..n).collect();
        let first = BlockPattern::new(&ybus, &extra, (&identity, &identity), (lambda_bus, &alpha));
        let lu0 = BlockLu::new(n, &first.ptr, &first.idx)?;
        let reordered = lu0.splits();
        let (order, pattern, lu) = if reordered {
            let order = lu0.elimination_order();
            let mut at = vec![0; n];
            for (t, &i) in order.iter().enumerate() {
                at[i] = t;
            }
            let pattern = BlockPattern::new(&ybus, &extra, (&order, &at), (lambda_bus, &alpha));
            let lu = BlockLu::in_own_order(n, &pattern.ptr, &pattern.idx)?;
            (order, pattern, lu)
        } else {
            (identity, first, lu0)
        };
        let BlockPattern {
            idx,
            mut j_pos,
            mut lambda_pos,
            ..
        } = pattern;
        // The Jacobian is written where the factorisation reads it.
        for q in j_pos.iter_mut() {
            // Below u32::MAX: `BlockLu::new` takes no larger pattern.
            *q = lu.positions()[*q as usize] as u32;
        }
        for (_, q) in lambda_pos.iter_mut() {
            *q = lu.positions()[*q];
        }
        let rows = Rows::new(&ybus, &j_pos, &order);
        // Two threads for the rows when the factorisation takes two: cut where half the
        // entries are on each side.
        let row_split = if lu.splits() { rows.half_cut() } else { 0 };
        let alpha_at = if alpha.is_empty() {
            Vec::new()
        } else {
            order.iter().map(|&i| alpha[i]).collect()
        };
        let lambda_at = lambda_bus.and_then(|r| order.iter().position(|&i| i == r));
        let mut nr = Self {
            buses,
            ybus,
            global_pos,
            roles: Vec::new(),
            p_eq: vec![false; n],
            q_eq: vec![false; n],
            angle_unknown: vec![false; n],
            row_mask: Aligned::zeros(n),
            col_mask: vec![[0.0; 2]; n],
            alpha_at,
            order,
            reordered,
            state: std::array::from_fn(|_| vec![0.0; if reordered { n } else { 0 }]),
            lambda_bus,
            lambda_at,
            unknowns: 0,
            j_val: Blocks::zeros(idx.len()),
            lambda_pos,
            rows,
            row_split,
            lu,
            v: Aligned::zeros(n),
            col_factor: Aligned::zeros(n),
            s: Aligned::zeros(n),
            rhs: vec![0.0; 2 * n],
            backup: (vec![0.0; n], vec![0.0; n]),
            frozen: vec![false; n],
        };
        nr.set_roles(roles);
        Ok(nr)
    }
}

/// The Jacobian's block pattern with the buses laid out in an order: the admittance
/// matrix's, and the distributed slack's extra entries.
struct BlockPattern {
    /// Rows (positions, ascending) of each position's column.
    ptr: Vec<usize>,
    idx: Vec<usize>,
    /// The block of each admittance entry.
    j_pos: Vec<u32>,
    /// Blocks of the slack share's column, with their row's position.
    lambda_pos: Vec<(usize, usize)>,
}

impl BlockPattern {
    /// The pattern of `ybus`'s entries and the `extra` ones (rows of each local column),
    /// local bus `order[t]` at position `t` (`at` the inverse), with the column of the
    /// reference `lambda_bus` listed for the share `alpha`.
    fn new(
        ybus: &Ybus,
        extra: &[Vec<usize>],
        (order, at): (&[usize], &[usize]),
        (lambda_bus, alpha): (Option<usize>, &[f64]),
    ) -> Self {
        let n = order.len();
        let mut ptr = Vec::with_capacity(n + 1);
        let mut idx = Vec::with_capacity(ybus.row_idx.len());
        let mut j_pos = vec![0u32; ybus.row_idx.len()];
        let mut lambda_pos = Vec::new();
        ptr.push(0);
        let mut rows: Vec<(usize, usize, usize)> = Vec::new();
        for &k in order {
            rows.clear();
            rows.extend((ybus.col_ptr[k]..ybus.col_ptr[k + 1]).map(|p| {
                let i = ybus.row_idx[p];
                (at[i], p, i)
            }));
            rows.extend(extra[k].iter().map(|&i| (at[i], NONE, i)));
            rows.sort_unstable();
            rows.dedup_by_key(|&mut (t, _, _)| t);
            // A row that is both an admittance entry and an extra keeps the entry (sorted
            // first: NONE is the largest position).
            for &(t, p, i) in &rows {
                let pos = idx.len();
                if p != NONE {
                    j_pos[p] = pos as u32;
                }
                if Some(k) == lambda_bus && (i == k || alpha[i] != 0.0) {
                    lambda_pos.push((t, pos));
                }
                idx.push(t);
            }
            ptr.push(idx.len());
        }
        Self {
            ptr,
            idx,
            j_pos,
            lambda_pos,
        }
    }
}
