//! N-1 contingency analysis: every in-service branch taken out in turn, solved in parallel,
//! warm-started from the base case with the DC estimate of the outage's angle changes.

use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::GridError;
use crate::dc::DcModel;
use crate::islands::{bridges, find_islands};
use crate::network::Network;
use crate::newton::NewtonOptions;
use crate::powerflow::{PowerFlow, PowerFlowOptions, Start};
use crate::result::{IslandStatus, PowerFlowResult};

/// Outcome of one branch outage, or of the base case (`branch` is `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageResult {
    /// Index of the branch taken out (`None` for the base case).
    pub branch: Option<usize>,
    /// Every energised island converged.
    pub converged: bool,
    /// Newton iterations (largest over islands).
    pub iterations: usize,
    /// Number of islands after the outage.
    pub islands: usize,
    /// Whether the outage split an island of the base case.
    pub split: bool,
    /// Buses left without supply.
    pub deenergised_buses: usize,
    /// Branches above rate A: (branch, loading percent).
    pub overloads: Vec<(usize, f64)>,
    /// Energised buses outside their voltage limits: (bus, magnitude pu).
    pub voltage_violations: Vec<(usize, f64)>,
}

/// Result of a whole N-1 run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContingencyReport {
    /// Base case converged.
    pub base_converged: bool,
    /// Overloads and voltage violations already present before any outage.
    pub base: OutageResult,
    /// One entry per outage, in branch order.
    pub outages: Vec<OutageResult>,
}

impl ContingencyReport {
    /// Outages that did not converge.
    pub fn failed(&self) -> usize {
        self.outages.iter().filter(|o| !o.converged).count()
    }

    /// Outages that did not converge or that overload a branch or take a bus voltage out
    /// of its limits where the base case did not.
    pub fn insecure(&self) -> usize {
        let over: std::collections::BTreeSet<usize> =
            self.base.overloads.iter().map(|o| o.0).collect();
        let volt: std::collections::BTreeSet<usize> =
            self.base.voltage_violations.iter().map(|v| v.0).collect();
        self.outages
            .iter()
            .filter(|o| {
                !o.converged
                    || o.overloads.iter().any(|x| !over.contains(&x.0))
                    || o.voltage_violations.iter().any(|x| !volt.contains(&x.0))
            })
            .count()
    }
}

/// Judges one solved outage. A state that did not converge is no operating point: it lists
/// no overloads or voltage violations (the outage counts as insecure by not converging).
fn judge(net: &Network, branch: Option<usize>, split: bool, r: &PowerFlowResult) -> OutageResult {
    let overloads = r
        .branch_loading_pct
        .iter()
        .enumerate()
        .filter(|&(k, &l)| {
            r.converged && Some(k) != branch && net.branches[k].rate_a_mva > 0.0 && l > 100.0
        })
        .map(|(k, &l)| (k, l))
        .collect();
    let voltage_violations = r
        .vm_pu
        .iter()
        .enumerate()
        .filter(|&(i, &v)| {
            r.converged
                && v > 0.0
                && (v < net.buses[i].vm_min_pu - 1e-9 || v > net.buses[i].vm_max_pu + 1e-9)
        })
        .map(|(i, &v)| (i, v))
        .collect();
    let dark_islands: Vec<usize> = r
        .islands
        .iter()
        .filter(|i| i.status == IslandStatus::Deenergised)
        .map(|i| i.id)
        .collect();
    OutageResult {
        branch,
        converged: r.converged,
        iterations: r.iterations,
        islands: r.islands.len(),
        split,
        deenergised_buses: r
            .bus_island
            .iter()
            .filter(|i| i.is_some_and(|id| dark_islands.contains(&id)))
            .count(),
        overloads,
        voltage_violations,
    }
}

/// What each thread keeps between outages: its copy of the network (one branch open at a
/// time), an engine built for the base case, and the DC model of the base case.
struct Worker {
    local: Network,
    engine: Option<PowerFlow>,
    dc: DcModel,
}

/// Runs N-1 over every in-service branch of `net`. `progress` is called once per finished
/// outage (from worker threads).
pub fn run_n1(
    net: &Network,
    opts: &PowerFlowOptions,
    progress: impl Fn() + Sync,
) -> Result<ContingencyReport, GridError> {
    let mut base_engine = PowerFlow::new();
    let base = base_engine.solve(net, opts)?;
    let base_islands = base_engine.islands().clone();
    let is_bridge = bridges(net, |k| net.branches[k].in_service);
    let outaged: Vec<usize> = (0..net.branches.len())
        .filter(|&k| net.branches[k].in_service)
        .collect();
    // The outages are solved side by side, each on one thread.
    let warm = PowerFlowOptions {
        start: Start::Warm,
        newton: NewtonOptions {
            two_threads: false,
            ..opts.newton
        },
        ..*opts
    };
    // One engine and DC model per thread, built on its first outage: the outages can then be
    // dealt out in small pieces (the threads finish together) without rebuilding them. Each
    // outage sets its whole starting state, so its result does not depend on which thread
    // solved it or what that thread solved before.
    let workers: Vec<Mutex<Option<Worker>>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(None))
        .collect();
    let outages: Result<Vec<OutageResult>, GridError> = outaged
        .par_iter()
        .with_min_len(4)
        .map(|&k| {
            let slot = rayon::current_thread_index().unwrap_or(0) % workers.len();
            let mut guard = workers[slot].lock().unwrap_or_else(PoisonError::into_inner);
            let Worker { local, engine, dc } = guard.get_or_insert_with(|| {
                // An engine built for the base case: outages that leave the islands alone, or
                // only cut off parts with no source, reuse its structures.
                let mut engine = PowerFlow::new();
                let ready = engine.prepare(net, &warm).is_ok();
                Worker {
                    local: net.clone(),
                    engine: ready.then_some(engine),
                    dc: DcModel::new(net, &base_islands),
                }
            });
            local.branches[k].in_service = false;
            // Only a bridge's opening changes the islands.
            let (islands, split) = if is_bridge[k] {
                let islands = find_islands(local, |j| local.branches[j].in_service);
                let split = islands != base_islands;
                (islands, split)
            } else {
                (base_islands.clone(), false)
            };
            // Start from the base case with the angles moved as the DC model says the
            // outage moves them (the base flow of the branch redistributed): most outages
            // then need one Newton step fewer.
            let va_deg: Vec<f64> = match (split, base.converged) {
                (false, true) => dc
                    .outage_shift(net, &base_islands, k, base.branch_pf_mw[k] / net.base_mva)
                    .map(|shift| {
                        base.va_deg
                            .iter()
                            .zip(&shift)
                            .map(|(a, d)| a + d.to_degrees())
                            .collect()
                    })
                    .unwrap_or_else(|| base.va_deg.clone()),
                _ => base.va_deg.clone(),
            };
            let result = match engine
                .as_mut()
                .filter(|e| e.reuses_structures_for(&islands))
            {
                Some(engine) => {
                    engine.set_warm_start(&base.vm_pu, &va_deg);
                    engine.solve_on(local, &warm, islands)
                }
                None => {
                    // New energised islands: solve on a fresh engine, keep the shared one.
                    let mut fresh = PowerFlow::new();
                    fresh.set_warm_start(&base.vm_pu, &va_deg);
                    fresh.solve_on(local, &warm, islands)
                }
            };
            local.branches[k].in_service = true;
            progress();
            result.map(|r| judge(net, Some(k), split, &r))
        })
        .collect();
    Ok(ContingencyReport {
        base_converged: base.converged,
        base: judge(net, None, false, &base),
        outages: outages?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Branch, Bus, BusKind, Generator};

    /// A ring of four buses with a radial spur: opening a ring branch keeps one island,
    /// opening the spur de-energises its end.
    fn ring_with_spur() -> Network {
        let mut net = Network::new("ring", 100.0);
        for i in 0..5 {
            let mut b = Bus::new(
                i.to_string(),
                if i == 0 { BusKind::Slack } else { BusKind::Pq },
                20.0,
            );
            b.pd_mw = if i == 0 { 0.0 } else { 10.0 };
            b.qd_mvar = 2.0;
            net.buses.push(b);
        }
        for (f, t) in [(0, 1), (1, 2), (2, 3), (3, 0), (2, 4)] {
            let mut br = Branch::line(f, t, 0.01, 0.04, 0.0);
            br.rate_a_mva = 35.0;
            net.branches.push(br);
        }
        let mut g = Generator::new(0, 0.0, 1.02);
        g.grid_forming = true;
        net.generators.push(g);
        net
    }

    #[test]
    fn a_part_cut_off_with_its_own_source_reuses_the_cached_solver() {
        // The spur's end gets a grid-forming unit: opening the spur leaves it an island of
        // its own, solved beside the ring without rebuilding the ring's solver.
        let mut net = ring_with_spur();
        let mut g = Generator::new(4, 5.0, 1.01);
        g.grid_forming = true;
        net.generators.push(g);
        let opts = PowerFlowOptions::default();
        let mut engine = PowerFlow::new();
        assert!(engine.solve(&net, &opts).unwrap().converged);
        let mut cut = net.clone();
        cut.branches[4].in_service = false;
        let islands = find_islands(&cut, |k| cut.branches[k].in_service);
        assert_eq!(islands.islands.len(), 2);
        assert!(engine.reuses_structures_for(&islands));
        let reused = engine.solve(&cut, &opts).unwrap();
        let fresh = PowerFlow::new().solve(&cut, &opts).unwrap();
        assert!(reused.converged && fresh.converged);
        assert_eq!(reused.bus_island, fresh.bus_island);
        for (a, b) in reused.vm_pu.iter().zip(&fresh.vm_pu) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        for (a, b) in reused.va_deg.iter().zip(&fresh.va_deg) {
            assert!((a - b).abs() < 1e-7, "{a} vs {b}");
        }
        // Closing the spur again goes back to the one island, on the same structures.
        assert!(engine.solve(&net, &opts).unwrap().converged);
        let again = PowerFlow::new().solve(&net, &opts).unwrap();
        let back = engine.solve(&net, &opts).unwrap();
        for (a, b) in back.vm_pu.iter().zip(&again.vm_pu) {
            assert!((a - b).abs() < 1e-9);
        }
        let report = run_n1(&net, &opts, || {}).unwrap();
        assert!(report.outages[4].split && report.outages[4].converged);
        assert_eq!(report.outages[4].islands, 2);
    }

    #[test]
    fn n1_matches_solving_each_outage_from_scratch() {
        let net = ring_with_spur();
        let opts = PowerFlowOptions::default();
        let report = run_n1(&net, &opts, || {}).unwrap();
        assert!(report.base_converged);
        assert_eq!(report.outages.len(), 5);
        for o in &report.outages {
            let k = o.branch.expect("an outage names its branch");
            let mut alone = net.clone();
            alone.branches[k].in_service = false;
            let r = PowerFlow::new()
                .solve(
                    &alone,
                    &PowerFlowOptions {
                        start: Start::Flat,
                        ..opts
                    },
                )
                .unwrap();
            let expected = judge(&net, o.branch, o.split, &r);
            assert_eq!(o.converged, expected.converged);
            assert_eq!(o.islands, expected.islands);
            assert_eq!(o.deenergised_buses, expected.deenergised_buses);
            assert_eq!(o.overloads.len(), expected.overloads.len(), "outage {k}");
        }
        let spur = &report.outages[4];
        assert!(spur.split);
        assert_eq!(spur.deenergised_buses, 1);
        // Losing the 0-1 ring branch sends all the load the other way round: 3-0 overloads.
        assert!(report.outages[0].overloads.iter().any(|&(k, _)| k == 3));
        // The base case is secure, so that outage counts as insecure.
        assert!(report.base.overloads.is_empty() && report.base.voltage_violations.is_empty());
        assert!(report.insecure() >= 1);
    }
}
