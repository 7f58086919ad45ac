//! Peer-to-peer accounting by proportional-sharing flow tracing (J. Bialek, "Tracing the flow
//! of electricity", IEE Proc. GTD 143(4), 1996; D. Kirschen et al., IEEE Trans. PWRS 12(1),
//! 1997): for every bus with load, which generators supplied it and how much.
//!
//! # Method
//!
//! The upstream-looking algorithm of Bialek, applied to the actual (lossy) AC flows of a solved
//! power flow rather than to a lossless "gross" or "net" network:
//!
//! * Each branch carries power from its sending end (the end with the larger active power
//!   entering it) to its receiving end. It delivers the power leaving it at the receiving end,
//!   MW. The difference, the branch loss, is charged to the generators that feed the sending
//!   bus in their proportions there, so losses are paid by the generators and no load is
//!   charged for them.
//! * Proportional sharing: the power through a bus is a mix of everything flowing in (its own
//!   generators with positive output, and the power delivered by each incoming branch, which
//!   has the mix of the bus it comes from), and every consumer at the bus (its load, each
//!   outgoing branch, its shunt) takes the same mix.
//! * Buses are processed in topological order of the directed flow graph, each propagating a
//!   sparse vector of generator fractions, so the work is proportional to the number of
//!   branches times the length of those vectors, never n by n.
//!
//! The load of a bus is its constant-power demand (when positive) plus the absorption of its
//! units with negative output (a battery charging, a grid tie exporting). Its shares sum to
//! that load, less what is unattributed (below).
//!
//! # What is not attributed to a generator
//!
//! The fractions at a bus sum to at most 1; the rest of the bus's power, reported as
//! `unattributed_mw` at a load bus, comes from:
//!
//! * pruning: a generator whose fraction at a bus is below [`TraceOptions::prune`] is dropped
//!   there (and so downstream). This bounds each vector to `1 / prune` entries;
//! * injections that are not a generator: a negative constant-power load, a shunt that
//!   produces active power;
//! * the flow of a branch ignored to break a directed cycle (below);
//! * what a branch delivers beyond what it was sent (negative resistance, as in some network
//!   equivalents): only the power sent carries the sending bus's mix.
//!
//! Pruning only ever removes power from a generator's account, so no generator is credited
//! with more than it produced less its losses.
//!
//! # Loop flows
//!
//! Without phase shifters the angle falls along every flow, so the flow graph has no directed
//! cycle; with phase shifters, negative reactances or numerical noise it can. When the
//! topological order stalls, the cycle found by walking back from the lowest-numbered
//! unordered bus (taking each bus's first live incoming branch in branch order) is broken by
//! ignoring its smallest delivered flow (lowest branch index on a tie). The power an ignored
//! branch delivers still counts in its receiving bus's throughflow, but unattributed (its mix
//! would depend on that bus's own), so no generator is ever credited twice for circulating
//! power. Ignored branches are listed in [`Tracing::ignored_branches`].
//!
//! # Islands
//!
//! Every branch joins two buses of one island, so islands never exchange anything. Only the
//! buses of solved islands are traced: a de-energised island, or one whose solve did not
//! converge (its flows do not balance), gives no load and no shares.

use std::collections::VecDeque;

use crate::network::Network;
use crate::result::{IslandStatus, PowerFlowResult};

/// Options of a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceOptions {
    /// Relative pruning threshold, a fraction of the power through a bus (dimensionless,
    /// 0..1): a generator whose part of a bus's power is below it is dropped at that bus and
    /// downstream, and its power counted as unattributed. 0 keeps everything.
    pub prune: f64,
    /// Branch flows and unit outputs at or below this are treated as zero, MW.
    pub min_flow_mw: f64,
}

impl Default for TraceOptions {
    /// `prune` 1e-4 (an error of at most 0.01 % per bus passed), `min_flow_mw` 1e-9 MW.
    fn default() -> Self {
        Self {
            prune: 1e-4,
            min_flow_mw: 1e-9,
        }
    }
}

/// What supplied the load of one bus.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BusTrace {
    /// Load served at the bus: positive constant-power demand plus the absorption of units
    /// with negative output, MW (0 outside solved islands).
    pub load_mw: f64,
    /// Power delivered to that load by each generator, as (generator index, MW), ascending by
    /// generator index, no entry zero.
    pub shares: Vec<(usize, f64)>,
    /// Part of the load not attributed to any generator (pruning, non-generator injections),
    /// MW; `load_mw` is the sum of the shares and this.
    pub unattributed_mw: f64,
}

/// Result of a trace: per bus, the mix of its power and who supplied its load.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tracing {
    /// Per bus, in the network's bus order.
    pub buses: Vec<BusTrace>,
    /// Branches ignored to break directed cycles of the flow graph, ascending.
    pub ignored_branches: Vec<usize>,
    /// Per bus, fraction of its power from each generator, ascending by generator index.
    composition: Vec<Vec<(usize, f64)>>,
    /// Number of generators of the traced network.
    n_generators: usize,
}

impl Tracing {
    /// Fraction of the power through `bus` that comes from each generator, as (generator
    /// index, fraction 0..1), ascending by generator index; sums to at most 1. Empty for a bus
    /// outside a solved island or out of range.
    pub fn composition(&self, bus: usize) -> &[(usize, f64)] {
        self.composition.get(bus).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Fraction (0..1) of the power through `bus` that comes from `generator`.
    pub fn fraction(&self, bus: usize, generator: usize) -> f64 {
        let c = self.composition(bus);
        c.binary_search_by_key(&generator, |&(g, _)| g)
            .map(|k| c[k].1)
            .unwrap_or(0.0)
    }

    /// Power each generator delivers to loads over the whole network, MW, by generator index.
    pub fn generator_totals(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.n_generators];
        for b in &self.buses {
            for &(g, mw) in &b.shares {
                if let Some(x) = out.get_mut(g) {
                    *x += mw;
                }
            }
        }
        out
    }
}

/// A directed flow: `sent` MW entering `branch` at bus `from`, `mw` delivered to bus `to`.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: usize,
    to: usize,
    branch: usize,
    mw: f64,
    sent: f64,
}

/// Compressed adjacency: the edges of each bus, in edge order.
fn adjacency(n: usize, edges: &[Edge], key: impl Fn(&Edge) -> usize) -> (Vec<usize>, Vec<usize>) {
    let mut start = vec![0usize; n + 1];
    for e in edges {
        start[key(e) + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut list = vec![0usize; edges.len()];
    for (k, e) in edges.iter().enumerate() {
        list[fill[key(e)]] = k;
        fill[key(e)] += 1;
    }
    (start, list)
}

/// Traces the generators that supply every load of a solved network. `result` must come from
/// a solve of `network`; if its arrays do not match the network, nothing is traced. Never
/// panics.
pub fn trace(network: &Network, result: &PowerFlowResult, options: &TraceOptions) -> Tracing {
    let n = network.buses.len();
    let ng = network.generators.len();
    let nb = network.branches.len();
    let mut out = Tracing {
        buses: vec![BusTrace::default(); n],
        ignored_branches: Vec::new(),
        composition: vec![Vec::new(); n],
        n_generators: ng,
    };
    let shapes_match = result.bus_island.len() == n
        && result.vm_pu.len() == n
        && result.gen_pg_mw.len() == ng
        && result.branch_pf_mw.len() == nb
        && result.branch_pt_mw.len() == nb;
    if !shapes_match {
        return out;
    }
    let prune = if options.prune.is_finite() {
        options.prune.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let eps = if options.min_flow_mw.is_finite() {
        options.min_flow_mw.max(0.0)
    } else {
        0.0
    };
    let traced: Vec<bool> = result
        .bus_island
        .iter()
        .map(|id| {
            id.and_then(|id| result.islands.get(id))
                .is_some_and(|isl| isl.status == IslandStatus::Solved)
        })
        .collect();

    // Units: positive output is a source of its bus, negative output part of its load.
    let mut sources: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for (g, unit) in network.generators.iter().enumerate() {
        let p = result.gen_pg_mw[g];
        if !unit.in_service || unit.bus >= n || !traced[unit.bus] || !p.is_finite() {
            continue;
        }
        if p > eps {
            sources[unit.bus].push((g, p));
        } else if p < -eps {
            out.buses[unit.bus].load_mw += -p;
        }
    }

    // Directed flows, from the end where more power enters the branch.
    let mut edges = Vec::new();
    for (k, br) in network.branches.iter().enumerate() {
        let (f, t) = (br.from, br.to);
        if !br.in_service || f >= n || t >= n || f == t || !traced[f] || !traced[t] {
            continue;
        }
        let (pf, pt) = (result.branch_pf_mw[k], result.branch_pt_mw[k]);
        if !(pf.is_finite() && pt.is_finite()) {
            continue;
        }
        // Both ends injecting (a lightly loaded lossy branch) delivers nothing anywhere.
        let (from, to, mw, sent) = if pf >= pt {
            (f, t, -pt, pf)
        } else {
            (t, f, -pf, pt)
        };
        if mw > eps {
            edges.push(Edge {
                from,
                to,
                branch: k,
                mw,
                sent,
            });
        }
    }
    let (in_start, in_list) = adjacency(n, &edges, |e| e.to);
    let (out_start, out_list) = adjacency(n, &edges, |e| e.from);

    let (order, ignored) = order_and_break_cycles(
        n,
        &traced,
        &edges,
        (&in_start, &in_list),
        (&out_start, &out_list),
    );
    out.ignored_branches = ignored
        .iter()
        .enumerate()
        .filter(|&(_, &x)| x)
        .map(|(k, _)| edges[k].branch)
        .collect();
    out.ignored_branches.sort_unstable();

    // Propagate the mixes in topological order, with a dense scratch row and a touched list.
    let mut acc = vec![0.0f64; ng];
    let mut touched_flag = vec![false; ng];
    let mut touched: Vec<usize> = Vec::new();
    for &v in &order {
        let bus = &network.buses[v];
        let mut total = 0.0;
        let mut add = |g: usize, mw: f64, touched: &mut Vec<usize>| {
            if !touched_flag[g] {
                touched_flag[g] = true;
                touched.push(g);
            }
            acc[g] += mw;
        };
        for &(g, p) in &sources[v] {
            add(g, p, &mut touched);
            total += p;
        }
        // Injections from no generator dilute the mix without a name.
        let vm = result.vm_pu[v];
        let shunt_mw = bus.gs_mw * vm * vm;
        for x in [-bus.pd_mw, -shunt_mw] {
            if x.is_finite() && x > eps {
                total += x;
            }
        }
        for &e in &in_list[in_start[v]..in_start[v + 1]] {
            let edge = edges[e];
            total += edge.mw;
            if ignored[e] {
                // Its mix would need this bus's own: it dilutes without a name.
                continue;
            }
            // A branch with negative resistance (network equivalents) delivers more than it
            // is sent: only what was sent carries names.
            let named = edge.mw.min(edge.sent);
            for &(g, f) in &out.composition[edge.from] {
                add(g, named * f, &mut touched);
            }
        }
        touched.sort_unstable();
        let mut mix = Vec::with_capacity(touched.len());
        for &g in &touched {
            let f = if total > 0.0 { acc[g] / total } else { 0.0 };
            if f > 0.0 && f >= prune {
                mix.push((g, f.min(1.0)));
            }
            acc[g] = 0.0;
            touched_flag[g] = false;
        }
        touched.clear();
        out.composition[v] = mix;
    }

    // Loads take the mix of their bus.
    for (v, bt) in out.buses.iter_mut().enumerate() {
        if !traced[v] {
            continue;
        }
        let pd = network.buses[v].pd_mw;
        if pd.is_finite() && pd > 0.0 {
            bt.load_mw += pd;
        }
        if bt.load_mw <= 0.0 {
            continue;
        }
        let load = bt.load_mw;
        bt.shares = out.composition[v]
            .iter()
            .map(|&(g, f)| (g, f * load))
            .filter(|&(_, mw)| mw > 0.0)
            .collect();
        let attributed: f64 = bt.shares.iter().map(|s| s.1).sum();
        bt.unattributed_mw = (load - attributed).max(0.0);
    }
    out
}

/// Kahn's topological order of the traced buses over the flow edges, breaking each directed
/// cycle met by ignoring its smallest flow. Returns the order and the ignored flag per edge.
fn order_and_break_cycles(
    n: usize,
    traced: &[bool],
    edges: &[Edge],
    (in_start, in_list): (&[usize], &[usize]),
    (out_start, out_list): (&[usize], &[usize]),
) -> (Vec<usize>, Vec<bool>) {
    let mut indeg = vec![0usize; n];
    for e in edges {
        indeg[e.to] += 1;
    }
    let mut ignored = vec![false; edges.len()];
    let mut done = vec![false; n];
    let total = traced.iter().filter(|&&t| t).count();
    let mut order = Vec::with_capacity(total);
    let mut queue: VecDeque<usize> = (0..n).filter(|&v| traced[v] && indeg[v] == 0).collect();
    let mut path_pos = vec![usize::MAX; n];
    let mut scan = 0usize;
    loop {
        while let Some(v) = queue.pop_front() {
            done[v] = true;
            order.push(v);
            for &e in &out_list[out_start[v]..out_start[v + 1]] {
                if ignored[e] {
                    continue;
                }
                let t = edges[e].to;
                indeg[t] -= 1;
                if indeg[t] == 0 {
                    queue.push_back(t);
                }
            }
        }
        if order.len() >= total {
            break;
        }
        // Stalled: every bus left has a live inflow from another bus left, so walking back
        // from any of them must come round to a bus already on the path.
        while scan < n && (!traced[scan] || done[scan]) {
            scan += 1;
        }
        if scan >= n {
            break;
        }
        let mut path: Vec<(usize, usize)> = Vec::new(); // (bus, the edge into it walked back)
        let mut v = scan;
        let cycle_start = loop {
            let live = in_list[in_start[v]..in_start[v + 1]]
                .iter()
                .copied()
                .find(|&e| !ignored[e] && !done[edges[e].from]);
            let Some(e) = live else {
                // Cannot happen while the in-degrees are consistent; stop rather than loop.
                break None;
            };
            path_pos[v] = path.len();
            path.push((v, e));
            let u = edges[e].from;
            if path_pos[u] != usize::MAX {
                break Some(path_pos[u]);
            }
            v = u;
        };
        for &(b, _) in &path {
            path_pos[b] = usize::MAX;
        }
        let Some(first) = cycle_start else { break };
        let weakest = path[first..].iter().map(|&(_, e)| e).min_by(|&a, &b| {
            edges[a]
                .mw
                .total_cmp(&edges[b].mw)
                .then(edges[a].branch.cmp(&edges[b].branch))
        });
        let Some(e) = weakest else { break };
        ignored[e] = true;
        let t = edges[e].to;
        indeg[t] -= 1;
        if indeg[t] == 0 {
            queue.push_back(t);
        }
    }
    (order, ignored)
}

#[cfg(test)]
#[path = "tracing_tests.rs"]
mod tests;
