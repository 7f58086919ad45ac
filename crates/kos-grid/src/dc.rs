//! DC power flow (MATPOWER `makeBdc` model): flat voltage magnitudes, lossless branches,
//! `B theta = P`, solved per island with a sparse LU.

use std::collections::BTreeMap;

use crate::GridError;
use crate::islands::Islands;
use crate::network::Network;
use crate::result::{IslandResult, IslandStatus, PowerFlowResult};
use crate::sparse_lu::PatternLu;

/// Series susceptance of a branch in the DC model, pu, and its phase-shift injection.
fn dc_branch(x_pu: f64, ratio: f64, shift_deg: f64) -> (f64, f64) {
    let b = if x_pu != 0.0 {
        1.0 / (x_pu * ratio)
    } else {
        0.0
    };
    (b, -b * shift_deg.to_radians())
}

/// The DC model of one island: its unknown angles and the factorised `B` matrix.
struct DcIsland {
    reference: usize,
    /// Global bus of each unknown.
    buses: Vec<usize>,
    /// Branch terms that put the reference angle on the right-hand side: (unknown, b).
    reference_terms: Vec<(usize, f64)>,
    lu: Option<PatternLu>,
}

/// DC angles of every island of a network, with the `B` matrices factorised once: the
/// engine keeps one while the network's topology and impedances hold (it also gives the
/// Newton-Raphson its DC start).
pub struct DcModel {
    islands: Vec<Option<DcIsland>>,
    /// The phase-shift injections of the conducting branches that shift: (from, to, value).
    shifts: Vec<(usize, usize, f64)>,
}

fn conducting(net: &Network, islands: &Islands, k: usize) -> bool {
    let br = &net.branches[k];
    br.in_service
        && islands.of_bus[br.from].is_some()
        && islands.of_bus[br.from] == islands.of_bus[br.to]
}

impl DcModel {
    /// Builds and factorises the `B` matrix of every energised island.
    pub fn new(net: &Network, islands: &Islands) -> Self {
        let n = net.buses.len();
        let mut unknown = vec![usize::MAX; n];
        let mut out = Vec::with_capacity(islands.islands.len());
        let mut per_island: Vec<BTreeMap<(usize, usize), f64>> =
            vec![BTreeMap::new(); islands.islands.len()];
        let mut ref_terms: Vec<Vec<(usize, f64)>> = vec![Vec::new(); islands.islands.len()];
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); islands.islands.len()];
        for (id, island) in islands.islands.iter().enumerate() {
            if let Some(reference) = island.reference {
                for &b in island.buses.iter().filter(|&&b| b != reference) {
                    unknown[b] = members[id].len();
                    members[id].push(b);
                    per_island[id].insert((unknown[b], unknown[b]), 0.0);
                }
            }
        }
        for (k, br) in net.branches.iter().enumerate() {
            let Some(id) = islands.of_bus[br.from].filter(|_| conducting(net, islands, k)) else {
                continue;
            };
            if islands.islands[id].reference.is_none() {
                continue;
            }
            let (b, _) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
            let (uf, ut) = (unknown[br.from], unknown[br.to]);
            let e = &mut per_island[id];
            for u in [uf, ut] {
                if u != usize::MAX {
                    *e.entry((u, u)).or_default() += b;
                }
            }
            match (uf != usize::MAX, ut != usize::MAX) {
                (true, true) => {
                    *e.entry((uf, ut)).or_default() -= b;
                    *e.entry((ut, uf)).or_default() -= b;
                }
                (true, false) => ref_terms[id].push((uf, b)),
                (false, true) => ref_terms[id].push((ut, b)),
                _ => {}
            }
        }
        for (id, island) in islands.islands.iter().enumerate() {
            let Some(reference) = island.reference else {
                out.push(None);
                continue;
            };
            let m = members[id].len();
            let lu = if m == 0 {
                None
            } else {
                let mut col_ptr = vec![0usize; m + 1];
                let mut row_idx = Vec::with_capacity(per_island[id].len());
                let mut val = Vec::with_capacity(per_island[id].len());
                for (&(c, r), &v) in &per_island[id] {
                    col_ptr[c + 1] += 1;
                    row_idx.push(r);
                    val.push(v);
                }
                for c in 0..m {
                    col_ptr[c + 1] += col_ptr[c];
                }
                PatternLu::new(m, &col_ptr, &row_idx)
                    .ok()
                    .and_then(|mut lu| lu.factor(&col_ptr, &row_idx, &val).then_some(lu))
            };
            out.push(Some(DcIsland {
                reference,
                buses: std::mem::take(&mut members[id]),
                reference_terms: std::mem::take(&mut ref_terms[id]),
                lu,
            }));
        }
        let shifts = (0..net.branches.len())
            .filter(|&k| conducting(net, islands, k))
            .filter_map(|k| {
                let br = &net.branches[k];
                let (_, pinj) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
                (pinj != 0.0).then_some((br.from, br.to, pinj))
            })
            .collect();
        Self {
            islands: out,
            shifts,
        }
    }

    /// Voltage angles of every bus, radians, for the network's present injections (0 on
    /// de-energised buses), and whether each island's `B` matrix could be solved.
    /// The model must be the one built for `net`'s topology and impedances with `islands`.
    pub fn angles(&mut self, net: &Network, islands: &Islands) -> (Vec<f64>, Vec<bool>) {
        let n = net.buses.len();
        debug_assert_eq!(self.islands.len(), islands.islands.len());
        let base = net.base_mva;
        // Net scheduled injection (generation - load - shunt), pu, and phase-shift terms
        // (those of the other branches are zero).
        let mut p: Vec<f64> = net
            .buses
            .iter()
            .map(|b| -(b.pd_mw + b.gs_mw) / base)
            .collect();
        for g in net.generators.iter().filter(|g| g.in_service) {
            p[g.bus] += g.pg_mw / base;
        }
        for &(from, to, pinj) in &self.shifts {
            p[from] -= pinj;
            p[to] += pinj;
        }
        let mut va = vec![0.0; n];
        let mut solved = vec![true; self.islands.len()];
        for (id, island) in self.islands.iter_mut().enumerate() {
            let Some(isl) = island else { continue };
            let theta_ref = net.buses[isl.reference].va_deg.to_radians();
            va[isl.reference] = theta_ref;
            let mut rhs: Vec<f64> = isl.buses.iter().map(|&b| p[b]).collect();
            for &(u, b) in &isl.reference_terms {
                rhs[u] += b * theta_ref;
            }
            match isl.lu.as_mut() {
                Some(lu) => {
                    lu.solve(&mut rhs);
                    solved[id] = rhs.iter().all(|x| x.is_finite());
                }
                None => solved[id] = isl.buses.is_empty(),
            }
            for (u, &b) in isl.buses.iter().enumerate() {
                va[b] = if solved[id] { rhs[u] } else { theta_ref };
            }
        }
        (va, solved)
    }
}

impl DcModel {
    /// How the angles move when `branch` (conducting inside one island of the model) opens
    /// while `flow_pu` ran through it from its from end: the DC compensation of a branch
    /// outage (Sherman-Morrison on `B` less the branch's `b e e^T`),
    /// `dtheta = w P / (1 - b (w_f - w_t))` with `B w = e = e_f - e_t`. Angle changes in radians for every bus (0 outside the island), or
    /// `None` when the outage splits the island (the denominator vanishes) or the island
    /// has no factorised `B`.
    pub fn outage_shift(
        &mut self,
        net: &Network,
        islands: &Islands,
        branch: usize,
        flow_pu: f64,
    ) -> Option<Vec<f64>> {
        let br = &net.branches[branch];
        let id = islands.of_bus[br.from]?;
        if islands.of_bus[br.to] != Some(id) {
            return None;
        }
        let isl = self.islands.get_mut(id)?.as_mut()?;
        let lu = isl.lu.as_mut()?;
        let position = |bus: usize| isl.buses.binary_search(&bus).ok();
        let (f, t) = (position(br.from), position(br.to));
        let mut w = vec![0.0; isl.buses.len()];
        if let Some(u) = f {
            w[u] += 1.0;
        }
        if let Some(u) = t {
            w[u] -= 1.0;
        }
        lu.solve(&mut w);
        let (b, _) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
        let at = |u: Option<usize>| u.map_or(0.0, |u| w[u]);
        let denominator = 1.0 - b * (at(f) - at(t));
        if denominator.abs() < 1e-6 || !denominator.is_finite() {
            return None;
        }
        let scale = flow_pu / denominator;
        let mut shift = vec![0.0; net.buses.len()];
        for (u, &bus) in isl.buses.iter().enumerate() {
            shift[bus] = w[u] * scale;
        }
        shift.iter().all(|x| x.is_finite()).then_some(shift)
    }
}

/// Solves the DC power flow of every energised island of `net`.
pub fn solve_dc(
    net: &Network,
    islands: &Islands,
    model: &mut DcModel,
) -> Result<PowerFlowResult, GridError> {
    let n = net.buses.len();
    let base = net.base_mva;
    let (va, solved) = model.angles(net, islands);
    let mut vm = vec![0.0; n];
    let mut results = Vec::with_capacity(islands.islands.len());
    for (id, island) in islands.islands.iter().enumerate() {
        let status = match island.reference {
            None => IslandStatus::Deenergised,
            Some(_) if solved[id] => IslandStatus::Solved,
            Some(_) => IslandStatus::NotConverged,
        };
        if status != IslandStatus::Deenergised {
            for &b in &island.buses {
                vm[b] = 1.0;
            }
        }
        results.push(IslandResult {
            id,
            n_buses: island.buses.len(),
            reference: island.reference,
            status,
            iterations: usize::from(status != IslandStatus::Deenergised),
            fast_decoupled_iterations: 0,
            max_mismatch_pu: 0.0,
            max_mismatch_bus: None,
            slack_p_mw: 0.0,
            slack_q_mvar: 0.0,
            losses_mw: 0.0,
        });
    }
    let conducting = |k: usize| conducting(net, islands, k);
    // Flows and injections.
    let nb = net.branches.len();
    let mut pf = vec![0.0; nb];
    let mut loading = vec![0.0; nb];
    let mut bus_p_out = vec![0.0; n];
    for (k, br) in net.branches.iter().enumerate() {
        if !conducting(k) {
            continue;
        }
        let (b, pinj) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
        let flow = (b * (va[br.from] - va[br.to]) + pinj) * base;
        pf[k] = flow;
        bus_p_out[br.from] += flow;
        bus_p_out[br.to] -= flow;
        if br.rate_a_mva > 0.0 {
            loading[k] = 100.0 * flow.abs() / br.rate_a_mva;
        }
    }
    let mut bus_pg = vec![0.0; n];
    for (i, b) in net.buses.iter().enumerate() {
        if islands.of_bus[i].is_some_and(|id| results[id].status != IslandStatus::Deenergised) {
            bus_pg[i] = bus_p_out[i] + b.pd_mw + b.gs_mw;
        }
    }
    let mut gen_p = vec![0.0; net.generators.len()];
    let mut ref_done = vec![false; n];
    for (gi, g) in net.generators.iter().enumerate() {
        let Some(id) = islands.of_bus[g.bus] else {
            continue;
        };
        if !g.in_service || results[id].status == IslandStatus::Deenergised {
            continue;
        }
        gen_p[gi] = g.pg_mw;
        if islands.islands[id].reference == Some(g.bus) && !ref_done[g.bus] {
            // The first unit at the reference takes the balance of its bus.
            let others: f64 = net
                .generators
                .iter()
                .filter(|o| o.in_service && o.bus == g.bus)
                .map(|o| o.pg_mw)
                .sum();
            gen_p[gi] += bus_pg[g.bus] - others;
            ref_done[g.bus] = true;
        }
    }
    for r in &mut results {
        if let Some(refb) = r
            .reference
            .filter(|_| r.status != IslandStatus::Deenergised)
        {
            r.slack_p_mw = bus_pg[refb];
        }
    }
    let converged = results
        .iter()
        .all(|r| r.status != IslandStatus::NotConverged);
    Ok(PowerFlowResult {
        converged,
        iterations: 1,
        max_mismatch_pu: 0.0,
        max_mismatch_bus: None,
        vm_pu: vm,
        va_deg: va.iter().map(|a| a.to_degrees()).collect(),
        bus_island: islands.of_bus.clone(),
        bus_pg_mw: bus_pg,
        bus_qg_mvar: vec![0.0; n],
        gen_pg_mw: gen_p,
        gen_qg_mvar: vec![0.0; net.generators.len()],
        branch_pt_mw: pf.iter().map(|x| -x).collect(),
        branch_pf_mw: pf,
        branch_qf_mvar: vec![0.0; nb],
        branch_qt_mvar: vec![0.0; nb],
        branch_loading_pct: loading,
        total_losses_mw: 0.0,
        islands: results,
    })
}
