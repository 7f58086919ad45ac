//! Newton-Raphson AC power flow in polar form on one island, with a sparse Jacobian whose
//! pattern and LU layout (see [`crate::sparse_lu`]) are built once and reused for every
//! iteration and every solve until the island's topology or bus roles change.

use num_complex::Complex64;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::aligned::Aligned;
use crate::sparse_lu::{BlockLu, Blocks};
use crate::team::{self, Shared, Team};
use crate::ybus::Ybus;

mod build;
mod evaluate;

use evaluate::Rows;

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
    /// Whether a large island's solve may take two threads (see [`crate::team`]): the
    /// results are the same, bit for bit. Off where the caller runs solves side by side
    /// itself (N-1). On by default.
    pub two_threads: bool,
}

impl Default for NewtonOptions {
    fn default() -> Self {
        Self {
            tolerance_pu: 1e-8,
            max_iterations: 30,
            reuse_factors_below: 0.0,
            two_threads: true,
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
    /// The local bus at each position of the order the vectors below are kept in: the
    /// factorisation's elimination order when it splits (see [`BlockLu::elimination_order`]),
    /// else the island's own.
    order: Vec<usize>,
    /// Participation share in the distributed slack by position (empty: single slack).
    alpha_at: Vec<f64>,
    /// Whether each position's P and Q equations are solved, and its angle is an unknown.
    p_eq: Vec<bool>,
    q_eq: Vec<bool>,
    angle_unknown: Vec<bool>,
    /// The same as factors of the Jacobian's rows (P, Q) and columns (θ, |V|): 1 or 0; a
    /// row's is laid out as its block's entries, the Q row's sign with it (`[p, p, -q, q]`).
    row_mask: Aligned<[f64; 4]>,
    col_mask: Vec<[f64; 2]>,
    /// The reference, whose angle column carries the slack share (distributed slack only),
    /// as a local bus and as a position.
    lambda_bus: Option<usize>,
    lambda_at: Option<usize>,
    /// Whether `order` is not the island's own (only a factorisation that splits is laid out
    /// anew).
    reordered: bool,
    /// The solve's magnitudes, angles and scheduled injections P and Q by position (when
    /// reordered).
    state: [Vec<f64>; 4],
    /// Unknowns solved (0: nothing to do).
    unknowns: usize,
    /// Jacobian blocks, in the factorisation's order.
    j_val: Blocks,
    /// Blocks of the slack share's column, with their position.
    lambda_pos: Vec<(usize, usize)>,
    lu: BlockLu,
    /// The admittance matrix by rows, with each entry's Jacobian block.
    rows: Rows,
    /// Where the rows are cut in two for two threads (0: one thread).
    row_split: usize,
    v: Aligned<Complex64>,
    /// Each column's factors for its unknowns (θ, |V|): 1 or 0, the second over |V|; this
    /// and the rest by position.
    col_factor: Aligned<[f64; 2]>,
    /// Complex power injected at each position by the current state.
    s: Aligned<Complex64>,
    /// Mismatch, then update: two entries per position (P, Q).
    rhs: Vec<f64>,
    /// The state before the last update, to fall back on.
    backup: (Vec<f64>, Vec<f64>),
    /// Local buses cut off from the island by an opening (their equations become `dx = 0`).
    frozen: Vec<bool>,
}

impl IslandNewton {
    /// Gives the buses new roles (the same reference): which equations are solved changes,
    /// the Jacobian's layout does not.
    pub fn set_roles(&mut self, roles: Vec<Role>) {
        self.roles = roles;
        self.update_equations();
    }

    fn update_equations(&mut self) {
        let distributed = self.lambda_bus.is_some();
        self.unknowns = 0;
        for (t, &i) in self.order.iter().enumerate() {
            let live = !self.frozen[i];
            let role = self.roles[i];
            self.p_eq[t] = live && (role != Role::Reference || distributed);
            self.q_eq[t] = live && role == Role::Pq;
            self.angle_unknown[t] = self.p_eq[t] && role != Role::Reference;
            self.unknowns += usize::from(self.p_eq[t]) + usize::from(self.q_eq[t]);
            let on = |b: bool| f64::from(u8::from(b));
            let (p, q) = (on(self.p_eq[t]), on(self.q_eq[t]));
            self.row_mask[t] = [p, p, -q, q];
            self.col_mask[t] = [on(self.angle_unknown[t]), on(self.q_eq[t])];
        }
    }

    /// Copies the values of the island's entries from the global admittance matrix it was
    /// built from (same pattern, new values).
    pub fn refresh(&mut self, y: &Ybus) {
        for (v, &p) in self.ybus.val.iter_mut().zip(&self.global_pos) {
            *v = y.val[p];
        }
        self.rows.refresh(&self.ybus);
    }

    /// Whether the island is large enough to gain from two threads.
    pub fn gains_from_two_threads(&self) -> bool {
        self.row_split > 0
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

    /// Runs Newton-Raphson from the given state (local arrays: magnitudes in pu, angles in
    /// radians; held values must already be set). `p_spec`/`q_spec` are the scheduled net
    /// injections in pu. On return the state holds the solution, or the last finite iterate
    /// when the method failed. `lambda` is the distributed slack power, pu. A large island
    /// takes two threads where allowed ([`NewtonOptions::two_threads`]).
    pub fn solve(
        &mut self,
        vm: &mut [f64],
        va: &mut [f64],
        lambda: &mut f64,
        p_spec: &[f64],
        q_spec: &[f64],
        opts: &NewtonOptions,
    ) -> NewtonOutcome {
        let state = (vm, va, lambda);
        if opts.two_threads && self.gains_from_two_threads() {
            Team::with(|team| self.solve_with(state, (p_spec, q_spec), opts, team))
        } else {
            self.solve_with(state, (p_spec, q_spec), opts, None)
        }
    }

    /// [`IslandNewton::solve`] with the caller's team of two threads, taken where allowed
    /// and the island gains from it.
    pub(crate) fn solve_on(
        &mut self,
        vm: &mut [f64],
        va: &mut [f64],
        lambda: &mut f64,
        spec: (&[f64], &[f64]),
        opts: &NewtonOptions,
        team: Option<&Team>,
    ) -> NewtonOutcome {
        let team = team.filter(|_| opts.two_threads && self.gains_from_two_threads());
        self.solve_with((vm, va, lambda), spec, opts, team)
    }

    /// [`IslandNewton::solve`] with a team of two threads or none.
    fn solve_with(
        &mut self,
        (vm, va, lambda): (&mut [f64], &mut [f64], &mut f64),
        (p_spec, q_spec): (&[f64], &[f64]),
        opts: &NewtonOptions,
        team: Option<&Team>,
    ) -> NewtonOutcome {
        let n = self.len();
        assert!(
            vm.len() == n && va.len() == n && p_spec.len() >= n && q_spec.len() >= n,
            "state arrays fit the island"
        );
        if !self.reordered {
            // The island's own order: the state as it is.
            return self.iterate((vm, va, lambda), (p_spec, q_spec), opts, team);
        }
        // The state by position, each thread gathering its half.
        let mut state = std::mem::take(&mut self.state);
        let cut = if team.is_some() { self.row_split } else { n };
        let halves = [(0, cut), (cut, n)];
        let to = state.each_mut().map(|x| Shared(x.as_mut_ptr()));
        let (from, order) = ([&*vm, &*va, p_spec, q_spec], &self.order);
        team::both(team, |h| {
            for t in halves[h].0..halves[h].1 {
                for (to, from) in to.iter().zip(from) {
                    // SAFETY: position `t` of this half alone, within the state (of the
                    // island's length, as the inputs are: asserted above).
                    unsafe { *to.ptr().add(t) = from[order[t]] };
                }
            }
        });
        let [pvm, pva, pp, pq] = &mut state;
        let outcome = self.iterate((pvm, pva, lambda), (pp, pq), opts, team);
        for (&i, (&m, &a)) in self.order.iter().zip(pvm.iter().zip(pva.iter())) {
            (vm[i], va[i]) = (m, a);
        }
        self.state = state;
        outcome
    }

    /// [`IslandNewton::solve_with`] on the state by position.
    fn iterate(
        &mut self,
        (vm, va, lambda): (&mut [f64], &mut [f64], &mut f64),
        (p_spec, q_spec): (&[f64], &[f64]),
        opts: &NewtonOptions,
        team: Option<&Team>,
    ) -> NewtonOutcome {
        let mut it = 0;
        // Without chord steps every state's Jacobian is factorised, so it is computed with
        // the mismatch (once needlessly, at the solution); with them only when needed.
        let fused = opts.reuse_factors_below.is_nan() || opts.reuse_factors_below <= 0.0;
        let evaluate = |nr: &mut Self, vm: &[f64], va: &[f64], lambda: f64, jacobian: bool| {
            if jacobian {
                nr.evaluate::<true>(vm, va, p_spec, q_spec, lambda, team)
            } else {
                nr.evaluate::<false>(vm, va, p_spec, q_spec, lambda, team)
            }
        };
        let (mut worst, mut worst_bus) = evaluate(self, vm, va, *lambda, fused);
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
                if !fused {
                    // The same mismatch again, with the Jacobian.
                    evaluate(self, vm, va, *lambda, true);
                }
                if !self.lu.factor_with(&self.j_val, team) {
                    break;
                }
                factors_current = true;
            }
            self.lu.solve_with(&mut self.rhs, team);
            let (update_finite, state_finite) = self.step(vm, va, team);
            if !update_finite {
                vm.copy_from_slice(&self.backup.0);
                va.copy_from_slice(&self.backup.1);
                break;
            }
            let lambda_old = *lambda;
            if let Some(r) = self.lambda_at {
                *lambda -= self.rhs[2 * r];
            }
            it += 1;
            let (w, b) = evaluate(self, vm, va, *lambda, fused);
            if !w.is_finite() || !state_finite {
                // Keep the last finite state rather than reporting garbage.
                vm.copy_from_slice(&self.backup.0);
                va.copy_from_slice(&self.backup.1);
                *lambda = lambda_old;
                let (w, b) = evaluate(self, vm, va, *lambda, false);
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

    /// Keeps the state in `backup` and applies the update in `rhs` to it, by halves of the
    /// buses on `team`'s two threads; returns whether the update and the new state are
    /// finite (where the update is not, the caller puts the kept state back).
    fn step(&mut self, vm: &mut [f64], va: &mut [f64], team: Option<&Team>) -> (bool, bool) {
        let n = self.len();
        assert!(
            vm.len() == n
                && va.len() == n
                && self.rhs.len() == 2 * n
                && self.backup.0.len() == n
                && self.backup.1.len() == n,
            "state arrays fit the island"
        );
        let cut = if team.is_some() { self.row_split } else { n };
        let halves = [(0, cut), (cut, n)];
        let (vm, va) = (Shared(vm.as_mut_ptr()), Shared(va.as_mut_ptr()));
        let (bm, ba) = (
            Shared(self.backup.0.as_mut_ptr()),
            Shared(self.backup.1.as_mut_ptr()),
        );
        let (rhs, angle_unknown, q_eq) = (&self.rhs, &self.angle_unknown, &self.q_eq);
        // Per half: the update finite, the new state finite.
        let finite = [[true; 2]; 2].map(|f| f.map(AtomicBool::new));
        team::both(team, |h| {
            let (mut update, mut state) = (true, true);
            for i in halves[h].0..halves[h].1 {
                let (da, dm) = (rhs[2 * i], rhs[2 * i + 1]);
                update &= da.is_finite() && dm.is_finite();
                // SAFETY: bus `i` of this half alone, within the arrays (asserted above).
                unsafe {
                    let (m, a) = (&mut *vm.ptr().add(i), &mut *va.ptr().add(i));
                    *bm.ptr().add(i) = *m;
                    *ba.ptr().add(i) = *a;
                    if angle_unknown[i] {
                        *a -= da;
                    }
                    if q_eq[i] {
                        *m -= dm;
                    }
                    state &= m.is_finite() && a.is_finite();
                }
            }
            finite[h][0].store(update, Ordering::Relaxed);
            finite[h][1].store(state, Ordering::Relaxed);
        });
        let all = |e: usize| finite.iter().all(|f| f[e].load(Ordering::Relaxed));
        (all(0), all(1))
    }

    /// Complex power injected at each local bus by the current state, pu
    /// (valid after [`IslandNewton::solve`]).
    pub fn injections(&self) -> Vec<Complex64> {
        let mut s = vec![Complex64::new(0.0, 0.0); self.len()];
        for (&i, &x) in self.order.iter().zip(&self.s) {
            s[i] = x;
        }
        s
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
            nr.evaluate::<true>(&vm, &va, &spec, &spec, 0.2, None);
            let out = |nr: &mut IslandNewton| {
                (
                    Shared(nr.rhs.as_mut_ptr()),
                    Shared(nr.s.as_mut_ptr()),
                    Shared(nr.j_val.as_mut_ptr()),
                )
            };
            let spec3 = (&spec[..], &spec[..], 0.2);
            nr.j_val.fill([0.0; 4]);
            let o = out(&mut nr);
            // SAFETY: one thread, the island's own arrays.
            let w_p = unsafe { nr.rows_portable::<true>((0, n), spec3, o) };
            let portable = (nr.j_val.clone(), nr.rhs.clone(), nr.s.clone());
            nr.j_val.fill([0.0; 4]);
            let o = out(&mut nr);
            // SAFETY: as above, and the processor has AVX2 (checked above).
            let w_a = unsafe { nr.rows_avx2::<true>((0, n), spec3, o) };
            assert_eq!(bits(&portable.0), bits(&nr.j_val));
            let pairs = |x: &[f64]| x.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<_>>();
            assert_eq!(bits(&pairs(&portable.1)), bits(&pairs(&nr.rhs)));
            let cx = |x: &[Complex64]| x.iter().map(|c| [c.re, c.im]).collect::<Vec<_>>();
            assert_eq!(bits(&cx(&portable.2)), bits(&cx(&nr.s)));
            assert_eq!(w_p.0.to_bits(), w_a.0.to_bits());
            assert_eq!(w_p.1, w_a.1);
            let portable = portable.0;
            assert!(portable.iter().flatten().all(|x| x.is_finite()));
        }
    }
}
