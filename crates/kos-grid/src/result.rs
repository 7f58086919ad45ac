//! Results of a power-flow solve: per-island outcome, voltages, flows, unit outputs, and
//! their assembly from the solved voltages.

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
    let mut v = vec![Complex64::new(0.0, 0.0); n];
    let vp = Shared(v.as_mut_ptr());
    team::both(team, |h| {
        for i in bus_halves[h].0..bus_halves[h].1 {
            // SAFETY: bus `i` of this half alone, below `n`.
            unsafe { *vp.ptr().add(i) = crate::polar(vm[i], va_rad[i]) };
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
    team::both(team, |h| {
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
            // SAFETY: branch `k` of this half alone, below `nb`.
            unsafe {
                *out[0].ptr().add(k) = sf.re;
                *out[1].ptr().add(k) = sf.im;
                *out[2].ptr().add(k) = st.re;
                *out[3].ptr().add(k) = st.im;
                *out[4].ptr().add(k) = load;
            }
        }
    });
    // Net injection at each bus from branch flows and shunts: S = sum of flows out + shunt,
    // summed in branch order.
    let mut s_inj = vec![Complex64::new(0.0, 0.0); n];
    for (i, b) in net.buses.iter().enumerate() {
        if islands.of_bus[i].is_some() {
            s_inj[i] += Complex64::new(b.gs_mw, -b.bs_mvar) * vm[i] * vm[i];
        }
    }
    let mut island_losses = vec![0.0; islands.islands.len()];
    for (k, br) in net.branches.iter().enumerate() {
        if !flowing(br) {
            continue;
        }
        let (sf, st) = (Complex64::new(pf[k], qf[k]), Complex64::new(pt[k], qt[k]));
        s_inj[br.from] += sf;
        s_inj[br.to] += st;
        island_losses[islands.of_bus[br.from].expect("flowing")] += sf.re + st.re;
    }
    let mut bus_pg = vec![0.0; n];
    let mut bus_qg = vec![0.0; n];
    for (i, b) in net.buses.iter().enumerate() {
        if let Some(id) = islands.of_bus[i]
            && outcomes[id].is_some()
        {
            bus_pg[i] = s_inj[i].re + b.pd_mw;
            bus_qg[i] = s_inj[i].im + b.qd_mvar;
        }
    }
    // Per-generator outputs.
    let ng = net.generators.len();
    let mut gen_p = vec![0.0; ng];
    let mut gen_q = vec![0.0; ng];
    // The units of each bus, in one list (`units_at[unit_start[b]..unit_start[b + 1]]`).
    let mut unit_start = vec![0usize; n + 1];
    let counted = |g: &crate::Generator| {
        g.in_service && islands.of_bus[g.bus].is_some_and(|id| outcomes[id].is_some())
    };
    for g in net.generators.iter().filter(|g| counted(g)) {
        unit_start[g.bus + 1] += 1;
    }
    for b in 0..n {
        unit_start[b + 1] += unit_start[b];
    }
    let mut units_at = vec![0usize; unit_start[n]];
    let mut next = unit_start.clone();
    for (gi, g) in net.generators.iter().enumerate() {
        if counted(g) {
            units_at[next[g.bus]] = gi;
            next[g.bus] += 1;
        }
    }
    let units_of = |b: usize| &units_at[unit_start[b]..unit_start[b + 1]];
    let mut free = Vec::new();
    let mut islands_out = Vec::with_capacity(islands.islands.len());
    for (id, island) in islands.islands.iter().enumerate() {
        let lambda = lambdas.get(id).copied().unwrap_or(0.0);
        let alpha = {
            let total: f64 = island
                .buses
                .iter()
                .flat_map(|&b| units_of(b).iter())
                .map(|&gi| net.generators[gi].participation.max(0.0))
                .sum();
            total
        };
        for &b in &island.buses {
            let units = units_of(b);
            if units.is_empty() {
                continue;
            }
            let is_ref = island.reference == Some(b);
            // Active power: scheduled, plus a distributed-slack share, and the reference
            // bus's first unit takes what is left at its bus.
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
            for &gi in units {
                let g = &net.generators[gi];
                let regulating =
                    is_ref || matches!(net.buses[b].kind, BusKind::Pv | BusKind::Slack);
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
        vm_pu: vm.to_vec(),
        va_deg: va_rad.iter().map(|a| a.to_degrees()).collect(),
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

/// Replaces any non-finite number by zero: a result never carries NaN or infinity.
fn sanitize(r: &mut PowerFlowResult) {
    let fix = |v: &mut Vec<f64>| {
        v.iter_mut()
            .filter(|x| !x.is_finite())
            .for_each(|x| *x = 0.0)
    };
    for v in [
        &mut r.vm_pu,
        &mut r.va_deg,
        &mut r.bus_pg_mw,
        &mut r.bus_qg_mvar,
        &mut r.gen_pg_mw,
        &mut r.gen_qg_mvar,
        &mut r.branch_pf_mw,
        &mut r.branch_qf_mvar,
        &mut r.branch_pt_mw,
        &mut r.branch_qt_mvar,
        &mut r.branch_loading_pct,
    ] {
        fix(v);
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
