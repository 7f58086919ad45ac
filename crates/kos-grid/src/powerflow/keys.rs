//! What the engine's cached structures were built for: the topology (bus kinds, branch ends
//! and states, units) and the admittance parameters, compared at every solve.

use crate::network::{BusKind, Network};

/// What decides whether cached structures are still valid.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Topology {
    n_bus: usize,
    /// Each branch's ends.
    ends: Vec<(usize, usize)>,
    pub(super) conducts: Vec<bool>,
    bus_kind: Vec<BusKind>,
    gen_on: Vec<(usize, bool, bool)>,
    distributed: Vec<u64>,
}

impl Topology {
    pub(super) fn same_buses_and_units(&self, other: &Self) -> bool {
        self.n_bus == other.n_bus
            && self.ends == other.ends
            && self.conducts.len() == other.conducts.len()
            && self.bus_kind == other.bus_kind
            && self.gen_on == other.gen_on
            && self.distributed == other.distributed
    }

    /// Whether `net` has this topology, in half `h` (0 or 1) of each of its lists: checked
    /// without allocating or branching on each element, as it runs every solve.
    pub(super) fn matches_half(&self, net: &Network, distributed: bool, h: usize) -> bool {
        self.n_bus == net.buses.len()
            && self.ends.len() == net.branches.len()
            && self.gen_on.len() == net.generators.len()
            && self.distributed.len() == if distributed { net.generators.len() } else { 0 }
            && net.branches[half(net.branches.len(), h)]
                .iter()
                .zip(self.ends[half(self.ends.len(), h)].iter())
                .zip(&self.conducts[half(self.conducts.len(), h)])
                .fold(true, |same, ((b, &(f, t)), &on)| {
                    same & (b.from == f) & (b.to == t) & (b.in_service == on)
                })
            && net.buses[half(net.buses.len(), h)]
                .iter()
                .zip(&self.bus_kind[half(self.bus_kind.len(), h)])
                .fold(true, |same, (b, &kind)| same & (b.kind == kind))
            && net.generators[half(net.generators.len(), h)]
                .iter()
                .zip(&self.gen_on[half(self.gen_on.len(), h)])
                .fold(true, |same, (g, &(bus, on, forming))| {
                    same & (g.bus == bus) & (g.in_service == on) & (g.grid_forming == forming)
                })
            && (!distributed
                || net.generators[half(net.generators.len(), h)]
                    .iter()
                    .zip(&self.distributed[half(self.distributed.len(), h)])
                    .all(|(g, &p)| g.participation.to_bits() == p))
    }

    pub(super) fn of(net: &Network, distributed: bool) -> Self {
        Self {
            n_bus: net.buses.len(),
            ends: net.branches.iter().map(|b| (b.from, b.to)).collect(),
            conducts: net.branches.iter().map(|b| b.in_service).collect(),
            bus_kind: net.buses.iter().map(|b| b.kind).collect(),
            gen_on: net
                .generators
                .iter()
                .map(|g| (g.bus, g.in_service, g.grid_forming))
                .collect(),
            distributed: if distributed {
                net.generators
                    .iter()
                    .map(|g| g.participation.to_bits())
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// Everything of a branch that enters the admittance matrix, bit for bit.
fn branch_key(b: &crate::Branch) -> [u64; 6] {
    [b.r_pu, b.x_pu, b.b_pu, b.g_pu, b.tap, b.shift_deg].map(f64::to_bits)
}

/// The impedances and shunts the cached admittance matrix was built from.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct AdmittanceParams {
    branches: Vec<[u64; 6]>,
    shunts: Vec<[u64; 2]>,
    base_mva: u64,
}

impl AdmittanceParams {
    pub(super) fn of(net: &Network) -> Self {
        Self {
            branches: net.branches.iter().map(branch_key).collect(),
            shunts: net
                .buses
                .iter()
                .map(|b| [b.gs_mw.to_bits(), b.bs_mvar.to_bits()])
                .collect(),
            base_mva: net.base_mva.to_bits(),
        }
    }

    /// Whether `net` has these parameters, in half `h` (0 or 1) of its branches and buses:
    /// checked without allocating or branching on each element, as it runs every solve.
    pub(super) fn matches_half(&self, net: &Network, h: usize) -> bool {
        let differ = |a: &[u64], b: &[u64]| a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y));
        self.base_mva == net.base_mva.to_bits()
            && self.branches.len() == net.branches.len()
            && self.shunts.len() == net.buses.len()
            && net.branches[half(net.branches.len(), h)]
                .iter()
                .zip(&self.branches[half(self.branches.len(), h)])
                .fold(0, |d, (b, k)| d | differ(&branch_key(b), k))
                == 0
            && net.buses[half(net.buses.len(), h)]
                .iter()
                .zip(&self.shunts[half(self.shunts.len(), h)])
                .fold(0, |d, (b, k)| {
                    d | differ(&[b.gs_mw.to_bits(), b.bs_mvar.to_bits()], k)
                })
                == 0
    }
}

/// Half `h` (0 or 1) of `0..len`.
fn half(len: usize, h: usize) -> std::ops::Range<usize> {
    len * h / 2..len * (h + 1) / 2
}
