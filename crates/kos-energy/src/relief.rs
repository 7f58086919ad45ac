//! Relief of network limits after a power flow: which buses should inject more (or consume
//! less) and which should inject less, so that branches come back under their rating and
//! voltages back into their band. The twin applies the changes, solves again and repeats a
//! bounded number of times within the tick.
//!
//! The rules are local and conservative, as a distribution operator's would be:
//! - A bus above the band reduces its net injection by the fraction of its voltage rise
//!   (over the island reference) that is too much; below the band, it reduces its net
//!   consumption by the fraction of its drop that is too much. Voltage change is about
//!   linear in the local injection on a radial feeder.
//! - An overloaded branch that is a bridge splits its island into the side holding the
//!   reference and the far side. Power flowing into the far side is relieved by more
//!   injection there (storage, units, then shedding); power flowing out of it by less
//!   injection there (curtailment). A branch inside a mesh has no far side and is left to
//!   the operator (reported, not relieved).

use kos_grid::{IslandStatus, Network, PowerFlowResult};

use crate::balance::SHED_CLASSES;

/// Limits to hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Lowest bus voltage, pu.
    pub vm_min_pu: f64,
    /// Highest bus voltage, pu.
    pub vm_max_pu: f64,
    /// Highest branch loading, percent of rating.
    pub loading_max_pct: f64,
    /// Extra margin on each correction, fraction (the response is only about linear).
    pub margin: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            vm_min_pu: 0.95,
            vm_max_pu: 1.05,
            loading_max_pct: 100.0,
            margin: 0.15,
        }
    }
}

/// Wanted change of a bus's net injection, kW: positive means inject more or consume less.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BusRelief {
    /// Bus index.
    pub bus: usize,
    /// Change of net injection, kW.
    pub delta_kw: f64,
}

/// Wanted change of the net injection of a group of buses together, kW: the far side of an
/// overloaded branch. The group answers in merit order as a whole, so deferrable demand
/// anywhere on the feeder goes before essential demand anywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRelief {
    /// Bus indices, ascending.
    pub buses: Vec<usize>,
    /// Change of net injection, kW.
    pub delta_kw: f64,
    /// The overloaded branch.
    pub branch: usize,
}

/// What the relief found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReliefRequest {
    /// Voltage changes per bus, ascending bus index, each bus at most once.
    pub changes: Vec<BusRelief>,
    /// Overload changes per far side, largest first; a far side nested in another's with
    /// the same direction is left to the next round.
    pub groups: Vec<GroupRelief>,
    /// Overloaded branches inside a mesh, which local rules cannot relieve.
    pub meshed_overloads: Vec<usize>,
}

impl ReliefRequest {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.groups.is_empty()
    }
}

/// Finds the changes that relieve every violated limit of the solved islands.
///
/// `net_injection_kw[b]` is the present generation minus consumption at bus `b`, kW.
pub fn relieve(
    net: &Network,
    result: &PowerFlowResult,
    net_injection_kw: &[f64],
    limits: &Limits,
) -> ReliefRequest {
    let n = net.buses.len();
    let mut delta = vec![0.0; n];
    let solved = |b: usize| {
        result
            .bus_island
            .get(b)
            .copied()
            .flatten()
            .and_then(|i| result.islands.get(i))
            .is_some_and(|i| i.status == IslandStatus::Solved)
    };
    let reference_vm = |b: usize| {
        result.bus_island[b]
            .and_then(|i| result.islands[i].reference)
            .map_or(1.0, |r| result.vm_pu[r])
    };
    let inj = |b: usize| net_injection_kw.get(b).copied().unwrap_or(0.0);
    // Voltage rules act on the violating bus itself.
    let m = 1.0 + limits.margin;

    for (b, &vm) in result.vm_pu.iter().enumerate().take(n) {
        if !solved(b) {
            continue;
        }
        let vref = reference_vm(b);
        if vm > limits.vm_max_pu && vm > vref && inj(b) > 0.0 {
            let f = ((vm - limits.vm_max_pu) / (vm - vref) * m).min(1.0);
            delta[b] -= inj(b) * f;
        } else if vm < limits.vm_min_pu && vm < vref && inj(b) < 0.0 {
            let f = ((limits.vm_min_pu - vm) / (vref - vm) * m).min(1.0);
            delta[b] -= inj(b) * f;
        }
    }

    let mut meshed = Vec::new();
    let mut groups: Vec<GroupRelief> = Vec::new();
    let adjacency = Adjacency::new(net);
    for (k, br) in net.branches.iter().enumerate() {
        let loading = result.branch_loading_pct.get(k).copied().unwrap_or(0.0);
        if !br.in_service || loading <= limits.loading_max_pct || !solved(br.from) {
            continue;
        }
        let Some(reference) = result.bus_island[br.from].and_then(|i| result.islands[i].reference)
        else {
            continue;
        };
        let Some(far) = adjacency.far_side(net, k, reference) else {
            meshed.push(k);
            continue;
        };
        // Active power into the far side through the branch, kW.
        let (pf, pt) = (result.branch_pf_mw[k], result.branch_pt_mw[k]);
        let into_far = if far.binary_search(&br.to).is_ok() {
            pf
        } else {
            pt
        } * 1000.0;
        let excess = into_far.abs() * (1.0 - limits.loading_max_pct / loading) * m;
        groups.push(GroupRelief {
            buses: far,
            delta_kw: if into_far > 0.0 { excess } else { -excess },
            branch: k,
        });
    }
    // Nested bridges on one feeder see the same cause: keep the outermost ask.
    groups.sort_by(|a, b| {
        b.delta_kw
            .abs()
            .total_cmp(&a.delta_kw.abs())
            .then(a.branch.cmp(&b.branch))
    });
    let mut kept: Vec<GroupRelief> = Vec::new();
    for g in groups {
        let nested = kept.iter().any(|k| {
            k.delta_kw.signum() == g.delta_kw.signum()
                && g.buses.iter().all(|b| k.buses.binary_search(b).is_ok())
        });
        if !nested {
            kept.push(g);
        }
    }

    ReliefRequest {
        changes: delta
            .iter()
            .enumerate()
            .filter(|(_, d)| d.abs() > 1e-9)
            .map(|(bus, &delta_kw)| BusRelief { bus, delta_kw })
            .collect(),
        groups: kept,
        meshed_overloads: meshed,
    }
}

/// Conducting neighbours of every bus.
struct Adjacency {
    /// (neighbour, branch) of each bus.
    of: Vec<Vec<(usize, usize)>>,
}

impl Adjacency {
    fn new(net: &Network) -> Self {
        let mut of = vec![Vec::new(); net.buses.len()];
        for (k, br) in net.branches.iter().enumerate() {
            if br.in_service && br.from < of.len() && br.to < of.len() {
                of[br.from].push((br.to, k));
                of[br.to].push((br.from, k));
            }
        }
        Self { of }
    }

    /// Buses cut off from `reference` when branch `k` opens, ascending; `None` when the
    /// branch lies in a mesh (nothing is cut off).
    fn far_side(&self, net: &Network, k: usize, reference: usize) -> Option<Vec<usize>> {
        let br = &net.branches[k];
        let mut seen = vec![false; self.of.len()];
        let mut stack = vec![reference];
        seen[reference] = true;
        while let Some(b) = stack.pop() {
            for &(o, kk) in &self.of[b] {
                if kk != k && !seen[o] {
                    seen[o] = true;
                    stack.push(o);
                }
            }
        }
        let start = match (seen[br.from], seen[br.to]) {
            (true, false) => br.to,
            (false, true) => br.from,
            _ => return None,
        };
        let mut far = vec![start];
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(b) = stack.pop() {
            for &(o, kk) in &self.of[b] {
                if kk != k && !seen[o] {
                    seen[o] = true;
                    far.push(o);
                    stack.push(o);
                }
            }
        }
        far.sort_unstable();
        Some(far)
    }
}

/// A controllable element at a bus, as the relief sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Element {
    /// Renewable unit: planned output and what the weather allows, kW.
    Renewable {
        /// Planned output, kW.
        kw: f64,
    },
    /// Battery: planned output (positive discharging) and its limits, kW.
    Store {
        /// Planned output, kW.
        kw: f64,
        /// Largest discharge, kW.
        max_discharge_kw: f64,
        /// Largest charge, kW (positive).
        max_charge_kw: f64,
    },
    /// Dispatchable unit: planned output and reachable range, kW.
    Unit {
        /// Planned output, kW.
        kw: f64,
        /// Lowest output, kW.
        min_kw: f64,
        /// Highest output, kW.
        max_kw: f64,
    },
    /// Consumer: demand, fraction served and shedding class.
    Consumer {
        /// Demand, kW.
        demand_kw: f64,
        /// Fraction served.
        served: f64,
        /// Shedding class (0 first).
        shed_class: usize,
    },
}

/// Applies a wanted change of net injection to the elements of a bus or a group of buses,
/// in merit order, and
/// returns what could not be applied, kW.
///
/// More injection: batteries discharge more (or charge less), units rise, then consumers
/// are shed, class by class. Less injection: renewables curtail, batteries charge more,
/// units fall.
pub fn apply_in_merit_order(elements: &mut [Element], delta_kw: f64) -> f64 {
    let mut rest = delta_kw.abs();
    if !rest.is_finite() {
        return 0.0;
    }
    let more = delta_kw > 0.0;
    let mut take = |room: f64| {
        let t = room.max(0.0).min(rest);
        rest -= t;
        t
    };
    if more {
        for e in elements.iter_mut() {
            if let Element::Store {
                kw,
                max_discharge_kw,
                ..
            } = e
            {
                *kw += take(*max_discharge_kw - *kw);
            }
        }
        for e in elements.iter_mut() {
            if let Element::Unit { kw, max_kw, .. } = e {
                *kw += take(*max_kw - *kw);
            }
        }
        for class in 0..SHED_CLASSES {
            for e in elements.iter_mut() {
                if let Element::Consumer {
                    demand_kw,
                    served,
                    shed_class,
                } = e
                    && *shed_class == class
                    && *demand_kw > 0.0
                {
                    let cut = take(*demand_kw * *served);
                    *served -= cut / *demand_kw;
                    *served = served.clamp(0.0, 1.0);
                }
            }
        }
    } else {
        for e in elements.iter_mut() {
            if let Element::Renewable { kw } = e {
                *kw -= take(*kw);
            }
        }
        for e in elements.iter_mut() {
            if let Element::Store {
                kw, max_charge_kw, ..
            } = e
            {
                *kw -= take(*kw + *max_charge_kw);
            }
        }
        for e in elements.iter_mut() {
            if let Element::Unit { kw, min_kw, .. } = e {
                *kw -= take(*kw - *min_kw);
            }
        }
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use kos_grid::{Branch, Bus, BusKind, Generator, PowerFlow, PowerFlowOptions};

    /// A slack bus feeding a 0.4 kV radial feeder of `n` buses, 1 MVA base.
    fn feeder(n: usize, injection_mw: f64, rating_mva: f64) -> Network {
        let mut net = Network::new("feeder", 1.0);
        let mut slack = Bus::new("s", BusKind::Slack, 0.4);
        slack.vm_min_pu = 0.95;
        net.buses.push(slack);
        for i in 0..n {
            net.buses.push(Bus::new(format!("b{i}"), BusKind::Pq, 0.4));
            let mut br = Branch::line(i, i + 1, 0.05, 0.02, 0.0);
            br.rate_a_mva = rating_mva;
            net.branches.push(br);
        }
        net.generators.push(Generator::new(0, 0.0, 1.0));
        // Injection at the far end (negative: a load).
        net.buses[n].pd_mw = -injection_mw;
        net
    }

    fn solve(net: &Network) -> PowerFlowResult {
        PowerFlow::new()
            .solve(net, &PowerFlowOptions::default())
            .expect("solves")
    }

    #[test]
    fn overvoltage_from_far_end_export_is_curtailed_until_it_holds() {
        let mut net = feeder(3, 0.3, 10.0);
        for _round in 0..4 {
            let r = solve(&net);
            let inj: Vec<f64> = net.buses.iter().map(|b| -b.pd_mw * 1000.0).collect();
            let req = relieve(&net, &r, &inj, &Limits::default());
            if req.is_empty() {
                assert!(r.vm_pu.iter().all(|&v| v <= 1.05 + 1e-9));
                // It curtailed, but not to nothing.
                assert!(-net.buses[3].pd_mw > 0.05);
                return;
            }
            for c in req.changes {
                net.buses[c.bus].pd_mw -= c.delta_kw / 1000.0;
            }
        }
        panic!("voltage not relieved within four rounds");
    }

    #[test]
    fn undervoltage_from_far_end_load_sheds_until_it_holds() {
        let mut net = feeder(3, -0.5, 10.0);
        let r = solve(&net);
        assert!(r.vm_pu[3] < 0.95, "the case must start violated");
        for _round in 0..4 {
            let r = solve(&net);
            let inj: Vec<f64> = net.buses.iter().map(|b| -b.pd_mw * 1000.0).collect();
            let req = relieve(&net, &r, &inj, &Limits::default());
            if req.is_empty() {
                assert!(r.vm_pu.iter().all(|&v| v >= 0.95 - 1e-9));
                return;
            }
            for c in req.changes {
                net.buses[c.bus].pd_mw -= c.delta_kw / 1000.0;
            }
        }
        panic!("voltage not relieved within four rounds");
    }

    #[test]
    fn overload_of_a_bridge_is_relieved_on_its_far_side() {
        // 100 kW through branches rated 60 kVA: the far side must give up about 40 kW.
        let mut net = feeder(2, -0.1, 0.06);
        net.branches.iter_mut().for_each(|b| {
            b.r_pu = 0.001;
            b.x_pu = 0.001
        });
        let r = solve(&net);
        let inj: Vec<f64> = net.buses.iter().map(|b| -b.pd_mw * 1000.0).collect();
        let req = relieve(&net, &r, &inj, &Limits::default());
        // Both branches carry the load: one ask, for the outer far side {1, 2}.
        assert_eq!(req.groups.len(), 1, "{req:?}");
        assert_eq!(req.groups[0].buses, vec![1, 2]);
        let d = req.groups[0].delta_kw;
        assert!(d > 40.0 && d < 60.0, "{d}");
        net.buses[2].pd_mw -= d / 1000.0;
        let r = solve(&net);
        assert!(r.branch_loading_pct.iter().all(|&l| l <= 100.0));
    }

    #[test]
    fn overload_inside_a_mesh_is_reported_not_relieved() {
        let mut net = feeder(2, -0.1, 0.04);
        let mut tie = Branch::line(0, 2, 0.05, 0.02, 0.0);
        tie.rate_a_mva = 0.04;
        net.branches.push(tie);
        let r = solve(&net);
        let inj: Vec<f64> = net.buses.iter().map(|b| -b.pd_mw * 1000.0).collect();
        let req = relieve(&net, &r, &inj, &Limits::default());
        assert!(!req.meshed_overloads.is_empty());
    }

    #[test]
    fn merit_order_at_a_bus() {
        let mut e = [
            Element::Consumer {
                demand_kw: 10.0,
                served: 1.0,
                shed_class: 2,
            },
            Element::Consumer {
                demand_kw: 10.0,
                served: 1.0,
                shed_class: 0,
            },
            Element::Store {
                kw: 0.0,
                max_discharge_kw: 5.0,
                max_charge_kw: 5.0,
            },
        ];
        // 12 kW more: battery 5, then the deferrable consumer loses 7.
        assert_eq!(apply_in_merit_order(&mut e, 12.0), 0.0);
        assert_eq!(
            e[2],
            Element::Store {
                kw: 5.0,
                max_discharge_kw: 5.0,
                max_charge_kw: 5.0
            }
        );
        assert!(matches!(e[1], Element::Consumer { served, .. } if (served - 0.3).abs() < 1e-12));
        assert!(matches!(e[0], Element::Consumer { served, .. } if served == 1.0));
        let mut g = [Element::Renewable { kw: 4.0 }];
        assert_eq!(apply_in_merit_order(&mut g, -6.0), 2.0);
        assert_eq!(g[0], Element::Renewable { kw: 0.0 });
    }
}
