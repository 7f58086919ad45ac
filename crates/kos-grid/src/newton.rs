//! Newton-Raphson AC power flow in polar form on one island, with a sparse Jacobian whose
//! pattern and LU layout (see [`crate::sparse_lu`]) are built once and reused for every
//! iteration and every solve until the island's topology or bus roles change.

use num_complex::Complex64;

use crate::GridError;
use crate::sparse_lu::PatternLu;
use crate::ybus::Ybus;

const NONE: usize = usize::MAX;

/// Newton-Raphson is taken to diverge once its mismatch exceeds this multiple of the larger
/// of its first mismatch and 1 pu: from there it practically never returns, and stopping
/// early leaves time for the fast-decoupled fallback.
const DIVERGED: f64 = 1e6;

/// Role of a bus inside one island's Newton system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The island's reference: angle held (and magnitude held).
    Reference,
    /// Voltage-controlled: magnitude held, angle unknown.
    Pv,
    /// Load bus: magnitude and angle unknown.
    Pq,
}

/// Convergence controls of Newton-Raphson.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOptions {
    /// Largest allowed power mismatch, pu (MATPOWER's default is 1e-8).
    pub tolerance_pu: f64,
    /// Iteration cap.
    pub max_iterations: usize,
    /// Below this mismatch (pu), an update may reuse the LU factors of the Jacobian of the
    /// step before instead of factorising a new one (a chord step): near the solution the
    /// Jacobian hardly changes, and the solve costs a fraction of a factorisation. A chord
    /// step that does not cut the mismatch tenfold is followed by full Newton steps. Zero
    /// (the default) makes every step a Newton step.
    pub reuse_factors_below: f64,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        Self {
            tolerance_pu: 1e-8,
            max_iterations: 30,
            reuse_factors_below: 0.0,
        }
    }
}

/// How Newton-Raphson ended on one island.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonOutcome {
    /// Mismatch fell below the tolerance.
    pub converged: bool,
    /// Newton updates taken.
    pub iterations: usize,
    /// Largest power mismatch at the end, pu.
    pub max_mismatch_pu: f64,
    /// Local index of the bus with the largest mismatch.
    pub max_mismatch_bus: usize,
    /// Fast-decoupled iterations taken before or instead of Newton's (see
    /// [`crate::fdpf`]); 0 when Newton-Raphson alone solved it.
    pub fast_decoupled_iterations: usize,
}

/// Cached Newton system of one island: local admittance matrix, Jacobian pattern and
/// LU layout. Local bus `i` is global bus `buses[i]`.
pub struct IslandNewton {
    /// Global indices of the island's buses, ascending.
    pub buses: Vec<usize>,
    /// Local admittance matrix.
    pub ybus: Ybus,
    /// Position in the global admittance matrix of each local entry.
    global_pos: Vec<usize>,
    roles: Vec<Role>,
    /// Row of P_i (and column of theta_i, or of lambda at the reference).
    prow: Vec<usize>,
    /// Row of Q_i and column of |V_i| (PQ buses only).
    qrow: Vec<usize>,
    /// Column of theta_i (non-reference buses).
    acol: Vec<usize>,
    /// Participation share of each bus in the distributed slack (empty: single slack).
    alpha: Vec<f64>,
    lambda_col: usize,
    dim: usize,
    j_col_ptr: Vec<usize>,
    j_row_idx: Vec<usize>,
    j_val: Vec<f64>,
    /// Jacobian positions fed by each admittance entry: (P,th), (Q,th), (P,vm), (Q,vm).
    j_map: Vec<[usize; 4]>,
    /// Jacobian positions of the lambda column, with their bus.
    lambda_pos: Vec<(usize, usize)>,
    lu: PatternLu,
    v: Vec<Complex64>,
    cur: Vec<Complex64>,
    rhs: Vec<f64>,
    /// The state before the last update, to fall back on.
    backup: (Vec<f64>, Vec<f64>),
    /// Buses cut off from the island by an opening (their equations become `dx = 0`).
    frozen: Vec<bool>,
}

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

        let distributed = !alpha.is_empty();
        let mut prow = vec![NONE; n];
        let mut qrow = vec![NONE; n];
        let mut acol = vec![NONE; n];
        let mut lambda_col = NONE;
        let mut next = 0;
        for i in 0..n {
            match roles[i] {
                Role::Reference => {
                    if distributed {
                        prow[i] = next;
                        lambda_col = next;
                        next += 1;
                    }
                }
                Role::Pv => {
                    prow[i] = next;
                    acol[i] = next;
                    next += 1;
                }
                Role::Pq => {
                    prow[i] = next;
                    acol[i] = next;
                    qrow[i] = next + 1;
                    next += 2;
                }
            }
        }
        let dim = next;

        // Jacobian pattern, column by column in index order.
        let nnz_y = ybus.row_idx.len();
        let mut j_map = vec![[NONE; 4]; nnz_y];
        let mut j_col_ptr = Vec::with_capacity(dim + 1);
        let mut j_row_idx = Vec::new();
        let mut lambda_pos = Vec::new();
        j_col_ptr.push(0);
        for k in 0..n {
            if acol[k] != NONE {
                for p in ybus.col_ptr[k]..ybus.col_ptr[k + 1] {
                    let i = ybus.row_idx[p];
                    if prow[i] != NONE {
                        j_map[p][0] = j_row_idx.len();
                        j_row_idx.push(prow[i]);
                    }
                    if qrow[i] != NONE {
                        j_map[p][1] = j_row_idx.len();
                        j_row_idx.push(qrow[i]);
                    }
                }
                j_col_ptr.push(j_row_idx.len());
            } else if k < n && lambda_col != NONE && prow[k] == lambda_col {
                for i in 0..n {
                    if prow[i] != NONE && (alpha[i] != 0.0 || i == k) {
                        lambda_pos.push((i, j_row_idx.len()));
                        j_row_idx.push(prow[i]);
                    }
                }
                j_col_ptr.push(j_row_idx.len());
            }
            if qrow[k] != NONE {
                for p in ybus.col_ptr[k]..ybus.col_ptr[k + 1] {
                    let i = ybus.row_idx[p];
                    if prow[i] != NONE {
                        j_map[p][2] = j_row_idx.len();
                        j_row_idx.push(prow[i]);
                    }
                    if qrow[i] != NONE {
                        j_map[p][3] = j_row_idx.len();
                        j_row_idx.push(qrow[i]);
                    }
                }
                j_col_ptr.push(j_row_idx.len());
            }
        }
        debug_assert_eq!(j_col_ptr.len(), dim + 1);
        let j_val = vec![0.0; j_row_idx.len()];
        let lu = PatternLu::new(dim, &j_col_ptr, &j_row_idx)?;
        Ok(Self {
            buses,
            ybus,
            global_pos,
            roles,
            prow,
            qrow,
            acol,
            alpha,
            lambda_col,
            dim,
            j_col_ptr,
            j_row_idx,
            j_val,
            j_map,
            lambda_pos,
            lu,
            v: vec![Complex64::new(0.0, 0.0); n],
            cur: vec![Complex64::new(0.0, 0.0); n],
            rhs: vec![0.0; dim],
            backup: (vec![0.0; n], vec![0.0; n]),
            frozen: vec![false; n],
        })
    }

    /// Copies the values of the island's entries from the global admittance matrix it was
    /// built from (same pattern, new values).
    pub fn refresh(&mut self, y: &Ybus) {
        for (v, &p) in self.ybus.val.iter_mut().zip(&self.global_pos) {
            *v = y.val[p];
        }
    }

    /// Number of buses.
    pub fn len(&self) -> usize {
        self.buses.len()
    }

    /// Whether the island has no bus.
    pub fn is_empty(&self) -> bool {
        self.buses.is_empty()
    }

    /// Marks the local buses that an opening has cut off from the island: they keep their
    /// place in the pattern (so every factorisation stays valid) but are not solved.
    pub fn set_frozen(&mut self, frozen: &[bool]) {
        self.frozen.copy_from_slice(frozen);
    }

    /// Local buses currently cut off.
    pub fn frozen(&self) -> &[bool] {
        &self.frozen
    }

    /// Role of local bus `i`.
    pub fn role(&self, i: usize) -> Role {
        self.roles[i]
    }

    /// Computes `V`, `I = Y V` and the mismatch vector into `rhs`; returns the largest
    /// absolute mismatch and its local bus.
    fn mismatch(
        &mut self,
        vm: &[f64],
        va: &[f64],
        p_spec: &[f64],
        q_spec: &[f64],
        lambda: f64,
    ) -> (f64, usize) {
        for i in 0..self.v.len() {
            self.v[i] = crate::polar(vm[i], va[i]);
        }
        self.ybus.mul(&self.v, &mut self.cur);
        let mut worst = (0.0f64, 0usize);
        for i in 0..self.v.len() {
            if self.frozen[i] {
                for row in [self.prow[i], self.qrow[i]] {
                    if row != NONE {
                        self.rhs[row] = 0.0;
                    }
                }
                continue;
            }
            let s = self.v[i] * self.cur[i].conj();
            if self.prow[i] != NONE {
                let share = if self.alpha.is_empty() {
                    0.0
                } else {
                    self.alpha[i] * lambda
                };
                let f = s.re - p_spec[i] - share;
                self.rhs[self.prow[i]] = f;
                if f.abs() > worst.0 || f.is_nan() {
                    worst = (f.abs(), i);
                }
            }
            if self.qrow[i] != NONE {
                let f = s.im - q_spec[i];
                self.rhs[self.qrow[i]] = f;
                if f.abs() > worst.0 || f.is_nan() {
                    worst = (f.abs(), i);
                }
            }
        }
        worst
    }

    /// Fills the Jacobian values from the current `V` and `I`.
    fn fill_jacobian(&mut self, vm: &[f64]) {
        let y = &self.ybus;
        let j = &mut self.j_val;
        for k in 0..y.n {
            let vk = self.v[k];
            let inv_vmk = 1.0 / vm[k];
            for p in y.col_ptr[k]..y.col_ptr[k + 1] {
                let i = y.row_idx[p];
                let vi = self.v[i];
                // dS/dVa(i,k) = j V_i conj(d_ik I_i - Y_ik V_k)
                // dS/dVm(i,k) = V_i conj(Y_ik V_k/|V_k|) + d_ik conj(I_i) V_i/|V_i|
                // Both from one product: w = V_i conj(Y_ik V_k), and s_i = V_i conj(I_i).
                let w = vi * (y.val[p] * vk).conj();
                let mut d_va = Complex64::new(w.im, -w.re);
                let mut d_vm = w * inv_vmk;
                if i == k {
                    let s = vi * self.cur[i].conj();
                    d_va += Complex64::new(-s.im, s.re);
                    d_vm += s * inv_vmk;
                }
                let m = self.j_map[p];
                if self.frozen[i] {
                    // Identity rows: a cut-off bus does not move.
                    let one = if i == k { 1.0 } else { 0.0 };
                    for (slot, v) in [(m[0], one), (m[1], 0.0), (m[2], 0.0), (m[3], one)] {
                        if slot != NONE {
                            j[slot] = v;
                        }
                    }
                    continue;
                }
                if m[0] != NONE {
                    j[m[0]] = d_va.re;
                }
                if m[1] != NONE {
                    j[m[1]] = d_va.im;
                }
                if m[2] != NONE {
                    j[m[2]] = d_vm.re;
                }
                if m[3] != NONE {
                    j[m[3]] = d_vm.im;
                }
            }
        }
        for &(i, pos) in &self.lambda_pos {
            j[pos] = if self.frozen[i] { 0.0 } else { -self.alpha[i] };
        }
    }

    /// Runs Newton-Raphson from the given state (local arrays: magnitudes in pu, angles in
    /// radians; held values must already be set). `p_spec`/`q_spec` are the scheduled net
    /// injections in pu. On return the state holds the solution, or the last finite iterate
    /// when the method failed. `lambda` is the distributed slack power, pu.
    pub fn solve(
        &mut self,
        vm: &mut [f64],
        va: &mut [f64],
        lambda: &mut f64,
        p_spec: &[f64],
        q_spec: &[f64],
        opts: &NewtonOptions,
    ) -> NewtonOutcome {
        let n = self.len();
        let mut it = 0;
        let (mut worst, mut worst_bus) = self.mismatch(vm, va, p_spec, q_spec, *lambda);
        let diverged = DIVERGED * worst.max(1.0);
        // Whether the factors hold a Jacobian of this solve (chord steps allowed).
        let mut factors_current = false;
        loop {
            if worst <= opts.tolerance_pu {
                return NewtonOutcome {
                    converged: true,
                    iterations: it,
                    max_mismatch_pu: worst,
                    max_mismatch_bus: worst_bus,
                    fast_decoupled_iterations: 0,
                };
            }
            if it >= opts.max_iterations || !(worst < diverged) || self.dim == 0 {
                break;
            }
            let chord = factors_current && worst < opts.reuse_factors_below;
            if !chord {
                self.fill_jacobian(vm);
                if !self
                    .lu
                    .factor(&self.j_col_ptr, &self.j_row_idx, &self.j_val)
                {
                    break;
                }
                factors_current = true;
            }
            self.lu.solve(&mut self.rhs);
            if self.rhs.iter().any(|x| !x.is_finite()) {
                break;
            }
            self.backup.0.copy_from_slice(vm);
            self.backup.1.copy_from_slice(va);
            let lambda_old = *lambda;
            for i in 0..n {
                if self.acol[i] != NONE {
                    va[i] -= self.rhs[self.acol[i]];
                }
                if self.qrow[i] != NONE {
                    vm[i] -= self.rhs[self.qrow[i]];
                }
            }
            if self.lambda_col != NONE {
                *lambda -= self.rhs[self.lambda_col];
            }
            it += 1;
            let (w, b) = self.mismatch(vm, va, p_spec, q_spec, *lambda);
            if !w.is_finite() || vm.iter().chain(va.iter()).any(|x| !x.is_finite()) {
                // Keep the last finite state rather than reporting garbage.
                vm.copy_from_slice(&self.backup.0);
                va.copy_from_slice(&self.backup.1);
                *lambda = lambda_old;
                let (w, b) = self.mismatch(vm, va, p_spec, q_spec, *lambda);
                worst = w;
                worst_bus = b;
                break;
            }
            if chord && !(w < 0.1 * worst) {
                // Slow contraction: Newton steps from here on.
                factors_current = false;
            }
            worst = w;
            worst_bus = b;
        }
        NewtonOutcome {
            converged: false,
            iterations: it,
            max_mismatch_pu: if worst.is_finite() { worst } else { f64::MAX },
            max_mismatch_bus: worst_bus,
            fast_decoupled_iterations: 0,
        }
    }

    /// Complex power injected at each local bus by the current state, pu
    /// (valid after [`IslandNewton::solve`]).
    pub fn injections(&self) -> Vec<Complex64> {
        self.v
            .iter()
            .zip(&self.cur)
            .map(|(v, i)| v * i.conj())
            .collect()
    }
}
