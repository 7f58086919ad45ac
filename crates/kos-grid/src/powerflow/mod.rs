//! The power-flow engine: islands, per-island Newton-Raphson (or DC), generator reactive
//! limits, distributed slack, and results. Structures are cached between solves and rebuilt
//! only when the topology changes.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::GridError;
use crate::dc;
use crate::fdpf::{Attempt, solve_island};
use crate::islands::{Islands, find_islands};
use crate::network::Network;
use crate::newton::{IslandNewton, NewtonOptions, NewtonOutcome, Role};
use crate::result::{PowerFlowResult, assemble};
use crate::schedule::{base_roles, participation, scheduled, share_reactive};
use crate::team::{self, Team};
use crate::ybus::{BranchAdmittance, Ybus};

mod keys;
mod start;

use keys::{AdmittanceParams, Topology};
use start::{Beginning, begin, start_voltages};

/// Which power-flow formulation to solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Full AC power flow by Newton-Raphson.
    #[default]
    Ac,
    /// Linear DC approximation (angles only, lossless).
    Dc,
    /// Fast-decoupled AC power flow (XB), finished by Newton-Raphson from where it ends (no
    /// step when it reached the tolerance with a single slack).
    #[serde(rename = "fd")]
    FastDecoupled,
}

/// Initial voltages of an AC solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// |V| = 1 pu (setpoints at voltage-controlled buses), angles at the reference angle.
    Flat,
    /// The previous solution of this engine where there is one, else flat.
    #[default]
    Warm,
    /// The voltages stored in the network's buses.
    Case,
    /// Angles from the DC power flow, magnitudes flat (for cases too stressed for flat).
    Dc,
}

/// Options of a power-flow solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerFlowOptions {
    /// Formulation.
    pub method: Method,
    /// Initial point.
    pub start: Start,
    /// Newton convergence controls.
    pub newton: NewtonOptions,
    /// Switch voltage-controlled buses to fixed reactive power when a unit's limit is hit.
    pub enforce_q_limits: bool,
    /// Share each island's slack among the units with a participation factor.
    pub distributed_slack: bool,
    /// When Newton-Raphson does not converge on an island, start again from the same point
    /// with the fast-decoupled method and finish with Newton-Raphson.
    pub fast_decoupled_fallback: bool,
}

impl Default for PowerFlowOptions {
    fn default() -> Self {
        Self {
            method: Method::Ac,
            start: Start::Warm,
            newton: NewtonOptions::default(),
            enforce_q_limits: false,
            distributed_slack: false,
            fast_decoupled_fallback: true,
        }
    }
}

/// Cached solver of one island.
struct IslandCache {
    newton: Option<IslandNewton>,
    lambda: f64,
}

/// A power-flow engine for one network. Holds the admittance matrix, islands and LU
/// factorisations between calls, and the last solution for warm starts.
pub struct PowerFlow {
    topology: Option<Topology>,
    params: AdmittanceParams,
    /// Pi-model admittances of every branch, for the flows.
    admittances: Vec<BranchAdmittance>,
    /// DC model, built on first use after each change.
    dc: Option<dc::DcModel>,
    ybus: Option<Ybus>,
    /// Islands now, as results report them.
    islands: Islands,
    /// Islands the cached solvers were built for: those of the last full build (each minus
    /// any parts an opening has cut off), then the parts cut off with a source of their own,
    /// each with a solver of its own.
    cache_islands: Islands,
    /// How many of `cache_islands` come from the last full build.
    built_islands: usize,
    caches: Vec<IslandCache>,
    vm: Vec<f64>,
    va: Vec<f64>,
    has_solution: Vec<bool>,
}

impl Default for PowerFlow {
    fn default() -> Self {
        Self::new()
    }
}

impl PowerFlow {
    /// An engine with nothing cached yet.
    pub fn new() -> Self {
        Self {
            topology: None,
            params: AdmittanceParams::default(),
            admittances: Vec::new(),
            dc: None,
            ybus: None,
            cache_islands: Islands {
                islands: Vec::new(),
                of_bus: Vec::new(),
            },
            islands: Islands {
                islands: Vec::new(),
                of_bus: Vec::new(),
            },
            caches: Vec::new(),
            built_islands: 0,
            vm: Vec::new(),
            va: Vec::new(),
            has_solution: Vec::new(),
        }
    }

    /// The islands found at the last solve.
    pub fn islands(&self) -> &Islands {
        &self.islands
    }

    /// Builds (or keeps) the cached structures for `net`. Returns whether anything changed.
    ///
    /// New impedances refresh values only. Opening or closing branches that were in service
    /// at the last full build, without changing the islands, keeps every pattern and
    /// LU layout (the open branches stay as explicit zeros). Anything else
    /// rebuilds.
    pub fn prepare(&mut self, net: &Network, opts: &PowerFlowOptions) -> Result<bool, GridError> {
        self.prepare_on(net, opts, None, None)
    }

    /// [`PowerFlow::prepare`], with the islands of `net` given when the caller knows them
    /// (as [`find_islands`] finds them), and the check for changes shared by `team`.
    fn prepare_on(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
        mut known: Option<Islands>,
        team: Option<&Team>,
    ) -> Result<bool, GridError> {
        let mut islands_of = |net: &Network| {
            known
                .take()
                .unwrap_or_else(|| find_islands(net, |k| net.branches[k].in_service))
        };
        // Whether the parameters and the topology hold, half of each list on each thread.
        let same: [[AtomicBool; 2]; 2] = Default::default();
        team::both(team, |h| {
            let topology = self.topology.as_ref();
            let params = self.params.matches_half(net, h);
            let topo = topology.is_some_and(|t| t.matches_half(net, opts.distributed_slack, h));
            same[0][h].store(params, Ordering::Relaxed);
            same[1][h].store(topo, Ordering::Relaxed);
        });
        let holds = |i: usize| same[i].iter().all(|s| s.load(Ordering::Relaxed));
        let same_params = holds(0);
        if same_params && holds(1) {
            return Ok(false);
        }
        let topo = Topology::of(net, opts.distributed_slack);
        // Opening or closing branches alone changes nothing that `check` looks at.
        let switching_only = same_params
            && self
                .topology
                .as_ref()
                .is_some_and(|old| old.same_buses_and_units(&topo));
        if !switching_only {
            net.check()?;
        }
        let params = if same_params {
            std::mem::take(&mut self.params)
        } else {
            AdmittanceParams::of(net)
        };
        if !same_params || self.admittances.len() != net.branches.len() {
            self.admittances = net.branches.iter().map(BranchAdmittance::of).collect();
        }
        self.dc = None;
        if self.topology.as_ref() == Some(&topo) {
            self.refill(net);
            self.params = params;
            return Ok(true);
        }
        if let (Some(old), Some(ybus)) = (self.topology.as_ref(), self.ybus.as_ref()) {
            let within_pattern = topo
                .conducts
                .iter()
                .enumerate()
                .all(|(k, &c)| !c || ybus.has_branch(k));
            if old.same_buses_and_units(&topo) && within_pattern {
                let islands = islands_of(net);
                if let Some((masks, split_off)) = self.freeze_masks(&islands) {
                    self.caches.truncate(self.built_islands);
                    self.cache_islands.islands.truncate(self.built_islands);
                    for (cache, mask) in self.caches.iter_mut().zip(&masks) {
                        if let Some(nr) = cache.newton.as_mut() {
                            nr.set_frozen(mask);
                        }
                    }
                    self.refill(net);
                    // Parts cut off with a source of their own: a small solver each, on the
                    // same admittance matrix (the opened branches are zeros in it).
                    let ybus = self.ybus.as_ref().expect("checked above");
                    for id in split_off {
                        let island = islands.islands[id].clone();
                        let reference = island.reference.expect("energised");
                        let roles = base_roles(net, &island.buses, reference, &[]);
                        let alpha = if opts.distributed_slack {
                            participation(net, &island.buses)
                        } else {
                            Vec::new()
                        };
                        let newton = IslandNewton::new(ybus, island.buses.clone(), roles, alpha)?;
                        self.caches.push(IslandCache {
                            newton: Some(newton),
                            lambda: 0.0,
                        });
                        self.cache_islands.islands.push(island);
                    }
                    self.islands = islands;
                    self.topology = Some(topo);
                    self.params = params;
                    return Ok(true);
                }
            }
        }
        let ybus = Ybus::build(net, |_, b| b.in_service);
        let islands = islands_of(net);
        let mut caches = Vec::with_capacity(islands.islands.len());
        for island in &islands.islands {
            let Some(reference) = island.reference else {
                caches.push(IslandCache {
                    newton: None,
                    lambda: 0.0,
                });
                continue;
            };
            let roles = base_roles(net, &island.buses, reference, &[]);
            let alpha = if opts.distributed_slack {
                participation(net, &island.buses)
            } else {
                Vec::new()
            };
            let newton = IslandNewton::new(&ybus, island.buses.clone(), roles, alpha)?;
            caches.push(IslandCache {
                newton: Some(newton),
                lambda: 0.0,
            });
        }
        let n = net.buses.len();
        if self.vm.len() != n {
            self.vm = vec![1.0; n];
            self.va = vec![0.0; n];
            self.has_solution = vec![false; n];
        }
        self.cache_islands = islands.clone();
        self.built_islands = islands.islands.len();
        self.islands = islands;
        self.caches = caches;
        self.ybus = Some(ybus);
        self.topology = Some(topo);
        self.params = params;
        Ok(true)
    }

    /// When `new` is the built islands less parts that an opening cut off, the cut-off buses
    /// of each built island, and the new energised islands no built island's reference is in
    /// (parts cut off with a source of their own); `None` when a reference moved.
    fn freeze_masks(&self, new: &Islands) -> Option<(Vec<Vec<bool>>, Vec<usize>)> {
        let mut covered = vec![false; new.islands.len()];
        let built = &self.cache_islands.islands[..self.built_islands];
        let mut masks = Vec::with_capacity(built.len());
        for old in built {
            let Some(r) = old.reference else {
                masks.push(Vec::new());
                continue;
            };
            let nid = new.of_bus.get(r).copied().flatten()?;
            if new.islands[nid].reference != Some(r) {
                return None;
            }
            covered[nid] = true;
            masks.push(
                old.buses
                    .iter()
                    .map(|&b| new.of_bus[b] != Some(nid))
                    .collect(),
            );
        }
        let split_off = (0..new.islands.len())
            .filter(|&i| new.islands[i].reference.is_some() && !covered[i])
            .collect();
        Some((masks, split_off))
    }

    /// Whether a solve with the islands `new` can reuse the cached structures (they only lose
    /// de-energised parts).
    pub fn reuses_structures_for(&self, new: &Islands) -> bool {
        self.ybus.is_some() && self.freeze_masks(new).is_some()
    }

    fn refill(&mut self, net: &Network) {
        if let Some(ybus) = self.ybus.as_mut() {
            let admittances = &self.admittances;
            ybus.fill_with(net, |k, _| admittances[k]);
            for cache in &mut self.caches {
                if let Some(nr) = cache.newton.as_mut() {
                    nr.refresh(ybus);
                }
            }
        }
    }

    /// Sets the state the next warm start begins from (magnitudes in pu, angles in degrees);
    /// buses with a zero magnitude have no state, and the distributed slack's share starts
    /// from zero: nothing of earlier solves is left in it.
    pub fn set_warm_start(&mut self, vm_pu: &[f64], va_deg: &[f64]) {
        self.vm.clear();
        self.vm.extend_from_slice(vm_pu);
        self.va.clear();
        self.va.extend(va_deg.iter().map(|a| a.to_radians()));
        self.has_solution.clear();
        self.has_solution.extend(vm_pu.iter().map(|&v| v > 0.0));
        for cache in &mut self.caches {
            cache.lambda = 0.0;
        }
    }

    /// Solves the power flow of `net`.
    pub fn solve(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
    ) -> Result<PowerFlowResult, GridError> {
        self.solve_known(net, opts, None)
    }

    /// [`PowerFlow::solve`] with the islands of `net` known (as [`find_islands`] finds them).
    pub(crate) fn solve_on(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
        islands: Islands,
    ) -> Result<PowerFlowResult, GridError> {
        self.solve_known(net, opts, Some(islands))
    }

    /// A solve with a team of two threads for the whole of it (the check for changes, the
    /// Newton-Raphson and the results) where allowed and some island of the last build
    /// gains from one (a rebuild's first solve goes without).
    fn solve_known(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
        known: Option<Islands>,
    ) -> Result<PowerFlowResult, GridError> {
        let gains = || {
            self.caches.iter().any(|c| {
                c.newton
                    .as_ref()
                    .is_some_and(|nr| nr.gains_from_two_threads())
            })
        };
        if opts.newton.two_threads && opts.method != Method::Dc && gains() {
            Team::with(|team| self.solve_with(net, opts, known, team))
        } else {
            self.solve_with(net, opts, known, None)
        }
    }

    fn solve_with(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
        known: Option<Islands>,
        team: Option<&Team>,
    ) -> Result<PowerFlowResult, GridError> {
        self.prepare_on(net, opts, known, team)?;
        match opts.method {
            Method::Ac | Method::FastDecoupled => Ok(self.solve_ac_on(net, opts, team)),
            Method::Dc => {
                let model = self
                    .dc
                    .get_or_insert_with(|| dc::DcModel::new(net, &self.islands));
                dc::solve_dc(net, &self.islands, model)
            }
        }
    }

    fn solve_ac_on(
        &mut self,
        net: &Network,
        opts: &PowerFlowOptions,
        team: Option<&Team>,
    ) -> PowerFlowResult {
        let n = net.buses.len();
        let base = net.base_mva;
        let mut vm = vec![0.0; n];
        let mut va = vec![0.0; n];
        let mut outcomes: Vec<Option<NewtonOutcome>> = Vec::with_capacity(self.caches.len());
        let mut fixed_q: Vec<Option<f64>> = vec![None; net.generators.len()];
        let mut iterations_total = vec![0usize; self.caches.len()];
        let model = match opts.start {
            Start::Dc => Some(
                self.dc
                    .get_or_insert_with(|| dc::DcModel::new(net, &self.islands)),
            ),
            _ => None,
        };
        let Beginning {
            dc_angles,
            setpoint,
            mut first_specs,
        } = begin(
            net,
            model,
            &self.islands,
            &self.cache_islands,
            &self.caches,
            &fixed_q,
            team,
        );
        for (id, island) in self.cache_islands.islands.iter().enumerate() {
            let cache = &mut self.caches[id];
            let Some(reference) = island.reference else {
                outcomes.push(None);
                continue;
            };
            let nr = cache
                .newton
                .as_mut()
                .expect("energised island has a solver");
            let m = island.buses.len();
            let warm = (&self.vm[..], &self.va[..], &self.has_solution[..]);
            let (mut lvm, mut lva) = start_voltages(
                net,
                opts.start,
                (island, reference, nr),
                (&setpoint, dc_angles.as_deref()),
                warm,
            );
            if opts.start != Start::Warm {
                cache.lambda = 0.0;
            }
            let mut outcome;
            let mut roles_changed = false;
            let mut fd_total = 0;
            loop {
                let (p_spec, q_spec) = match first_specs[id].take() {
                    Some(spec) => spec,
                    None => scheduled(net, &island.buses, |li| nr.role(li), &fixed_q),
                };
                outcome = solve_island(
                    net,
                    nr,
                    (&mut lvm, &mut lva, &mut cache.lambda),
                    (&p_spec, &q_spec),
                    Attempt {
                        fast_decoupled_first: opts.method == Method::FastDecoupled,
                        fallback: opts.fast_decoupled_fallback,
                        newton: opts.newton,
                        team,
                    },
                );
                fd_total += outcome.fast_decoupled_iterations;
                iterations_total[id] += outcome.iterations;
                if !(opts.enforce_q_limits && outcome.converged) {
                    break;
                }
                // Units past their reactive limits become fixed at the limit.
                let inj = nr.injections();
                let mut changed = false;
                let q_units =
                    share_reactive(net, &island.buses, &inj, base, |li| nr.role(li), &fixed_q);
                for (gi, q) in q_units {
                    let g = &net.generators[gi];
                    if nr.role(local_index(&island.buses, g.bus)) != Role::Pv {
                        continue;
                    }
                    if q > g.qmax_mvar + 1e-6 {
                        fixed_q[gi] = Some(g.qmax_mvar);
                        changed = true;
                    } else if q < g.qmin_mvar - 1e-6 {
                        fixed_q[gi] = Some(g.qmin_mvar);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
                // The same Jacobian layout with the units at their limits as PQ buses.
                nr.set_roles(base_roles(net, &island.buses, reference, &fixed_q));
                roles_changed = true;
            }
            let frozen = nr.frozen();
            if m == n && !frozen.contains(&true) {
                // The island is the network, its buses numbered as the network's.
                vm.copy_from_slice(&lvm);
                va.copy_from_slice(&lva);
            } else {
                for (li, &g) in island.buses.iter().enumerate() {
                    if !frozen[li] {
                        vm[g] = lvm[li];
                        va[g] = lva[li];
                    }
                }
            }
            if roles_changed {
                // The cached solver keeps the network's own roles for the next solve.
                nr.set_roles(base_roles(net, &island.buses, reference, &[]));
            }
            outcome.iterations = iterations_total[id];
            outcome.fast_decoupled_iterations = fd_total;
            outcome.max_mismatch_bus = island.buses[outcome.max_mismatch_bus.min(m - 1)];
            outcomes.push(Some(outcome));
        }
        // Outcomes and slack shares by the islands now: each energised one is what is left of
        // a cached island.
        let mut by_island: Vec<Option<NewtonOutcome>> = vec![None; self.islands.islands.len()];
        let mut lambdas = vec![0.0; self.islands.islands.len()];
        for (id, old) in self.cache_islands.islands.iter().enumerate() {
            if let Some(nid) = old.reference.and_then(|r| self.islands.of_bus[r]) {
                by_island[nid] = outcomes[id];
                lambdas[nid] = self.caches[id].lambda;
            }
        }
        let outcomes = by_island;
        // Remember for warm starts only what converged.
        for (id, island) in self.islands.islands.iter().enumerate() {
            let ok = outcomes[id].is_some_and(|o| o.converged);
            if island.buses.len() == n {
                // The island is the network.
                if ok {
                    self.vm.copy_from_slice(&vm);
                    self.va.copy_from_slice(&va);
                }
                self.has_solution.fill(ok);
                continue;
            }
            for &g in &island.buses {
                if ok {
                    self.vm[g] = vm[g];
                    self.va[g] = va[g];
                }
                self.has_solution[g] = ok;
            }
        }
        assemble(
            net,
            &self.admittances,
            &self.islands,
            &vm,
            &va,
            &outcomes,
            &fixed_q,
            &lambdas,
            team,
        )
    }
}

fn local_index(buses: &[usize], g: usize) -> usize {
    buses.binary_search(&g).unwrap_or(0)
}
