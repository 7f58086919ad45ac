//! Electrical islands: connected components of the conducting branches, each with the bus
//! that will act as its voltage and angle reference.

use crate::network::{BusKind, Network};

/// One connected part of the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Island {
    /// Buses of the island, ascending.
    pub buses: Vec<usize>,
    /// Reference bus, or `None` when no source can hold the island (it is de-energised).
    pub reference: Option<usize>,
}

/// The islands of a network and the island of each bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Islands {
    /// Islands, ordered by their lowest bus index.
    pub islands: Vec<Island>,
    /// Island of each bus; `None` for a bus out of service.
    pub of_bus: Vec<Option<usize>>,
}

/// Finds the islands formed by the branches for which `conducts` is true.
///
/// The reference of an island is, in order of preference: a slack bus of the network with an
/// in-service generator; else the bus of the in-service grid-forming generator with the
/// largest active rating. An island with neither is de-energised.
pub fn find_islands(net: &Network, conducts: impl Fn(usize) -> bool) -> Islands {
    let n = net.buses.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (k, br) in net.branches.iter().enumerate() {
        if !joins(net, k, &conducts) {
            continue;
        }
        let (a, b) = (root(&mut parent, br.from), root(&mut parent, br.to));
        if a != b {
            // Union by lower index keeps the numbering deterministic.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent[hi] = lo;
        }
    }
    let mut of_bus = vec![None; n];
    let mut islands: Vec<Island> = Vec::new();
    let mut island_of_root = vec![usize::MAX; n];
    for i in 0..n {
        if net.buses[i].kind == BusKind::Isolated {
            continue;
        }
        let r = root(&mut parent, i);
        if island_of_root[r] == usize::MAX {
            island_of_root[r] = islands.len();
            islands.push(Island {
                buses: Vec::new(),
                reference: None,
            });
        }
        let id = island_of_root[r];
        islands[id].buses.push(i);
        of_bus[i] = Some(id);
    }
    // Reference choice.
    let mut has_gen = vec![false; n];
    let mut best_former: Vec<Option<(f64, usize)>> = vec![None; islands.len()];
    for g in net.generators.iter().filter(|g| g.in_service && g.bus < n) {
        has_gen[g.bus] = true;
        if let (true, Some(id)) = (g.grid_forming, of_bus[g.bus]) {
            let better = match best_former[id] {
                None => true,
                Some((p, b)) => g.pmax_mw > p || (g.pmax_mw == p && g.bus < b),
            };
            if better {
                best_former[id] = Some((g.pmax_mw, g.bus));
            }
        }
    }
    for (id, island) in islands.iter_mut().enumerate() {
        island.reference = island
            .buses
            .iter()
            .copied()
            .find(|&b| net.buses[b].kind == BusKind::Slack && has_gen[b])
            .or(best_former[id].map(|(_, b)| b));
    }
    Islands { islands, of_bus }
}

/// Whether branch `k` joins two buses in [`find_islands`]' sense: it conducts and neither
/// end is out of service.
fn joins(net: &Network, k: usize, conducts: impl Fn(usize) -> bool) -> bool {
    let (f, t) = (net.branches[k].from, net.branches[k].to);
    let n = net.buses.len();
    conducts(k)
        && f < n
        && t < n
        && net.buses[f].kind != BusKind::Isolated
        && net.buses[t].kind != BusKind::Isolated
}

/// The bridges among the branches for which `conducts` is true: those whose opening alone
/// splits an island (Tarjan's low-link search, iterative; a parallel branch or a loop is no
/// bridge). Opening any other of them leaves [`find_islands`]' result as it is.
pub fn bridges(net: &Network, conducts: impl Fn(usize) -> bool) -> Vec<bool> {
    const NONE: usize = usize::MAX;
    let n = net.buses.len();
    let nb = net.branches.len();
    // Adjacency in compressed form: (neighbour, branch) per bus.
    let mut ptr = vec![0usize; n + 1];
    let edges: Vec<usize> = (0..nb).filter(|&k| joins(net, k, &conducts)).collect();
    for &k in &edges {
        ptr[net.branches[k].from + 1] += 1;
        ptr[net.branches[k].to + 1] += 1;
    }
    for i in 0..n {
        ptr[i + 1] += ptr[i];
    }
    let mut fill = ptr.clone();
    let mut adj = vec![(0usize, 0usize); ptr[n]];
    for &k in &edges {
        let (f, t) = (net.branches[k].from, net.branches[k].to);
        adj[fill[f]] = (t, k);
        fill[f] += 1;
        adj[fill[t]] = (f, k);
        fill[t] += 1;
    }
    let mut is_bridge = vec![false; nb];
    let mut order = vec![NONE; n];
    let mut low = vec![0usize; n];
    let mut next = 0;
    // Depth-first stack: (bus, branch it was reached by, next adjacency position).
    let mut stack: Vec<(usize, usize, usize)> = Vec::new();
    for start in 0..n {
        if order[start] != NONE {
            continue;
        }
        order[start] = next;
        low[start] = next;
        next += 1;
        stack.push((start, NONE, ptr[start]));
        while let Some(top) = stack.last_mut() {
            let (v, via, pos) = *top;
            if pos < ptr[v + 1] {
                top.2 += 1;
                let (w, k) = adj[pos];
                if k == via {
                    continue;
                }
                if order[w] == NONE {
                    order[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push((w, k, ptr[w]));
                } else {
                    low[v] = low[v].min(order[w]);
                }
            } else {
                stack.pop();
                if let Some(&(u, _, _)) = stack.last() {
                    low[u] = low[u].min(low[v]);
                    if low[v] > order[u] {
                        is_bridge[via] = true;
                    }
                }
            }
        }
    }
    is_bridge
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{Branch, Bus, Generator};

    fn chain(n: usize) -> Network {
        let mut net = Network::new("chain", 100.0);
        for i in 0..n {
            net.buses.push(Bus::new(i.to_string(), BusKind::Pq, 10.0));
        }
        for i in 0..n - 1 {
            net.branches.push(Branch::line(i, i + 1, 0.01, 0.05, 0.0));
        }
        net
    }

    #[test]
    fn an_open_branch_splits_the_chain_and_the_far_side_is_dark() {
        let mut net = chain(6);
        net.buses[0].kind = BusKind::Slack;
        let mut g = Generator::new(0, 0.0, 1.0);
        g.grid_forming = true;
        net.generators.push(g);
        net.branches[2].in_service = false;
        let isl = find_islands(&net, |k| net.branches[k].in_service);
        assert_eq!(isl.islands.len(), 2);
        assert_eq!(isl.islands[0].buses, vec![0, 1, 2]);
        assert_eq!(isl.islands[0].reference, Some(0));
        assert_eq!(isl.islands[1].buses, vec![3, 4, 5]);
        assert_eq!(isl.islands[1].reference, None);
        assert_eq!(isl.of_bus[4], Some(1));
    }

    #[test]
    fn bridges_are_the_branches_whose_opening_splits_an_island() {
        // A ring of five with a spur, a parallel pair on the spur's far side, a loop, an
        // open branch closing a second ring, and a branch to an out-of-service bus.
        let mut net = chain(9);
        for (f, t) in [(4, 0), (6, 7), (3, 3), (8, 5), (2, 8)] {
            net.branches.push(Branch::line(f, t, 0.01, 0.05, 0.0));
        }
        let open = net.branches.len() - 1;
        net.branches[open].in_service = false;
        net.buses[8].kind = BusKind::Isolated;
        let on = |net: &Network, k: usize| net.branches[k].in_service;
        let is_bridge = bridges(&net, |k| on(&net, k));
        let base = find_islands(&net, |k| on(&net, k));
        for k in 0..net.branches.len() {
            let without = find_islands(&net, |j| j != k && on(&net, j));
            assert_eq!(is_bridge[k], without != base, "branch {k}");
        }
        // 4-5 and 5-6 hold the spur; the parallel 6-7 pair and the ring hold no bridge.
        assert_eq!(
            (0..net.branches.len())
                .filter(|&k| is_bridge[k])
                .collect::<Vec<_>>(),
            vec![4, 5]
        );
    }

    #[test]
    fn the_largest_grid_former_takes_the_reference() {
        let mut net = chain(4);
        for (bus, p) in [(1, 2.0), (3, 5.0)] {
            let mut g = Generator::new(bus, 0.0, 1.0);
            g.pmax_mw = p;
            g.grid_forming = true;
            net.generators.push(g);
        }
        // A larger unit that cannot form a grid is ignored.
        let mut follower = Generator::new(2, 0.0, 1.0);
        follower.pmax_mw = 50.0;
        net.generators.push(follower);
        let isl = find_islands(&net, |_| true);
        assert_eq!(isl.islands.len(), 1);
        assert_eq!(isl.islands[0].reference, Some(3));
    }
}
