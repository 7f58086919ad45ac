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
mod tests {
    use super::*;
    use crate::network::{Branch, Bus, BusKind, Generator};
    use crate::result::IslandResult;
    use crate::{PowerFlow, PowerFlowOptions, Start, parse_matpower};

    /// A network of `n` buses with the given loads (MW), units (bus, MW) and branches
    /// (from, to); the first bus is the slack.
    fn net(loads: &[f64], units: &[(usize, f64)], branches: &[(usize, usize)]) -> Network {
        let mut net = Network::new("hand", 100.0);
        for (i, &pd) in loads.iter().enumerate() {
            let kind = if i == 0 { BusKind::Slack } else { BusKind::Pq };
            let mut b = Bus::new(format!("{}", i + 1), kind, 11.0);
            b.pd_mw = pd;
            net.buses.push(b);
        }
        for &(b, p) in units {
            net.generators.push(Generator::new(b, p, 1.0));
        }
        for &(f, t) in branches {
            net.branches.push(Branch::line(f, t, 0.01, 0.05, 0.0));
        }
        net
    }

    /// A solved result written by hand: unit outputs and the power entering each branch at its
    /// from and to ends, MW. One island, solved.
    fn hand(net: &Network, gen_mw: &[f64], ends: &[(f64, f64)]) -> PowerFlowResult {
        let n = net.buses.len();
        let nb = net.branches.len();
        let island = IslandResult {
            id: 0,
            n_buses: n,
            reference: Some(0),
            status: IslandStatus::Solved,
            iterations: 1,
            fast_decoupled_iterations: 0,
            max_mismatch_pu: 0.0,
            max_mismatch_bus: None,
            slack_p_mw: 0.0,
            slack_q_mvar: 0.0,
            losses_mw: ends.iter().map(|e| e.0 + e.1).sum(),
        };
        PowerFlowResult {
            converged: true,
            iterations: 1,
            max_mismatch_pu: 0.0,
            max_mismatch_bus: None,
            vm_pu: vec![1.0; n],
            va_deg: vec![0.0; n],
            bus_island: vec![Some(0); n],
            bus_pg_mw: vec![0.0; n],
            bus_qg_mvar: vec![0.0; n],
            gen_pg_mw: gen_mw.to_vec(),
            gen_qg_mvar: vec![0.0; gen_mw.len()],
            branch_pf_mw: ends.iter().map(|e| e.0).collect(),
            branch_qf_mvar: vec![0.0; nb],
            branch_pt_mw: ends.iter().map(|e| e.1).collect(),
            branch_qt_mvar: vec![0.0; nb],
            branch_loading_pct: vec![0.0; nb],
            total_losses_mw: island.losses_mw,
            islands: vec![island],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    fn assert_shares(t: &Tracing, bus: usize, want: &[(usize, f64)]) {
        let got = &t.buses[bus].shares;
        assert_eq!(got.len(), want.len(), "bus {bus}: {got:?} vs {want:?}");
        for (g, w) in got.iter().zip(want) {
            assert!(
                g.0 == w.0 && close(g.1, w.1),
                "bus {bus}: {got:?} vs {want:?}"
            );
        }
    }

    #[test]
    fn radial_three_buses_by_hand() {
        // Gen A (unit 0) at bus 1 makes 100 MW; line 1-2 delivers 98 (2 MW lost) to bus 2,
        // whose 60 MW load takes A only. Bus 2 sends the other 38 MW on to bus 3 and 37
        // arrive; gen B (unit 1) at bus 3 adds 33 MW for bus 3's 70 MW load. Bus 3's mix is
        // A 37/70 and B 33/70, so its load gets A 37 and B 33. The 3 MW lost on the way are
        // A's: A delivers 97 MW of its 100, B all its 33. Line 2-3 is entered from its to
        // end (branch written 3 -> 2) to exercise the direction rule.
        let net = net(
            &[0.0, 60.0, 70.0],
            &[(0, 100.0), (2, 33.0)],
            &[(0, 1), (2, 1)],
        );
        let r = hand(&net, &[100.0, 33.0], &[(100.0, -98.0), (-37.0, 38.0)]);
        let t = trace(&net, &r, &TraceOptions::default());
        assert!(t.buses[0].shares.is_empty());
        assert_shares(&t, 1, &[(0, 60.0)]);
        assert_shares(&t, 2, &[(0, 37.0), (1, 33.0)]);
        assert!(close(t.fraction(2, 1), 33.0 / 70.0));
        let totals = t.generator_totals();
        assert!(close(totals[0], 97.0) && close(totals[1], 33.0));
        assert!(t.ignored_branches.is_empty());
    }

    #[test]
    fn proportional_sharing_at_a_node() {
        // The principle of Bialek (1996): 40 MW (G1) and 60 MW (G2) flow into a node and 70
        // and 30 MW flow out, so each outflow is 40 % G1, 60 % G2: 28 + 42 and 12 + 18.
        let net = net(
            &[0.0, 0.0, 0.0, 70.0, 30.0],
            &[(0, 40.0), (1, 60.0)],
            &[(0, 2), (1, 2), (2, 3), (2, 4)],
        );
        let ends = [(40.0, -40.0), (60.0, -60.0), (70.0, -70.0), (30.0, -30.0)];
        let t = trace(
            &net,
            &hand(&net, &[40.0, 60.0], &ends),
            &TraceOptions::default(),
        );
        assert_shares(&t, 3, &[(0, 28.0), (1, 42.0)]);
        assert_shares(&t, 4, &[(0, 12.0), (1, 18.0)]);
        assert_eq!(t.buses[2].load_mw, 0.0);
        assert!(close(t.fraction(2, 0), 0.4));
    }

    #[test]
    fn a_charging_battery_is_load_and_pruning_is_reported() {
        // Bus 2 has no demand but a battery (unit 1) charging at 20 MW: it is a 20 MW load,
        // all from A. Gen C (unit 2) at bus 2 makes 1e-3 MW of the 20 arriving plus its own:
        // its fraction 1e-3/20.001 is below a prune of 1e-3, so it goes unattributed.
        let net = net(&[0.0, 0.0], &[(0, 20.0), (1, -20.0), (1, 0.001)], &[(0, 1)]);
        let r = hand(&net, &[20.0, -20.0, 0.001], &[(20.0, -20.0)]);
        let t = trace(
            &net,
            &r,
            &TraceOptions {
                prune: 1e-3,
                ..Default::default()
            },
        );
        assert!(close(t.buses[1].load_mw, 20.0));
        assert_shares(&t, 1, &[(0, 20.0 * 20.0 / 20.001)]);
        assert!(close(t.buses[1].unattributed_mw, 20.0 * 0.001 / 20.001));
    }

    #[test]
    fn a_directed_cycle_is_broken_at_its_smallest_flow() {
        // A (unit 0, 50 MW) at bus 1, B (unit 1, 20 MW) at bus 2, lossless flows 1->2 30 MW,
        // 2->3 45 MW, 3->1 5 MW: a loop. Loads 25, 5 and 40 MW balance each bus. The 5 MW
        // flow is ignored: bus 1 has 55 MW through it, 50 of them A's, 5 unnamed. Bus 2 gets
        // 30 MW at that mix (A 300/11) plus B's 20: load 5 takes A 5*(300/11)/50 = 30/11 and
        // B 2. Bus 3 has bus 2's mix: A 40*(300/11)/50 = 240/11, B 16.
        let net = net(
            &[25.0, 5.0, 40.0],
            &[(0, 50.0), (1, 20.0)],
            &[(0, 1), (1, 2), (2, 0)],
        );
        let ends = [(30.0, -30.0), (45.0, -45.0), (5.0, -5.0)];
        let t = trace(
            &net,
            &hand(&net, &[50.0, 20.0], &ends),
            &TraceOptions::default(),
        );
        assert_eq!(t.ignored_branches, vec![2]);
        assert_shares(&t, 0, &[(0, 250.0 / 11.0)]);
        assert_shares(&t, 1, &[(0, 30.0 / 11.0), (1, 2.0)]);
        assert_shares(&t, 2, &[(0, 240.0 / 11.0), (1, 16.0)]);
        let totals = t.generator_totals();
        assert!(totals[0] <= 50.0 && totals[1] <= 20.0);
    }

    #[test]
    fn islands_share_nothing_and_a_dead_one_gives_nothing() {
        // Buses 1-2 fed by A at the slack; buses 3-4 by a grid-forming unit B; bus 5 alone.
        let mut net = net(
            &[0.0, 3.0, 0.0, 2.0, 1.0],
            &[(0, 0.0), (2, 2.0)],
            &[(0, 1), (2, 3)],
        );
        net.generators[1].grid_forming = true;
        let r = PowerFlow::new()
            .solve(&net, &PowerFlowOptions::default())
            .unwrap();
        assert_eq!(r.islands[2].status, IslandStatus::Deenergised);
        let t = trace(&net, &r, &TraceOptions::default());
        assert_eq!(t.buses[1].shares.len(), 1);
        assert!(close(t.buses[1].shares[0].1, 3.0) && t.buses[1].shares[0].0 == 0);
        assert_eq!(t.buses[3].shares.len(), 1);
        assert!(close(t.buses[3].shares[0].1, 2.0) && t.buses[3].shares[0].0 == 1);
        assert_eq!(t.buses[4], BusTrace::default());
        assert!(t.composition(4).is_empty());
    }

    #[test]
    fn mismatched_result_traces_nothing() {
        let a = net(&[0.0, 1.0], &[(0, 1.0)], &[(0, 1)]);
        let r = hand(&a, &[1.0], &[(1.0, -1.0)]);
        let b = net(&[0.0, 1.0, 1.0], &[(0, 1.0)], &[(0, 1)]);
        let t = trace(
            &b,
            &r,
            &TraceOptions {
                prune: f64::NAN,
                min_flow_mw: -1.0,
            },
        );
        assert!(t.buses.iter().all(|b| b.shares.is_empty()));
    }

    fn shared() -> std::path::PathBuf {
        match std::env::var_os("KOS_SHARED") {
            Some(p) => p.into(),
            None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        }
    }

    /// Solves a MATPOWER case, traces it, checks the properties, returns the trace time, s.
    fn check_case(file: &str, prune: f64) -> f64 {
        let path = shared().join("matpower").join(file);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let net = parse_matpower(&text, file).unwrap();
        // No solver converges case_ACTIVSg10k from flat: it starts from the DC angles.
        let start = if file.contains("ACTIVS") {
            Start::Dc
        } else {
            Start::Flat
        };
        let opts = PowerFlowOptions {
            start,
            ..Default::default()
        };
        let r = PowerFlow::new().solve(&net, &opts).unwrap();
        assert!(r.converged, "{file}");
        let clock = std::time::Instant::now();
        let t = trace(
            &net,
            &r,
            &TraceOptions {
                prune,
                ..Default::default()
            },
        );
        let secs = clock.elapsed().as_secs_f64();
        let (mut load, mut unattributed) = (0.0, 0.0);
        for (i, b) in t.buses.iter().enumerate() {
            assert!(
                b.shares.windows(2).all(|w| w[0].0 < w[1].0),
                "{file} bus {i}"
            );
            assert!(b.shares.iter().all(|s| s.1 > 0.0), "{file} bus {i}");
            let sum: f64 = b.shares.iter().map(|s| s.1).sum();
            assert!(sum <= b.load_mw * (1.0 + 1e-9) + 1e-9, "{file} bus {i}");
            assert!((sum + b.unattributed_mw - b.load_mw).abs() <= 1e-9 * (1.0 + b.load_mw));
            // The load served is the bus's demand plus its absorbing units.
            let absorbing: f64 = (net.generators.iter().enumerate())
                .filter(|(g, u)| u.bus == i && u.in_service && r.gen_pg_mw[*g] < -1e-9)
                .map(|(g, _)| -r.gen_pg_mw[g])
                .sum();
            assert!(
                close(b.load_mw, net.buses[i].pd_mw.max(0.0) + absorbing),
                "{file} {i}"
            );
            load += b.load_mw;
            unattributed += b.unattributed_mw;
        }
        for (g, total) in t.generator_totals().into_iter().enumerate() {
            assert!(
                total <= r.gen_pg_mw[g].max(0.0) + 1e-9,
                "{file} unit {g}: {total}"
            );
        }
        let negative_load: f64 = net.buses.iter().map(|b| (-b.pd_mw).max(0.0)).sum();
        eprintln!(
            "{file}: trace {:.1} ms, {unattributed:.3} of {load:.1} MW unattributed \
             (negative loads {negative_load:.1} MW), {} cycles broken, {} units",
            secs * 1e3,
            t.ignored_branches.len(),
            net.generators.len(),
        );
        // Pruning and cycles leave little unnamed beyond the non-generator injections.
        assert!(
            unattributed <= negative_load + 0.01 * load,
            "{file}: {unattributed}"
        );
        secs
    }

    #[test]
    fn case118_shares_balance_and_no_unit_gives_more_than_it_makes() {
        check_case("case118.m", 1e-4);
        // Unpruned, a radial-free mesh without negative loads names every megawatt.
        check_case("case118.m", 0.0);
    }

    #[test]
    #[ignore = "10,000-bus cases: run with --ignored for the timing"]
    fn large_cases_trace_fast() {
        for f in ["case9241pegase.m", "case_ACTIVSg10k.m"] {
            let secs = check_case(f, 1e-4);
            assert!(secs < 1.0, "{f}: {secs} s");
        }
    }
}
