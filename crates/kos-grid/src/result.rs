//! Results of a power-flow solve: per-island outcome, voltages, flows, unit outputs, and
//! their assembly from the solved voltages.

use std::sync::Mutex;

use num_complex::Complex64;
use serde::{Deserialize, Serialize};

use crate::islands::Islands;
use crate::network::{BusKind, Network};
use crate::newton::NewtonOutcome;
use crate::team::{self, Shared, Team};
use crate::ybus::BranchAdmittance;

/// State of one island after a solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IslandStatus {
    /// Solved to tolerance.
    Solved,
    /// Has a source but the solver did not converge; voltages are the last finite iterate.
    NotConverged,
    /// No source can hold it: zero voltage, not solved.
    Deenergised,
}

/// Result of one island.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IslandResult {
    /// Island number (ordered by lowest bus index).
    pub id: usize,
    /// Number of buses.
    pub n_buses: usize,
    /// Reference bus index, if any.
    pub reference: Option<usize>,
    /// Outcome.
    pub status: IslandStatus,
    /// Newton iterations (summed over reactive-limit rounds).
    pub iterations: usize,
    /// Fast-decoupled iterations, when Newton-Raphson needed its fallback or the method
    /// was chosen (absent when 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fast_decoupled_iterations: usize,
    /// Largest power mismatch at the end, pu.
    pub max_mismatch_pu: f64,
    /// Bus with the largest mismatch.
    pub max_mismatch_bus: Option<usize>,
    /// Net injection of the reference bus (generation there), MW.
    pub slack_p_mw: f64,
    /// Reactive generation at the reference bus, MVAr.
    pub slack_q_mvar: f64,
    /// Active losses in the island's branches, MW.
    pub losses_mw: f64,
}

/// Result of a power-flow solve. Arrays follow the network's bus, branch and generator order;
/// no value is NaN or infinite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerFlowResult {
    /// Every energised island converged.
    pub converged: bool,
    /// Largest iteration count over the islands.
    pub iterations: usize,
    /// Largest mismatch over the islands, pu.
    pub max_mismatch_pu: f64,
    /// Bus with the largest mismatch.
    pub max_mismatch_bus: Option<usize>,
    /// Voltage magnitude, pu (0 when de-energised).
    pub vm_pu: Vec<f64>,
    /// Voltage angle, degrees.
    pub va_deg: Vec<f64>,
    /// Island of each bus (`None`: out of service).
    pub bus_island: Vec<Option<usize>>,
    /// Net generation at each bus, MW.
    pub bus_pg_mw: Vec<f64>,
    /// Net reactive generation at each bus, MVAr.
    pub bus_qg_mvar: Vec<f64>,
    /// Active power of each generator, MW.
    pub gen_pg_mw: Vec<f64>,
    /// Reactive power of each generator, MVAr.
    pub gen_qg_mvar: Vec<f64>,
    /// Active power entering each branch at its from end, MW.
    pub branch_pf_mw: Vec<f64>,
    /// Reactive power entering each branch at its from end, MVAr.
    pub branch_qf_mvar: Vec<f64>,
    /// Active power entering each branch at its to end, MW.
    pub branch_pt_mw: Vec<f64>,
    /// Reactive power entering each branch at its to end, MVAr.
    pub branch_qt_mvar: Vec<f64>,
    /// Apparent power at the more loaded end over rate A, percent (0 when unrated).
    pub branch_loading_pct: Vec<f64>,
    /// Sum of branch losses, MW.
    pub total_losses_mw: f64,
    /// Per-island outcome.
    pub islands: Vec<IslandResult>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Shares `qbus` (MVAr) among `units` in proportion to their reactive ranges (MATPOWER's
/// rule; equally when no unit has a range), handing each unit's share to `out`.
pub(crate) fn split_q(net: &Network, units: &[usize], qbus: f64, mut out: impl FnMut(usize, f64)) {
    let range = |gi: usize| {
        let g = &net.generators[gi];
        let r = (g.qmax_mvar - g.qmin_mvar).abs();
        if r.is_finite() { r } else { 1e9 }
    };
    let total: f64 = units.iter().map(|&gi| range(gi)).sum();
    for &gi in units {
        let share = if total > 0.0 {
            range(gi) / total
        } else {
            1.0 / units.len() as f64
        };
        out(gi, qbus * share);
    }
}

/// Builds the full result from the solved voltages.
#[allow(clippy::too_many_arguments)]
pub(crate) fn assemble(
    net: &Network,
    admittances: &[BranchAdmittance],
    islands: &Islands,
    vm: &[f64],
    va_rad: &[f64],
    outcomes: &[Option<NewtonOutcome>],
    fixed_q: &[Option<f64>],
    lambdas: &[f64],
    team: Option<&Team>,
) -> PowerFlowResult {
    let n = net.buses.len();
    let base = net.base_mva;
    let nb = net.branches.len();
    // Two halves of the buses and of the branches (one after the other without a team).
    let bus_halves = [(0, n / 2), (n / 2, n)];
    let branch_halves = [(0, nb / 2), (nb / 2, nb)];
    let in_energised_island = |i: usize| islands.of_bus[i].is_some_and(|id| outcomes[id].is_some());
    // Complex voltages; the outputs' magnitudes and angles; each bus's shunt injection, to
    // which the branch flows are added below.
    let zero = Complex64::new(0.0, 0.0);
    let (mut v, mut s_inj) = (vec![zero; n], vec![zero; n]);
    let (mut vm_out, mut va_out) = (vec![0.0; n], vec![0.0; n]);
    let bus_out = [&mut vm_out, &mut va_out].map(|x| Shared(x.as_mut_ptr()));
    let (vp, sp) = (Shared(v.as_mut_ptr()), Shared(s_inj.as_mut_ptr()));
    team::both(team, |h| {
        for i in bus_halves[h].0..bus_halves[h].1 {
            // SAFETY: bus `i` of this half alone, below `n`.
            unsafe {
                *vp.ptr().add(i) = crate::polar(vm[i], va_rad[i]);
                *bus_out[0].ptr().add(i) = finite(vm[i]);
                *bus_out[1].ptr().add(i) = finite(va_rad[i].to_degrees());
                if islands.of_bus[i].is_some() {
                    let b = &net.buses[i];
                    *sp.ptr().add(i) = Complex64::new(b.gs_mw, -b.bs_mvar) * vm[i] * vm[i];
                }
            }
        }
    });
    // A branch carries a flow when it is in service inside one solved island.
    let flowing = |br: &crate::Branch| {
        let id = islands.of_bus[br.from];
        br.in_service && id.is_some_and(|i| id == islands.of_bus[br.to] && outcomes[i].is_some())
    };
    let mut pf = vec![0.0; nb];
    let mut qf = vec![0.0; nb];
    let mut pt = vec![0.0; nb];
    let mut qt = vec![0.0; nb];
    let mut loading = vec![0.0; nb];
    let out = [&mut pf, &mut qf, &mut pt, &mut qt, &mut loading].map(|x| Shared(x.as_mut_ptr()));
    // The flows' sums at the buses and the losses of each island, each half in branch
    // order: the first half's onto the shunt injections, the second half's apart (each
    // half's losses in a vector of its own: they would share a cache line).
    let mut second_sums = vec![zero; n];
    let sums = [sp, Shared(second_sums.as_mut_ptr())];
    let losses = [Mutex::new(Vec::new()), Mutex::new(Vec::new())];
    team::both(team, |h| {
        let sum = sums[h].ptr();
        let mut loss = vec![0.0; islands.islands.len()];
        for k in branch_halves[h].0..branch_halves[h].1 {
            let br = &net.branches[k];
            if !flowing(br) {
                continue;
            }
            let (f, t) = (br.from, br.to);
            let a = admittances[k];
            let sf = v[f] * (a.yff * v[f] + a.yft * v[t]).conj() * base;
            let st = v[t] * (a.ytf * v[f] + a.ytt * v[t]).conj() * base;
            let load = if br.rate_a_mva > 0.0 {
                100.0 * sf.norm_sqr().max(st.norm_sqr()).sqrt() / br.rate_a_mva
            } else {
                0.0
            };
            loss[islands.of_bus[f].expect("flowing")] += sf.re + st.re;
            // SAFETY: branch `k` of this half alone, below `nb`; the sums of this half
            // alone, at buses below `n`.
            unsafe {
                for (o, x) in out.iter().zip([sf.re, sf.im, st.re, st.im, load]) {
                    *o.ptr().add(k) = finite(x);
                }
                *sum.add(f) += sf;
                *sum.add(t) += st;
            }
        }
        *losses[h].lock().unwrap_or_else(|e| e.into_inner()) = loss;
    });
    // Net injection at each bus (flows out plus shunt), and the generation it implies.
    let mut bus_pg = vec![0.0; n];
    let mut bus_qg = vec![0.0; n];
    let gen_out = [&mut bus_pg, &mut bus_qg].map(|x| Shared(x.as_mut_ptr()));
    team::both(team, |h| {
        for i in bus_halves[h].0..bus_halves[h].1 {
            // SAFETY: bus `i` of this half alone, below `n`.
            unsafe {
                let s = &mut *sp.ptr().add(i);
                *s += second_sums[i];
                if in_energised_island(i) {
                    let b = &net.buses[i];
                    *gen_out[0].ptr().add(i) = s.re + b.pd_mw;
                    *gen_out[1].ptr().add(i) = s.im + b.qd_mvar;
                }
            }
        }
    });
    let [l0, l1] = losses.map(|l| l.into_inner().unwrap_or_else(|e| e.into_inner()));
    let island_losses: Vec<f64> = l0.iter().zip(&l1).map(|(a, b)| a + b).collect();
    // Per-generator outputs.
    let ng = net.generators.len();
    let mut gen_p = vec![0.0; ng];
    let mut gen_q = vec![0.0; ng];
    // The units that count, by bus (in their own order at a bus: the sort is stable).
    let counted = |g: &crate::Generator| g.in_service && in_energised_island(g.bus);
    let mut units_at: Vec<usize> = (0..ng).filter(|&gi| counted(&net.generators[gi])).collect();
    let bus_of = |gi: usize| net.generators[gi].bus;
    if !units_at.windows(2).all(|w| bus_of(w[0]) <= bus_of(w[1])) {
        units_at.sort_by_key(|&gi| bus_of(gi));
    }
    // The units' participation in each island, summed in the order of `units_at`.
    let mut alpha = vec![0.0; islands.islands.len()];
    for &gi in &units_at {
        let g = &net.generators[gi];
        alpha[islands.of_bus[g.bus].expect("counted")] += g.participation.max(0.0);
    }
    let mut free = Vec::new();
    for units in units_at.chunk_by(|&a, &b| bus_of(a) == bus_of(b)) {
        let b = bus_of(units[0]);
        let id = islands.of_bus[b].expect("counted");
        let lambda = lambdas.get(id).copied().unwrap_or(0.0);
        let alpha = alpha[id];
        let is_ref = islands.islands[id].reference == Some(b);
        // Active power: scheduled, plus a distributed-slack share, and the reference bus's
        // first unit takes what is left at its bus.
        let mut assigned = 0.0;
        for &gi in units {
            let g = &net.generators[gi];
            let share = if alpha > 0.0 {
                g.participation.max(0.0) / alpha * lambda * base
            } else {
                0.0
            };
            gen_p[gi] = g.pg_mw + share;
            assigned += gen_p[gi];
        }
        if is_ref {
            gen_p[units[0]] += bus_pg[b] - assigned;
        }
        // Reactive power: fixed units keep their value; the rest share what is left.
        let mut qleft = bus_qg[b];
        free.clear();
        let regulating = is_ref || matches!(net.buses[b].kind, BusKind::Pv | BusKind::Slack);
        for &gi in units {
            let g = &net.generators[gi];
            if let Some(q) = fixed_q[gi] {
                gen_q[gi] = q;
                qleft -= q;
            } else if regulating {
                free.push(gi);
            } else {
                gen_q[gi] = g.qg_mvar;
                qleft -= g.qg_mvar;
            }
        }
        split_q(net, &free, qleft, |gi, q| gen_q[gi] = q);
    }
    let mut islands_out = Vec::with_capacity(islands.islands.len());
    for (id, island) in islands.islands.iter().enumerate() {
        let fd_iterations = outcomes[id].map_or(0, |o| o.fast_decoupled_iterations);
        let (status, iterations, mm, mb) = match outcomes[id] {
            None => (IslandStatus::Deenergised, 0, 0.0, None),
            Some(o) => (
                if o.converged {
                    IslandStatus::Solved
                } else {
                    IslandStatus::NotConverged
                },
                o.iterations,
                o.max_mismatch_pu,
                Some(o.max_mismatch_bus),
            ),
        };
        let (sp, sq) = island
            .reference
            .filter(|_| outcomes[id].is_some())
            .map(|r| (bus_pg[r], bus_qg[r]))
            .unwrap_or((0.0, 0.0));
        islands_out.push(IslandResult {
            id,
            n_buses: island.buses.len(),
            reference: island.reference,
            status,
            iterations,
            fast_decoupled_iterations: fd_iterations,
            max_mismatch_pu: mm,
            max_mismatch_bus: mb,
            slack_p_mw: sp,
            slack_q_mvar: sq,
            losses_mw: island_losses[id],
        });
    }
    let energised: Vec<&IslandResult> = islands_out
        .iter()
        .filter(|r| r.status != IslandStatus::Deenergised)
        .collect();
    let worst = energised
        .iter()
        .max_by(|a, b| a.max_mismatch_pu.total_cmp(&b.max_mismatch_pu));
    let mut result = PowerFlowResult {
        converged: energised.iter().all(|r| r.status == IslandStatus::Solved),
        iterations: energised.iter().map(|r| r.iterations).max().unwrap_or(0),
        max_mismatch_pu: worst.map(|r| r.max_mismatch_pu).unwrap_or(0.0),
        max_mismatch_bus: worst.and_then(|r| r.max_mismatch_bus),
        vm_pu: vm_out,
        va_deg: va_out,
        bus_island: islands.of_bus.clone(),
        bus_pg_mw: bus_pg,
        bus_qg_mvar: bus_qg,
        gen_pg_mw: gen_p,
        gen_qg_mvar: gen_q,
        branch_pf_mw: pf,
        branch_qf_mvar: qf,
        branch_pt_mw: pt,
        branch_qt_mvar: qt,
        branch_loading_pct: loading,
        total_losses_mw: island_losses.iter().sum(),
        islands: islands_out,
    };
    sanitize(&mut result);
    result
}

/// `x`, or zero where it is not finite.
#[inline(always)]
fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// Replaces any non-finite number by zero where `assemble` did not write it so: a result
/// never carries NaN or infinity.
fn sanitize(r: &mut PowerFlowResult) {
    for v in [
        &mut r.bus_pg_mw,
        &mut r.bus_qg_mvar,
        &mut r.gen_pg_mw,
        &mut r.gen_qg_mvar,
    ] {
        v.iter_mut().for_each(|x| *x = finite(*x));
    }
    if !r.total_losses_mw.is_finite() {
        r.total_losses_mw = 0.0;
    }
    if !r.max_mismatch_pu.is_finite() {
        r.max_mismatch_pu = f64::MAX;
    }
    for i in &mut r.islands {
        for x in [&mut i.slack_p_mw, &mut i.slack_q_mvar, &mut i.losses_mw] {
            if !x.is_finite() {
                *x = 0.0;
            }
        }
    }
}
