//! DC power flow (MATPOWER `makeBdc` model): flat voltage magnitudes, lossless branches,
//! `B theta = P`, solved per island with a sparse LU.

use std::collections::BTreeMap;

use faer::linalg::solvers::SolveCore;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut};

use crate::GridError;
use crate::islands::Islands;
use crate::network::Network;
use crate::powerflow::{IslandResult, IslandStatus, PowerFlowResult};

/// Series susceptance of a branch in the DC model, pu, and its phase-shift injection.
fn dc_branch(x_pu: f64, ratio: f64, shift_deg: f64) -> (f64, f64) {
    let b = if x_pu != 0.0 { 1.0 / (x_pu * ratio) } else { 0.0 };
    (b, -b * shift_deg.to_radians())
}

/// Solves the DC power flow of every energised island of `net`.
pub fn solve_dc(net: &Network, islands: &Islands) -> Result<PowerFlowResult, GridError> {
    let n = net.buses.len();
    let base = net.base_mva;
    let mut va = vec![0.0; n];
    let mut vm = vec![0.0; n];
    // Net scheduled injection (generation - load - shunt), pu.
    let mut p = vec![0.0; n];
    for (i, b) in net.buses.iter().enumerate() {
        p[i] = -(b.pd_mw + b.gs_mw) / base;
    }
    for g in net.generators.iter().filter(|g| g.in_service) {
        p[g.bus] += g.pg_mw / base;
    }
    let conducting = |k: usize| {
        let br = &net.branches[k];
        br.in_service && islands.of_bus[br.from].is_some() && islands.of_bus[br.from] == islands.of_bus[br.to]
    };
    for (k, br) in net.branches.iter().enumerate() {
        if conducting(k) {
            let (_, pinj) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
            p[br.from] -= pinj;
            p[br.to] += pinj;
        }
    }
    let mut results = Vec::with_capacity(islands.islands.len());
    for (id, island) in islands.islands.iter().enumerate() {
        let Some(reference) = island.reference else {
            results.push(IslandResult {
                id,
                n_buses: island.buses.len(),
                reference: None,
                status: IslandStatus::Deenergised,
                iterations: 0,
                max_mismatch_pu: 0.0,
                max_mismatch_bus: None,
                slack_p_mw: 0.0,
                slack_q_mvar: 0.0,
                losses_mw: 0.0,
            });
            continue;
        };
        let theta_ref = net.buses[reference].va_deg.to_radians();
        // Unknown index of each non-reference bus of the island.
        let mut unknown = BTreeMap::new();
        for &b in island.buses.iter().filter(|&&b| b != reference) {
            let next = unknown.len();
            unknown.insert(b, next);
        }
        let m = unknown.len();
        let mut rhs: Vec<f64> = vec![0.0; m];
        for (&b, &u) in &unknown {
            rhs[u] = p[b];
        }
        let mut entries: BTreeMap<(usize, usize), f64> = BTreeMap::new();
        for &u in unknown.values() {
            entries.insert((u, u), 0.0);
        }
        for (k, br) in net.branches.iter().enumerate() {
            if !conducting(k) || islands.of_bus[br.from] != Some(id) {
                continue;
            }
            let (b, _) = dc_branch(br.x_pu, br.ratio(), br.shift_deg);
            let (uf, ut) = (unknown.get(&br.from).copied(), unknown.get(&br.to).copied());
            if let Some(f) = uf {
                *entries.entry((f, f)).or_default() += b;
            }
            if let Some(t) = ut {
                *entries.entry((t, t)).or_default() += b;
            }
            match (uf, ut) {
                (Some(f), Some(t)) => {
                    *entries.entry((t, f)).or_default() -= b;
                    *entries.entry((f, t)).or_default() -= b;
                }
                (Some(f), None) => rhs[f] += b * theta_ref,
                (None, Some(t)) => rhs[t] += b * theta_ref,
                (None, None) => {}
            }
        }
        let mut status = IslandStatus::Solved;
        if m > 0 {
            let mut col_ptr = vec![0usize; m + 1];
            let mut row_idx = Vec::with_capacity(entries.len());
            let mut val = Vec::with_capacity(entries.len());
            for (&(c, r), &v) in &entries {
                col_ptr[c + 1] += 1;
                row_idx.push(r);
                val.push(v);
            }
            for c in 0..m {
                col_ptr[c + 1] += col_ptr[c];
            }
            let sym = SymbolicSparseColMatRef::new_checked(m, m, &col_ptr, None, &row_idx);
            let a = SparseColMatRef::new(sym, &val);
            match a.sp_lu() {
                Ok(lu) => {
                    lu.solve_in_place_with_conj(Conj::No, MatMut::from_column_major_slice_mut(&mut rhs, m, 1));
                    if rhs.iter().any(|x| !x.is_finite()) {
                        status = IslandStatus::NotConverged;
                    }
                }
                Err(_) => status = IslandStatus::NotConverged,
            }
        }
        for &b in &island.buses {
            vm[b] = 1.0;
            va[b] = match unknown.get(&b) {
                Some(&u) if status == IslandStatus::Solved => rhs[u],
                _ => theta_ref,
            };
        }
        results.push(IslandResult {
            id,
            n_buses: island.buses.len(),
            reference: Some(reference),
            status,
            iterations: 1,
            max_mismatch_pu: 0.0,
            max_mismatch_bus: None,
            slack_p_mw: 0.0,
            slack_q_mvar: 0.0,
            losses_mw: 0.0,
        });
    }
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
        let Some(id) = islands.of_bus[g.bus] else { continue };
        if !g.in_service || results[id].status == IslandStatus::Deenergised {
            continue;
        }
        gen_p[gi] = g.pg_mw;
        if islands.islands[id].reference == Some(g.bus) && !ref_done[g.bus] {
            // The first unit at the reference takes the balance of its bus.
            let others: f64 = net.generators.iter().filter(|o| o.in_service && o.bus == g.bus).map(|o| o.pg_mw).sum();
            gen_p[gi] += bus_pg[g.bus] - others;
            ref_done[g.bus] = true;
        }
    }
    for r in &mut results {
        if let Some(refb) = r.reference.filter(|_| r.status != IslandStatus::Deenergised) {
            r.slack_p_mw = bus_pg[refb];
        }
    }
    let converged = results.iter().all(|r| r.status != IslandStatus::NotConverged);
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
