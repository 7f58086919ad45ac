//! What each bus of an island holds and injects: roles (reference, PV, PQ), voltage
//! setpoints, scheduled injections, slack participation, and the reactive output of
//! voltage-regulating units.

use num_complex::Complex64;

use crate::network::{BusKind, Network};
use crate::newton::Role;
use crate::result::split_q;

/// Voltage setpoint of each bus: that of its first in-service generator.
pub(crate) fn voltage_setpoints(net: &Network) -> Vec<Option<f64>> {
    let mut s = vec![None; net.buses.len()];
    for g in net.generators.iter().filter(|g| g.in_service) {
        if s[g.bus].is_none() {
            s[g.bus] = Some(g.vg_pu);
        }
    }
    s
}

/// Roles of an island's buses: the reference; PV where the bus is a slack or PV bus with an
/// in-service unit whose reactive power is not fixed; PQ elsewhere.
pub(crate) fn base_roles(
    net: &Network,
    buses: &[usize],
    reference: usize,
    fixed_q: &[Option<f64>],
) -> Vec<Role> {
    let mut regulating = vec![false; net.buses.len()];
    for (gi, g) in net.generators.iter().enumerate() {
        if g.in_service && fixed_q.get(gi).is_none_or(|f| f.is_none()) {
            regulating[g.bus] = true;
        }
    }
    buses
        .iter()
        .map(|&b| {
            if b == reference {
                Role::Reference
            } else if matches!(net.buses[b].kind, BusKind::Pv | BusKind::Slack) && regulating[b] {
                Role::Pv
            } else {
                Role::Pq
            }
        })
        .collect()
}

/// Participation share of each bus of an island (sums to one), or empty if nobody takes part.
pub(crate) fn participation(net: &Network, buses: &[usize]) -> Vec<f64> {
    let mut a = vec![0.0; buses.len()];
    for g in net
        .generators
        .iter()
        .filter(|g| g.in_service && g.participation > 0.0)
    {
        if let Ok(li) = buses.binary_search(&g.bus) {
            a[li] += g.participation;
        }
    }
    let total: f64 = a.iter().sum();
    if total > 0.0 && total.is_finite() {
        a.iter_mut().for_each(|x| *x /= total);
        a
    } else {
        Vec::new()
    }
}

/// Scheduled net injections of an island's buses, pu.
pub(crate) fn scheduled(
    net: &Network,
    buses: &[usize],
    role: impl Fn(usize) -> Role,
    fixed_q: &[Option<f64>],
) -> (Vec<f64>, Vec<f64>) {
    let base = net.base_mva;
    let (mut p, mut q): (Vec<f64>, Vec<f64>) = buses
        .iter()
        .map(|&b| {
            let bus = &net.buses[b];
            (-bus.pd_mw / base, -bus.qd_mvar / base)
        })
        .unzip();
    // An island of every bus (`buses` is sorted and distinct) numbers them as the network.
    let whole = buses.len() == net.buses.len();
    for (gi, g) in net.generators.iter().enumerate() {
        if !g.in_service {
            continue;
        }
        let li = if whole {
            g.bus
        } else {
            match buses.binary_search(&g.bus) {
                Ok(li) => li,
                Err(_) => continue,
            }
        };
        p[li] += g.pg_mw / base;
        if role(li) == Role::Pq {
            q[li] += fixed_q[gi].unwrap_or(g.qg_mvar) / base;
        }
    }
    (p, q)
}

/// Reactive output of each voltage-regulating unit, sharing a bus's reactive generation in
/// proportion to the units' reactive ranges (MATPOWER's rule).
pub(crate) fn share_reactive(
    net: &Network,
    buses: &[usize],
    inj: &[Complex64],
    base: f64,
    role: impl Fn(usize) -> Role,
    fixed_q: &[Option<f64>],
) -> Vec<(usize, f64)> {
    let mut out = Vec::new();
    // Per local bus: the units that share its reactive generation, and those fixed at a
    // limit, which keep theirs.
    let mut by_bus: std::collections::BTreeMap<usize, (Vec<usize>, Vec<usize>)> =
        Default::default();
    for (gi, g) in net.generators.iter().enumerate() {
        let Ok(li) = buses.binary_search(&g.bus) else {
            continue;
        };
        if !g.in_service {
            continue;
        }
        if fixed_q[gi].is_some() {
            by_bus.entry(li).or_default().1.push(gi);
        } else if role(li) != Role::Pq {
            by_bus.entry(li).or_default().0.push(gi);
        }
    }
    for (li, (units, fixed)) in by_bus {
        if units.is_empty() {
            continue;
        }
        let b = buses[li];
        let mut qbus = inj[li].im * base + net.buses[b].qd_mvar;
        for &gi in &fixed {
            qbus -= fixed_q[gi].unwrap_or(0.0);
        }
        split_q(net, &units, qbus, |gi, q| out.push((gi, q)));
    }
    out
}
