//! Newton-Raphson AC power flow in polar form on one island, with a sparse Jacobian whose
//! pattern and LU layout (see [`crate::sparse_lu`]) are built once and reused for every
//! iteration and every solve until the island's topology or bus roles change.

use num_complex::Complex64;

use crate::GridError;
use crate::sparse_lu::{Block, BlockLu};
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
///
/// The Jacobian has one 2 x 2 block per admittance entry (rows P_i and Q_i, columns θ_k and
/// |V_k|), so its block pattern is the admittance matrix's and the roles of the buses only
/// decide values: an equation that is not solved (Q at a voltage-controlled bus, both at the
/// reference or at a bus an opening cut off) is an identity row with a zero mismatch, and an
/// unknown that is held is a zero column. Changing roles (PV to PQ at a reactive limit) keeps
/// every factorisation's layout. With a distributed slack the reference's angle column holds
/// the slack share's unknown instead (its entries are the participation shares).
pub struct IslandNewton {
    /// Global indices of the island's buses, ascending.
    pub buses: Vec<usize>,
    /// Local admittance matrix.
    pub ybus: Ybus,
    /// Position in the global admittance matrix of each local entry.
    global_pos: Vec<usize>,
    roles: Vec<Role>,
    /// Participation share of each bus in the distributed slack (empty: single slack).
    alpha: Vec<f64>,
    /// Whether each bus's P and Q equations are solved, and its angle is an unknown.
    p_eq: Vec<bool>,
    q_eq: Vec<bool>,
    angle_unknown: Vec<bool>,
    /// The same as factors of the Jacobian's rows (P, Q) and columns (θ, |V|): 1 or 0; a
    /// row's is laid out as its block's entries, the Q row's sign with it (`[p, p, -q, q]`).
    row_mask: Vec<[f64; 4]>,
    col_mask: Vec<[f64; 2]>,
    /// The reference, whose angle column carries the slack share (distributed slack only).
    lambda_bus: Option<usize>,
    /// Unknowns solved (0: nothing to do).
    unknowns: usize,
    /// Jacobian blocks, in the factorisation's order.
    j_val: Vec<Block>,
    /// Block of each admittance entry.
    j_pos: Vec<u32>,
    /// Blocks of the slack share's column, with their bus.
    lambda_pos: Vec<(usize, usize)>,
    lu: BlockLu,
    v: Vec<Complex64>,
    cur: Vec<Complex64>,
    /// Mismatch, then update: two entries per bus (P, Q).
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
        let mut b_ptr = Vec::with_capacity(n + 1);
        let mut b_idx = Vec::with_capacity(ybus.row_idx.len());
        let mut j_pos = vec![0u32; ybus.row_idx.len()];
        let mut lambda_pos = Vec::new();
        b_ptr.push(0);
        let mut rows: Vec<(usize, usize)> = Vec::new();
        for k in 0..n {
            rows.clear();
            rows.extend((ybus.col_ptr[k]..ybus.col_ptr[k + 1]).map(|p| (ybus.row_idx[p], p)));
            rows.extend(extra[k].iter().map(|&i| (i, NONE)));
            rows.sort_unstable();
            rows.dedup_by_key(|&mut (i, _)| i);
            // A row that is both an admittance entry and an extra keeps the entry (sorted
            // first: NONE is the largest position).
            for &(i, p) in &rows {
                let pos = b_idx.len();
                if p != NONE {
                    j_pos[p] = pos as u32;
                }
                if Some(k) == lambda_bus && (i == k || alpha[i] != 0.0) {
                    lambda_pos.push((i, pos));
                }
                b_idx.push(i);
            }
            b_ptr.push(b_idx.len());
        }
        let lu = BlockLu::new(n, &b_ptr, &b_idx)?;
        // The Jacobian is written where the factorisation reads it.
        for q in j_pos.iter_mut() {
            // Below u32::MAX: `BlockLu::new` takes no larger pattern.
            *q = lu.positions()[*q as usize] as u32;
        }
        for (_, q) in lambda_pos.iter_mut() {
            *q = lu.positions()[*q];
        }
        let mut nr = Self {
            buses,
            ybus,
            global_pos,
            roles: Vec::new(),
            alpha,
            p_eq: vec![false; n],
            q_eq: vec![false; n],
            angle_unknown: vec![false; n],
            row_mask: vec![[0.0; 4]; n],
            col_mask: vec![[0.0; 2]; n],
            lambda_bus,
            unknowns: 0,
            j_val: vec![[0.0; 4]; b_idx.len()],
            j_pos,
            lambda_pos,
            lu,
            v: vec![Complex64::new(0.0, 0.0); n],
            cur: vec![Complex64::new(0.0, 0.0); n],
            rhs: vec![0.0; 2 * n],
            backup: (vec![0.0; n], vec![0.0; n]),
            frozen: vec![false; n],
        };
        nr.set_roles(roles);
        Ok(nr)
    }

    /// Gives the buses new roles (the same reference): which equations are solved changes,
    /// the Jacobian's layout does not.
    pub fn set_roles(&mut self, roles: Vec<Role>) {
        self.roles = roles;
        self.update_equations();
    }

    fn update_equations(&mut self) {
        let distributed = self.lambda_bus.is_some();
        self.unknowns = 0;
        for i in 0..self.roles.len() {
            let live = !self.frozen[i];
            let role = self.roles[i];
            self.p_eq[i] = live && (role != Role::Reference || distributed);
            self.q_eq[i] = live && role == Role::Pq;
            self.angle_unknown[i] = self.p_eq[i] && role != Role::Reference;
            self.unknowns += usize::from(self.p_eq[i]) + usize::from(self.q_eq[i]);
            let on = |b: bool| f64::from(u8::from(b));
            let (p, q) = (on(self.p_eq[i]), on(self.q_eq[i]));
            self.row_mask[i] = [p, p, -q, q];
            self.col_mask[i] = [on(self.angle_unknown[i]), on(self.q_eq[i])];
        }
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
        self.update_equations();
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
        let n = self.v.len();
        for ((v, &m), &a) in self.v.iter_mut().zip(&vm[..n]).zip(&va[..n]) {
            *v = crate::polar(m, a);
        }
        self.ybus.mul(&self.v, &mut self.cur);
        let mut worst = (0.0f64, 0usize);
        let (p_spec, q_spec) = (&p_spec[..n], &q_spec[..n]);
        let (p_eq, q_eq) = (&self.p_eq[..n], &self.q_eq[..n]);
        let pairs = self.rhs[..2 * n].chunks_exact_mut(2);
        for (i, (f, (v, c))) in pairs.zip(self.v.iter().zip(&self.cur)).enumerate() {
            let s = v * c.conj();
            f[0] = 0.0;
            f[1] = 0.0;
            if p_eq[i] {
                let share = if self.alpha.is_empty() {
                    0.0
                } else {
                    self.alpha[i] * lambda
                };
                f[0] = s.re - p_spec[i] - share;
                if f[0].abs() > worst.0 || f[0].is_nan() {
                    worst = (f[0].abs(), i);
                }
            }
            if q_eq[i] {
                f[1] = s.im - q_spec[i];
                if f[1].abs() > worst.0 || f[1].is_nan() {
                    worst = (f[1].abs(), i);
                }
            }
        }
        worst
    }

    /// Fills the Jacobian values from the current `V` and `I`, column by column.
    fn fill_jacobian(&mut self, vm: &[f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above).
            return unsafe { self.fill_jacobian_avx2(vm) };
        }
        self.fill_jacobian_portable(vm)
    }

    /// [`IslandNewton::fill_jacobian`] compiled for AVX2 (a block is one register). Without
    /// FMA every product rounds as in the portable code: both give the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn fill_jacobian_avx2(&mut self, vm: &[f64]) {
        self.fill_jacobian_portable(vm)
    }

    #[inline(always)]
    fn fill_jacobian_portable(&mut self, vm: &[f64]) {
        let y = &self.ybus;
        let n = y.n;
        let j = &mut self.j_val;
        let (v, rows) = (&self.v[..n], &self.row_mask[..n]);
        // Each column's factor for its unknowns (θ, |V|), laid out as a block's entries.
        let cols = self.col_mask[..n].iter().zip(&vm[..n]);
        for (((k, ends), &vk), ([col_a, col_v], &vmk)) in
            y.col_ptr.windows(2).enumerate().zip(v).zip(cols)
        {
            let col_v = col_v / vmk;
            let col = [*col_a, col_v, *col_a, col_v];
            let (first, end) = (ends[0], ends[1]);
            for ((&i, &yik), &q) in y.row_idx[first..end]
                .iter()
                .zip(&y.val[first..end])
                .zip(&self.j_pos[first..end])
            {
                // With w = V_i conj(Y_ik V_k): dS_i/dθ_k = -j w and dS_i/d|V_k| = w / |V_k|.
                let w = v[i] * (yik * vk).conj();
                let row = rows[i];
                let m = [
                    row[0] * col[0],
                    row[1] * col[1],
                    row[2] * col[2],
                    row[3] * col[3],
                ];
                j[q as usize] = [m[0] * w.im, m[1] * w.re, m[2] * w.re, m[3] * w.im];
            }
            // On the diagonal, with s_k = V_k conj(I_k): dS_k/dθ_k gains j s_k and
            // dS_k/d|V_k| gains s_k / |V_k|; an equation not solved is an identity row.
            let s = vk * self.cur[k].conj();
            let (row_p, row_q) = (rows[k][0], rows[k][3]);
            let b = &mut j[self.j_pos[y.diag[k]] as usize];
            b[0] += row_p * col_a * -s.im + (1.0 - row_p);
            b[1] += row_p * col_v * s.re;
            b[2] += row_q * col_a * s.re;
            b[3] += row_q * col_v * s.im + (1.0 - row_q);
        }
        for &(i, pos) in &self.lambda_pos {
            j[pos][0] = if self.p_eq[i] { -self.alpha[i] } else { 0.0 };
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
            if it >= opts.max_iterations || !(worst < diverged) || self.unknowns == 0 {
                break;
            }
            let chord = factors_current && worst < opts.reuse_factors_below;
            if !chord {
                self.fill_jacobian(vm);
                if !self.lu.factor(&self.j_val) {
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
                if self.angle_unknown[i] {
                    va[i] -= self.rhs[2 * i];
                }
                if self.q_eq[i] {
                    vm[i] -= self.rhs[2 * i + 1];
                }
            }
            if let Some(r) = self.lambda_bus {
                *lambda -= self.rhs[2 * r];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Branch, Bus, BusKind, Network};

    /// A 60-bus ring with chords, some branches off-nominal transformers with phase shift.
    fn network() -> Network {
        let n = 60;
        let mut net = Network::new("ring", 100.0);
        for i in 0..n {
            let kind = if i == 0 { BusKind::Slack } else { BusKind::Pq };
            net.buses.push(Bus::new(format!("{i}"), kind, 20.0));
        }
        for i in 0..n {
            for (k, j) in [(i + 1) % n, (i * 7 + 3) % n].into_iter().enumerate() {
                if i != j {
                    let mut br = Branch::line(i, j, 0.01 + 0.001 * i as f64, 0.1, 0.02);
                    if (i + k) % 9 == 0 {
                        br.tap = 1.03;
                        br.shift_deg = 2.0;
                    }
                    net.branches.push(br);
                }
            }
        }
        net
    }

    /// The Jacobian compiled for AVX2 has the portable fill's bits, with voltage-controlled
    /// buses and a distributed slack in it.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_jacobians_give_the_same_bits() {
        use crate::simd_test::{bits, has_avx2};
        if !has_avx2() {
            return;
        }
        let net = network();
        let n = net.buses.len();
        let y = Ybus::build(&net, |_, br| br.in_service);
        let roles: Vec<Role> = (0..n)
            .map(|i| match i {
                0 => Role::Reference,
                i if i % 5 == 0 => Role::Pv,
                _ => Role::Pq,
            })
            .collect();
        let vm: Vec<f64> = (0..n).map(|i| 1.0 + 0.04 * (i as f64).sin()).collect();
        let va: Vec<f64> = (0..n).map(|i| 0.3 * (i as f64 * 0.7).cos()).collect();
        let spec = vec![0.1; n];
        for alpha in [Vec::new(), vec![1.0 / n as f64; n]] {
            let mut nr = IslandNewton::new(&y, (0..n).collect(), roles.clone(), alpha).unwrap();
            nr.mismatch(&vm, &va, &spec, &spec, 0.2);
            nr.fill_jacobian_portable(&vm);
            let portable = nr.j_val.clone();
            nr.j_val.fill([0.0; 4]);
            // SAFETY: the processor has AVX2 (checked above).
            unsafe { nr.fill_jacobian_avx2(&vm) };
            assert_eq!(bits(&portable), bits(&nr.j_val));
            assert!(portable.iter().flatten().all(|x| x.is_finite()));
        }
    }
}
