//! Fast-decoupled AC power flow (Stott and Alsac, 1974) in MATPOWER's XB variant, on one
//! island: the fallback when Newton-Raphson does not converge, and a method of its own.
//!
//! Angles are corrected from the active-power mismatch through `B'` and magnitudes from the
//! reactive-power mismatch through `B''`, alternately. Both matrices are constant, so each is
//! factorised once per solve and every half-iteration is one forward and back substitution.
//! Following MATPOWER's `makeB` (algorithm 2, XB): `B'` is `-Im(Y)` of the network with bus
//! shunts, line charging and resistance removed and taps at 1; `B''` is `-Im(Y)` of the
//! network with phase shifts removed. Convergence is judged on the same power mismatch as
//! Newton-Raphson, so a converged result is the same solution to within the tolerance.
//!
//! [`solve_island`] is how the engine uses it: Newton-Raphson first, this method when Newton
//! does not converge, and Newton again to finish.

use num_complex::Complex64;

use crate::GridError;
use crate::network::Network;
use crate::newton::{IslandNewton, NewtonOptions, NewtonOutcome, Role};
use crate::sparse_lu::PatternLu;
use crate::team::Team;
use crate::ybus::Ybus;

const NONE: usize = usize::MAX;

/// Iteration cap of the fast-decoupled method (each iteration is cheap: two substitutions).
pub const FAST_DECOUPLED_MAX_ITERATIONS: usize = 100;

/// How one island is solved: see [`solve_island`].
#[derive(Clone, Copy)]
pub(crate) struct Attempt<'a> {
    /// The fast-decoupled method first (the `fd` method), else Newton-Raphson.
    pub fast_decoupled_first: bool,
    /// After a Newton-Raphson that does not converge, try the fast-decoupled method.
    pub fallback: bool,
    /// Tolerance and Newton's iteration cap.
    pub newton: NewtonOptions,
    /// Two threads for Newton-Raphson, where the island gains from them.
    pub team: Option<&'a Team>,
}

/// `-Im(Y)` of `net` restricted to the local buses in `unknowns` (ascending positions in
/// `buses`), factorised.
struct Reduced {
    /// Local bus of each unknown.
    unknowns: Vec<usize>,
    lu: PatternLu,
}

impl Reduced {
    fn new(y: &Ybus, buses: &[usize], unknowns: Vec<usize>) -> Result<Self, GridError> {
        let m = unknowns.len();
        let mut pos = vec![NONE; y.n];
        for (r, &li) in unknowns.iter().enumerate() {
            pos[buses[li]] = r;
        }
        let mut col_ptr = Vec::with_capacity(m + 1);
        let mut row_idx = Vec::new();
        let mut val = Vec::new();
        col_ptr.push(0);
        for &li in &unknowns {
            let g = buses[li];
            // Rows of a column are sorted globally; the local order is the same.
            for p in y.col_ptr[g]..y.col_ptr[g + 1] {
                let r = pos[y.row_idx[p]];
                if r != NONE {
                    row_idx.push(r);
                    val.push(-y.val[p].im);
                }
            }
            col_ptr.push(row_idx.len());
        }
        let mut lu = PatternLu::new(m, &col_ptr, &row_idx)?;
        if m > 0 && !lu.factor(&col_ptr, &row_idx, &val) {
            return Err(GridError::Numerical(
                "fast-decoupled matrix is singular".into(),
            ));
        }
        Ok(Self { unknowns, lu })
    }
}

/// Fast-decoupled solver of one island.
pub struct FastDecoupled {
    /// Global indices of the island's buses, ascending.
    buses: Vec<usize>,
    bp: Reduced,
    bpp: Reduced,
    v: Vec<Complex64>,
    cur: Vec<Complex64>,
    rhs: Vec<f64>,
}

impl FastDecoupled {
    /// Builds `B'` and `B''` for the island made of `buses` (ascending global indices) of
    /// `net`, whose local bus `i` has role `roles[i]`; buses marked in `frozen` are held.
    pub fn new(
        net: &Network,
        buses: &[usize],
        roles: &[Role],
        frozen: &[bool],
    ) -> Result<Self, GridError> {
        let conducts = |_: usize, b: &crate::Branch| b.in_service;
        let mut prime = net.clone();
        for b in &mut prime.buses {
            b.bs_mvar = 0.0;
        }
        for br in &mut prime.branches {
            br.b_pu = 0.0;
            br.tap = 1.0;
            // A branch of pure resistance keeps it (XB would leave it with no admittance).
            if br.x_pu != 0.0 {
                br.r_pu = 0.0;
            }
        }
        let bp = Ybus::build(&prime, conducts);
        let mut second = net.clone();
        for br in &mut second.branches {
            br.shift_deg = 0.0;
        }
        let bpp = Ybus::build(&second, conducts);
        let active = |i: &usize| !frozen.get(*i).copied().unwrap_or(false);
        let p_unknowns = (0..buses.len())
            .filter(|&i| roles[i] != Role::Reference)
            .filter(active)
            .collect();
        let q_unknowns = (0..buses.len())
            .filter(|&i| roles[i] == Role::Pq)
            .filter(active)
            .collect();
        Ok(Self {
            buses: buses.to_vec(),
            bp: Reduced::new(&bp, buses, p_unknowns)?,
            bpp: Reduced::new(&bpp, buses, q_unknowns)?,
            v: vec![Complex64::new(0.0, 0.0); buses.len()],
            cur: vec![Complex64::new(0.0, 0.0); buses.len()],
            rhs: Vec::new(),
        })
    }

    /// Computes `V` and `I = Y V`; returns the largest power mismatch over the unknowns'
    /// equations and its local bus.
    fn mismatch(
        &mut self,
        y: &Ybus,
        vm: &[f64],
        va: &[f64],
        p_spec: &[f64],
        q_spec: &[f64],
    ) -> (f64, usize) {
        for i in 0..self.v.len() {
            self.v[i] = crate::polar(vm[i], va[i]);
        }
        y.mul(&self.v, &mut self.cur);
        let mut worst = (0.0f64, 0usize);
        let mut see = |f: f64, i: usize| {
            if f.abs() > worst.0 || f.is_nan() {
                worst = (f.abs(), i);
            }
        };
        for &i in &self.bp.unknowns {
            see((self.v[i] * self.cur[i].conj()).re - p_spec[i], i);
        }
        for &i in &self.bpp.unknowns {
            see((self.v[i] * self.cur[i].conj()).im - q_spec[i], i);
        }
        worst
    }

    /// Runs fast-decoupled iterations on the local state (`vm` in pu, `va` in radians; held
    /// values set) against the island's local admittance matrix `y` and the scheduled
    /// injections, pu, to the options' tolerance. One iteration is an angle half and a
    /// magnitude half; at most the options' `max_iterations` are taken. The state keeps the
    /// last finite iterate. The outcome counts the iterations in `fast_decoupled_iterations`
    /// (its Newton `iterations` are 0).
    pub fn solve(
        &mut self,
        y: &Ybus,
        vm: &mut [f64],
        va: &mut [f64],
        p_spec: &[f64],
        q_spec: &[f64],
        opts: &NewtonOptions,
    ) -> NewtonOutcome {
        let (tolerance_pu, max_iterations) = (opts.tolerance_pu, opts.max_iterations);
        debug_assert_eq!(y.n, self.buses.len());
        let (mut worst, mut bus) = self.mismatch(y, vm, va, p_spec, q_spec);
        let mut it = 0;
        let mut last = (vm.to_vec(), va.to_vec());
        while worst > tolerance_pu && worst.is_finite() && it < max_iterations {
            it += 1;
            last.0.copy_from_slice(vm);
            last.1.copy_from_slice(va);
            for half in [Half::Angle, Half::Magnitude] {
                let (red, spec) = match half {
                    Half::Angle => (&mut self.bp, p_spec),
                    Half::Magnitude => (&mut self.bpp, q_spec),
                };
                self.rhs.clear();
                self.rhs.extend(red.unknowns.iter().map(|&i| {
                    let s = self.v[i] * self.cur[i].conj();
                    let f = match half {
                        Half::Angle => s.re,
                        Half::Magnitude => s.im,
                    };
                    (f - spec[i]) / vm[i]
                }));
                red.lu.solve(&mut self.rhs);
                for (&i, d) in red.unknowns.iter().zip(&self.rhs) {
                    match half {
                        Half::Angle => va[i] -= d,
                        Half::Magnitude => vm[i] -= d,
                    }
                }
                (worst, bus) = self.mismatch(y, vm, va, p_spec, q_spec);
                if worst <= tolerance_pu || !worst.is_finite() {
                    break;
                }
            }
        }
        if !worst.is_finite() || vm.iter().chain(va.iter()).any(|x| !x.is_finite()) {
            vm.copy_from_slice(&last.0);
            va.copy_from_slice(&last.1);
            (worst, bus) = self.mismatch(y, vm, va, p_spec, q_spec);
        }
        NewtonOutcome {
            converged: worst <= tolerance_pu,
            iterations: 0,
            max_mismatch_pu: if worst.is_finite() { worst } else { f64::MAX },
            max_mismatch_bus: bus,
            fast_decoupled_iterations: it,
        }
    }
}

#[derive(Clone, Copy)]
enum Half {
    Angle,
    Magnitude,
}

/// One solve of an island's Newton system from the state in `vm`, `va` (local arrays):
/// Newton-Raphson, or the fast-decoupled method first when `how` says so. When Newton does not
/// converge and the fallback is on, the island is solved again from the same start by the
/// fast-decoupled method (it often converges where Newton's full steps overshoot), and the
/// attempt that ends nearer a solution is kept. Whatever the fast-decoupled method gives is
/// finished by Newton from where it ends: from its solution, no step where the slack is single
/// and the distributed slack's share where it is not; from a point it could not finish,
/// Newton's quadratic convergence often can (kept only if better). The outcome counts the
/// Newton iterations of every attempt and the fast-decoupled ones.
pub(crate) fn solve_island(
    net: &Network,
    solver: &mut IslandNewton,
    (vm, va, lambda): (&mut Vec<f64>, &mut Vec<f64>, &mut f64),
    (p_spec, q_spec): (&[f64], &[f64]),
    how: Attempt,
) -> NewtonOutcome {
    let newton = |solver: &mut IslandNewton, vm: &mut [f64], va: &mut [f64], lambda: &mut f64| {
        solver.solve_on(vm, va, lambda, (p_spec, q_spec), &how.newton, how.team)
    };
    let fast_decoupled = |solver: &IslandNewton, vm: &mut [f64], va: &mut [f64]| {
        let roles: Vec<Role> = (0..solver.len()).map(|i| solver.role(i)).collect();
        let limits = NewtonOptions {
            max_iterations: FAST_DECOUPLED_MAX_ITERATIONS,
            ..how.newton
        };
        match FastDecoupled::new(net, &solver.buses, &roles, solver.frozen()) {
            Ok(mut fd) => fd.solve(&solver.ybus, vm, va, p_spec, q_spec, &limits),
            Err(_) => NewtonOutcome {
                converged: false,
                iterations: 0,
                max_mismatch_pu: f64::MAX,
                max_mismatch_bus: 0,
                fast_decoupled_iterations: 0,
            },
        }
    };
    let mut newton_its = 0;
    let mut fd_its = 0;
    let mut from_fd = how.fast_decoupled_first;
    let start = (vm.clone(), va.clone(), *lambda);
    let mut outcome = if from_fd {
        fast_decoupled(solver, vm, va)
    } else {
        newton(solver, vm, va, lambda)
    };
    fd_its += outcome.fast_decoupled_iterations;
    if !outcome.converged && !from_fd && how.fallback {
        let failed = (vm.clone(), va.clone(), *lambda);
        (*vm, *va, *lambda) = start;
        let fd = fast_decoupled(solver, vm, va);
        fd_its += fd.fast_decoupled_iterations;
        newton_its += outcome.iterations;
        if fd.max_mismatch_pu < outcome.max_mismatch_pu {
            outcome = fd;
            from_fd = true;
        } else {
            (*vm, *va, *lambda) = failed;
            outcome.iterations = 0;
        }
    }
    if from_fd {
        let fd_end = (vm.clone(), va.clone(), *lambda);
        let nr = newton(solver, vm, va, lambda);
        if nr.converged || nr.max_mismatch_pu < outcome.max_mismatch_pu {
            outcome = nr;
        } else {
            newton_its += nr.iterations;
            (*vm, *va, *lambda) = fd_end;
        }
    }
    outcome.iterations += newton_its;
    outcome.fast_decoupled_iterations = fd_its;
    outcome
}
