//! FLISR planning (fault location, isolation and service restoration) on the switching graph.
//!
//! After a device has locked out on a permanent fault:
//! 1. **Location**: the faulted section is what the faulted branch reaches without crossing
//!    a switchable branch (a switch, a breaker, the panel of a ring main unit): the smallest
//!    part that switching can cut out. The twin finds the faulted branch from the fault
//!    indicators that saw fault current and the device that tripped.
//! 2. **Isolation**: every closed switchable branch on the section's boundary opens.
//! 3. **Restoration**: dead parts outside the section are picked up one switching at a time,
//!    the part holding the most critical load first: the tripped breaker recloses onto the
//!    healthy part upstream, normally-open ties close onto the parts downstream. Each closing
//!    joins a dead part to a live one, so the network stays radial, and is kept only if
//!    `acceptable` (a power flow: no branch above its rating, voltages in band) says so. A tie
//!    that cannot carry a whole dead part carries what it can: switchable branches inside the
//!    part open, the farthest from the tie first, until the rest fits.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use kos_grid::{Network, PowerFlow, PowerFlowOptions};
use kos_scene::{DeviceSpec, GeneratorKind, Scene};

use crate::scene::customer_groups;

use serde::{Deserialize, Serialize};

/// A branch of the switching graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// One end's bus.
    pub from: usize,
    /// The other end's bus.
    pub to: usize,
    /// Conducting now.
    pub closed: bool,
    /// Can be opened and closed by the plan.
    pub switchable: bool,
}

/// Where the fault is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultAt {
    /// On a branch (a cable or line section).
    Branch(usize),
    /// On a bus (a busbar, a ring main unit).
    Bus(usize),
}

/// The plan.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    /// Buses of the faulted section (they stay dead until repair).
    pub faulted: Vec<usize>,
    /// Branches to open, in order: the section's boundary, then any opened to restore part
    /// of a dead part.
    pub open: Vec<usize>,
    /// Branches to close, in order.
    pub close: Vec<usize>,
    /// Buses brought back.
    pub restored: Vec<usize>,
    /// Buses outside the faulted section still without supply.
    pub unserved: Vec<usize>,
}

/// Buses reached from `starts` over closed edges (`state`) for which `through` holds.
fn reach(
    buses: usize,
    edges: &[Edge],
    state: &[bool],
    starts: &[usize],
    through: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let mut adj = vec![Vec::new(); buses];
    for (k, e) in edges.iter().enumerate() {
        if state[k] && through(k) {
            adj[e.from].push(e.to);
            adj[e.to].push(e.from);
        }
    }
    let mut seen = vec![false; buses];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for &s in starts {
        if s < buses && !seen[s] {
            seen[s] = true;
            queue.push_back(s);
        }
    }
    while let Some(a) = queue.pop_front() {
        for &b in &adj[a] {
            if !seen[b] {
                seen[b] = true;
                queue.push_back(b);
            }
        }
    }
    seen
}

/// Plans the isolation of the fault and the restoration of the rest, from the state
/// after the protection operated (the tripped device's branch open). `priority[b]` is the
/// most critical load's priority at bus `b` (0 the most critical; `u8::MAX` for none).
/// `acceptable(closed)` judges a switching state (true: it may be used).
pub fn plan(
    buses: usize,
    edges: &[Edge],
    sources: &[usize],
    fault: FaultAt,
    priority: &[u8],
    mut acceptable: impl FnMut(&[bool]) -> bool,
) -> Plan {
    let mut state: Vec<bool> = edges.iter().map(|e| e.closed).collect();
    let mut out = Plan::default();
    // A bus fault: the section around the bus; a branch fault: the branch's.
    let (faulted_edge, fe) = match fault {
        FaultAt::Branch(k) => match edges.get(k) {
            Some(e) => (k, *e),
            None => return out,
        },
        FaultAt::Bus(b) if b < buses => (
            usize::MAX,
            Edge {
                from: b,
                to: b,
                closed: true,
                switchable: false,
            },
        ),
        FaultAt::Bus(_) => return out,
    };
    // 1. The faulted section: across closed, non-switchable branches from the faulted one;
    // a switchable faulted branch is a section by itself (opening it isolates the fault).
    let section = if fe.switchable {
        if state[faulted_edge] {
            state[faulted_edge] = false;
            out.open.push(faulted_edge);
        }
        vec![false; buses]
    } else {
        let all_closed: Vec<bool> = vec![true; edges.len()];
        reach(buses, edges, &all_closed, &[fe.from, fe.to], |k| {
            !edges[k].switchable && (state[k] || k == faulted_edge)
        })
    };
    out.faulted = (0..buses).filter(|&b| section[b]).collect();
    // 2. Isolation: closed switchable branches touching the section.
    for (k, e) in edges.iter().enumerate() {
        if e.switchable && state[k] && (section[e.from] || section[e.to]) {
            state[k] = false;
            out.open.push(k);
        }
    }
    let live = |state: &[bool]| reach(buses, edges, state, sources, |_| true);
    let before = live(&state);
    // 3. Restoration, one closing at a time.
    let mut tried = vec![false; edges.len()];
    if let Some(t) = tried.get_mut(faulted_edge) {
        *t = true;
    }
    loop {
        let energised = live(&state);
        // Candidates: open switchable branches joining a live bus to a dead one outside the
        // section; ranked by the most critical load in the dead part they would restore.
        let mut best: Option<(u8, usize, Vec<bool>)> = None;
        for (k, e) in edges.iter().enumerate() {
            if tried[k] || !e.switchable || state[k] || section[e.from] || section[e.to] {
                continue;
            }
            let dead_end = match (energised[e.from], energised[e.to]) {
                (true, false) => e.to,
                (false, true) => e.from,
                _ => continue,
            };
            let part = reach(buses, edges, &state, &[dead_end], |j| {
                !section[edges[j].from] && !section[edges[j].to]
            });
            let top = (0..buses)
                .filter(|&b| part[b])
                .map(|b| priority.get(b).copied().unwrap_or(u8::MAX))
                .min()
                .unwrap_or(u8::MAX);
            if best.as_ref().is_none_or(|(p, _, _)| top < *p) {
                best = Some((top, k, part));
            }
        }
        let Some((_, k, part)) = best else { break };
        tried[k] = true;
        let e = edges[k];
        let dead_end = if energised[e.from] { e.to } else { e.from };
        let mut trial = state.clone();
        trial[k] = true;
        if acceptable(&trial) {
            state = trial;
            out.close.push(k);
            continue;
        }
        // Partial: open switchable branches inside the part, farthest from the tie first.
        let mut inside: Vec<(usize, usize)> = Vec::new();
        let dist = distances(buses, edges, &state, dead_end, &part);
        for (j, ej) in edges.iter().enumerate() {
            if ej.switchable && state[j] && part[ej.from] && part[ej.to] {
                inside.push((dist[ej.from].min(dist[ej.to]), j));
            }
        }
        inside.sort_by(|a, b| b.cmp(a));
        let mut opened = Vec::new();
        for (_, j) in inside {
            trial[j] = false;
            opened.push(j);
            if acceptable(&trial) {
                state = trial.clone();
                out.open.extend(opened.iter().copied());
                out.close.push(k);
                break;
            }
        }
    }
    let after = live(&state);
    out.restored = (0..buses).filter(|&b| after[b] && !before[b]).collect();
    out.unserved = (0..buses).filter(|&b| !after[b] && !section[b]).collect();
    out
}

/// Hops from `start` over closed branches within `part` (`usize::MAX` where not reached).
fn distances(
    buses: usize,
    edges: &[Edge],
    state: &[bool],
    start: usize,
    part: &[bool],
) -> Vec<usize> {
    let mut adj = vec![Vec::new(); buses];
    for (k, e) in edges.iter().enumerate() {
        if state[k] && part[e.from] && part[e.to] {
            adj[e.from].push(e.to);
            adj[e.to].push(e.from);
        }
    }
    let mut d = vec![usize::MAX; buses];
    d[start] = 0;
    let mut queue = VecDeque::from([start]);
    while let Some(a) = queue.pop_front() {
        for &b in &adj[a] {
            if d[b] == usize::MAX {
                d[b] = d[a] + 1;
                queue.push_back(b);
            }
        }
    }
    d
}

/// Whether a switching state may be used: the AC power flow of `net` with the branches
/// `closed` converges, no branch is above its rating and every energised bus lies within
/// 0.9-1.1 pu (EN 50160's band for supply voltage).
pub fn restoration_ok(net: &Network, closed: &[bool]) -> bool {
    let mut trial = net.clone();
    for (br, &c) in trial.branches.iter_mut().zip(closed) {
        br.in_service = c;
    }
    let Ok(r) = PowerFlow::new().solve(&trial, &PowerFlowOptions::default()) else {
        return false;
    };
    r.converged
        && trial
            .branches
            .iter()
            .zip(&r.branch_loading_pct)
            .all(|(b, &l)| !b.in_service || b.rate_a_mva <= 0.0 || l <= 100.0)
        && r.vm_pu
            .iter()
            .zip(&r.bus_island)
            .all(|(&v, i)| i.is_none() || v == 0.0 || (0.9..=1.1).contains(&v))
}

/// FLISR for a scene: `net` is its network as switched now (with the demands of the moment;
/// branch `k` is the asset `branch_ids[k]`, bus `b` is `bus_index`'s), `location` the
/// faulted bus or branch. Switchable: switches and branches carrying a relay, recloser,
/// sectionaliser or fault indicator (a fuse is not operable). Sources: the grid ties in
/// service, else every grid-forming unit (an island a battery holds meanwhile is joined
/// back: the battery resynchronises). Each closing is checked by [`restoration_ok`].
/// `None` when `location` names nothing in the network.
pub fn plan_scene(
    scene: &Scene,
    net: &Network,
    branch_ids: &[String],
    bus_index: &BTreeMap<String, usize>,
    location: &str,
) -> Option<Plan> {
    let operable: BTreeSet<&str> = scene
        .protection
        .iter()
        .filter(|p| !matches!(p.device, DeviceSpec::Fuse { .. }))
        .map(|p| p.branch.as_str())
        .chain(scene.switches.iter().map(|s| s.id.as_str()))
        .collect();
    let edges: Vec<Edge> = net
        .branches
        .iter()
        .zip(branch_ids)
        .map(|(br, id)| Edge {
            from: br.from,
            to: br.to,
            closed: br.in_service,
            switchable: operable.contains(id.as_str()),
        })
        .collect();
    let ties: Vec<usize> = scene
        .generators
        .iter()
        .filter(|g| g.in_service && matches!(g.kind, GeneratorKind::GridTie { .. }))
        .filter_map(|g| bus_index.get(&g.bus).copied())
        .collect();
    let sources: Vec<usize> = if ties.is_empty() {
        net.generators
            .iter()
            .filter(|g| g.in_service && g.grid_forming)
            .map(|g| g.bus)
            .collect()
    } else {
        ties
    };
    let mut priority = vec![u8::MAX; net.buses.len()];
    for g in customer_groups(scene) {
        if let Some(&b) = bus_index.get(&g.bus) {
            priority[b] = priority[b].min(g.customers.priority);
        }
    }
    let fault = if let Some(&b) = bus_index.get(location) {
        FaultAt::Bus(b)
    } else {
        FaultAt::Branch(branch_ids.iter().position(|id| id == location)?)
    };
    Some(plan(
        net.buses.len(),
        &edges,
        &sources,
        fault,
        &priority,
        |s| restoration_ok(net, s),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring fed from bus 0 by two feeders: 0-1-2-3-4 and 0-8-7-6-5, a normally-open tie
    /// between 4 and 5. Feeder breakers (0-1, 0-8) and ring main unit panels at 1-2, 3-4,
    /// 8-7, 6-5 are switchable; 2-3 and 7-6 are plain cable sections.
    fn ring() -> Vec<Edge> {
        let e = |from, to, closed, switchable| Edge {
            from,
            to,
            closed,
            switchable,
        };
        vec![
            e(0, 1, true, true),  // 0: west breaker
            e(1, 2, true, true),  // 1
            e(2, 3, true, false), // 2: cable section
            e(3, 4, true, true),  // 3
            e(0, 8, true, true),  // 4: east breaker
            e(8, 7, true, true),  // 5
            e(7, 6, true, false), // 6
            e(6, 5, true, true),  // 7
            e(4, 5, false, true), // 8: normally-open tie
        ]
    }

    /// Load at each bus, kW: the tie may carry 150 kW of extra load.
    fn load() -> [f64; 9] {
        [0.0, 50.0, 40.0, 30.0, 60.0, 20.0, 20.0, 20.0, 20.0]
    }

    /// What the east feeder (through the tie) carries, kW: the load of every live bus
    /// reached from the east breaker.
    fn tie_ok(edges: &[Edge], state: &[bool], limit_kw: f64) -> bool {
        let east = reach(9, edges, state, &[8], |k| k != 4 && k != 0);
        let kw: f64 = (0..9).filter(|&b| east[b]).map(|b| load()[b]).sum();
        kw <= limit_kw
    }

    /// A fault on the cable section 2-3: the west breaker tripped. The section {2, 3} is cut
    /// out by opening 1-2 and 3-4; the breaker recloses onto bus 1; the tie picks up bus 4.
    #[test]
    fn a_ring_fault_is_isolated_and_both_sides_restored() {
        let mut edges = ring();
        edges[0].closed = false; // the west breaker locked out
        let priority = [u8::MAX; 9];
        let p = plan(9, &edges, &[0], FaultAt::Branch(2), &priority, |s| {
            tie_ok(&ring(), s, 1000.0)
        });
        assert_eq!(p.faulted, vec![2, 3]);
        assert_eq!(p.open, vec![1, 3]);
        let mut close = p.close.clone();
        close.sort();
        assert_eq!(close, vec![0, 8]);
        assert_eq!(p.restored, vec![1, 4]);
        assert!(p.unserved.is_empty());
    }

    /// The critical part first: with bus 4 critical, the tie closes before the breaker.
    #[test]
    fn critical_load_is_restored_first() {
        let mut edges = ring();
        edges[0].closed = false;
        let mut priority = [u8::MAX; 9];
        priority[4] = 0;
        let p = plan(9, &edges, &[0], FaultAt::Branch(2), &priority, |_| true);
        assert_eq!(p.close, vec![8, 0]);
    }

    /// A tie that cannot carry the whole dead part carries the part nearest to it. A fault on
    /// the west breaker's own branch (0-1, switchable, already open): buses 1..4 are dead
    /// (180 kW); the tie may add 130 kW to the east feeder's 80: the panel farthest from the
    /// tie opens (1-2, leaving bus 1 out) and 2, 3, 4 come back (130 kW).
    #[test]
    fn a_weak_tie_restores_what_it_can() {
        let mut edges = ring();
        edges[0].closed = false;
        let p = plan(9, &edges, &[0], FaultAt::Branch(0), &[u8::MAX; 9], |s| {
            tie_ok(&ring(), s, 80.0 + 130.0)
        });
        assert!(p.faulted.is_empty());
        assert_eq!(p.open, vec![1]);
        assert_eq!(p.close, vec![8]);
        assert_eq!(p.restored, vec![2, 3, 4]);
        assert_eq!(p.unserved, vec![1]);
    }

    /// Nothing restores a part whose only tie fails the check, and the plan says so.
    #[test]
    fn an_unusable_tie_leaves_the_part_unserved() {
        let mut edges = ring();
        edges[0].closed = false;
        let p = plan(9, &edges, &[0], FaultAt::Branch(2), &[u8::MAX; 9], |s| {
            !s[8]
        });
        assert_eq!(p.close, vec![0]);
        assert_eq!(p.unserved, vec![4]);
    }

    /// A busbar fault at bus 3: its section is the bus and the cable 2-3 it reaches without a
    /// panel; the panels 1-2 and 3-4 open, and the rest comes back.
    #[test]
    fn a_busbar_fault_takes_out_its_section() {
        let mut edges = ring();
        edges[0].closed = false;
        let p = plan(9, &edges, &[0], FaultAt::Bus(3), &[u8::MAX; 9], |_| true);
        assert_eq!(p.faulted, vec![2, 3]);
        assert_eq!(p.open, vec![1, 3]);
        assert_eq!(p.restored, vec![1, 4]);
        assert!(
            plan(9, &edges, &[0], FaultAt::Bus(99), &[u8::MAX; 9], |_| true)
                .faulted
                .is_empty()
        );
    }
}
