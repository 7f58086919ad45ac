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
        if !conducts(k) || br.from >= n || br.to >= n {
            continue;
        }
        if net.buses[br.from].kind == BusKind::Isolated
            || net.buses[br.to].kind == BusKind::Isolated
        {
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
