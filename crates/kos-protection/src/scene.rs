//! The short-circuit case of a scene: what IEC 60909 needs of each asset in service.
//!
//! - The grid tie is a network feeder with its fault level (`short_circuit_mva`,
//!   `short_circuit_rx`).
//! - Lines and cables: their series impedance (capacitance is neglected, IEC 60909-0 §2.3.1).
//! - Transformers: rated power and short-circuit voltages; the rated ratio is the buses'
//!   nominal voltages (IEC 60909 uses the rated ratio, not the tap in use).
//! - Closed switches join their buses.
//! - Synchronous units (CHP, bio) are voltage sources behind X"d = [`SYNCHRONOUS_XDSS_PU`]
//!   with R = 0.1 X"d at the scene's power factor 0.85; grid-forming batteries behind
//!   X = [`GRID_FORMING_X_PU`] (R = 0.1 X) at unity power factor (about twice their rated
//!   current).
//! - Photovoltaics, wind turbines, other modules and grid-following batteries are full
//!   converters: current sources of [`CONVERTER_K`] times their rated current.
//!
//! Also what the indices and restoration count of a scene: its customer groups, the buses
//! that no source holds, and switching applied to a scene.

use std::collections::{BTreeMap, BTreeSet};

use kos_grid::find_islands;
use kos_scene::{GeneratorKind, Impedance, Priority, Scene, build_grid};

use crate::reliability::Customers;

use crate::sc::{
    ExtGrid, SC_CASE_FORMAT, ScBus, ScCase, ScConverter, ScLine, ScMachine, ScSwitch, ScTrafo,
};

/// Subtransient reactance of a small synchronous unit, per unit of its rating (IEC 60909-0
/// Annex: 0.1-0.2 for salient-pole and small turbo units).
pub const SYNCHRONOUS_XDSS_PU: f64 = 0.2;

/// Rated power factor of synchronous units (the scene's reactive capability, 0.62 of rated).
pub const SYNCHRONOUS_COS_PHI: f64 = 0.85;

/// The reactance a grid-forming inverter's fault current is modelled behind, per unit of its
/// rating: about twice its rated current into a bolted fault at its terminals.
pub const GRID_FORMING_X_PU: f64 = 0.5;

/// Short-circuit current of full-converter units over their rated current (IEC 60909-0 §6.8;
/// 1.1-1.5 in practice).
pub const CONVERTER_K: f64 = 1.2;

/// The short-circuit case of `scene` (a validated scene: unknown references are left out).
pub fn sc_case(scene: &Scene) -> ScCase {
    let site = &scene.site;
    let nominal: std::collections::BTreeMap<&str, f64> = scene
        .buses
        .iter()
        .map(|b| (b.id.as_str(), b.nominal_kv))
        .collect();
    let kv = |id: &str| nominal.get(id).copied();
    let mut case = ScCase {
        format: SC_CASE_FORMAT.into(),
        name: site.name.clone(),
        frequency_hz: site.frequency_hz,
        buses: scene
            .buses
            .iter()
            .map(|b| ScBus {
                id: b.id.clone(),
                vn_kv: b.nominal_kv,
            })
            .collect(),
        ext_grids: Vec::new(),
        lines: Vec::new(),
        trafos: Vec::new(),
        switches: Vec::new(),
        sgens: Vec::new(),
        gens: Vec::new(),
    };
    for l in scene.lines.iter().filter(|l| l.in_service) {
        let Some(vn) = kv(&l.from) else { continue };
        let (r_ohm, x_ohm) = match l.impedance {
            Impedance::PerKm { r_ohm, x_ohm, .. } => (r_ohm * l.length_km, x_ohm * l.length_km),
            Impedance::PerUnit { r, x, .. } => {
                let zb = vn * vn / site.base_mva;
                (r * zb, x * zb)
            }
        };
        case.lines.push(ScLine {
            id: l.id.clone(),
            from: l.from.clone(),
            to: l.to.clone(),
            r_ohm,
            x_ohm,
            endtemp_degree: None,
        });
    }
    for t in scene.transformers.iter().filter(|t| t.in_service) {
        let (Some(hv), Some(lv)) = (kv(&t.hv_bus), kv(&t.lv_bus)) else {
            continue;
        };
        case.trafos.push(ScTrafo {
            id: t.id.clone(),
            hv_bus: t.hv_bus.clone(),
            lv_bus: t.lv_bus.clone(),
            sn_mva: t.rating_kva / 1000.0,
            vn_hv_kv: hv,
            vn_lv_kv: lv,
            vk_percent: t.vk_percent,
            vkr_percent: t.vkr_percent,
        });
    }
    for s in scene.switches.iter().filter(|s| s.is_closed()) {
        case.switches.push(ScSwitch {
            id: s.id.clone(),
            from: s.from.clone(),
            to: s.to.clone(),
        });
    }
    let converter = |id: &str, bus: &str, kw: f64| ScConverter {
        id: id.into(),
        bus: bus.into(),
        sn_mva: kw / 1000.0,
        k: CONVERTER_K,
    };
    let machine = |id: &str, bus: &str, kw: f64, xdss_pu: f64, r_over_x: f64, cos_phi: f64| {
        let vn = kv(bus).unwrap_or(0.0);
        let sn = kw / 1000.0 / cos_phi;
        ScMachine {
            id: id.into(),
            bus: bus.into(),
            sn_mva: sn,
            vn_kv: vn,
            xdss_pu,
            rdss_ohm: r_over_x * xdss_pu * vn * vn / sn,
            cos_phi,
        }
    };
    for g in scene.generators.iter().filter(|g| g.in_service) {
        match g.kind {
            GeneratorKind::GridTie {
                short_circuit_mva,
                short_circuit_rx,
                short_circuit_min_mva,
                short_circuit_min_rx,
                ..
            } => case.ext_grids.push(ExtGrid {
                id: g.id.clone(),
                bus: g.bus.clone(),
                s_sc_max_mva: short_circuit_mva,
                rx_max: short_circuit_rx,
                s_sc_min_mva: Some(short_circuit_min_mva.unwrap_or(short_circuit_mva)),
                rx_min: Some(short_circuit_min_rx.unwrap_or(short_circuit_rx)),
            }),
            GeneratorKind::Chp { .. } | GeneratorKind::Bio { .. } => case.gens.push(machine(
                &g.id,
                &g.bus,
                g.rated_kw,
                SYNCHRONOUS_XDSS_PU,
                0.1,
                SYNCHRONOUS_COS_PHI,
            )),
            _ => case.sgens.push(converter(&g.id, &g.bus, g.rated_kw)),
        }
    }
    for b in scene.storage.iter().filter(|b| b.in_service) {
        if b.grid_forming {
            case.gens.push(machine(
                &b.id,
                &b.bus,
                b.power_kw,
                GRID_FORMING_X_PU,
                0.1,
                1.0,
            ));
        } else {
            case.sgens.push(converter(&b.id, &b.bus, b.power_kw));
        }
    }
    case
}

/// The rank of a load priority for the indices and restoration (0 first).
pub fn priority_rank(p: Priority) -> u8 {
    match p {
        Priority::Critical => 0,
        Priority::Essential => 1,
        Priority::Deferrable => 2,
    }
}

/// A customer group: a load (its households, at least one) or a pod (one customer).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerGroup {
    /// The load's or pod's id.
    pub id: String,
    /// Its bus.
    pub bus: String,
    /// Customers and priority.
    pub customers: Customers,
    /// Its peak demand, kW.
    pub kw: f64,
}

/// The customer groups of a scene: its loads, then its pods.
pub fn customer_groups(scene: &Scene) -> Vec<CustomerGroup> {
    scene
        .loads
        .iter()
        .map(|l| CustomerGroup {
            id: l.id.clone(),
            bus: l.bus.clone(),
            customers: Customers {
                customers: l.households.max(1),
                priority: priority_rank(l.priority),
            },
            kw: l.peak_kw,
        })
        .chain(scene.pods.iter().map(|p| CustomerGroup {
            id: p.id.clone(),
            bus: p.bus.clone(),
            customers: Customers {
                customers: 1,
                priority: priority_rank(p.priority),
            },
            kw: p.power_kw,
        }))
        .collect()
}

/// Sets branch positions in a scene: lines and transformers in or out of service, switches
/// closed or open, by id.
pub fn set_positions(scene: &mut Scene, closed: &BTreeMap<String, bool>) {
    for l in &mut scene.lines {
        if let Some(&c) = closed.get(&l.id) {
            l.in_service = c;
        }
    }
    for t in &mut scene.transformers {
        if let Some(&c) = closed.get(&t.id) {
            t.in_service = c;
        }
    }
    for s in &mut scene.switches {
        if let Some(&c) = closed.get(&s.id) {
            s.closed = Some(c);
        }
    }
}

/// Buses that no grid-forming source holds, by the islands the power flow would find.
pub fn unsupplied_buses(scene: &Scene) -> BTreeSet<String> {
    let model = build_grid(scene);
    let net = &model.network;
    let islands = find_islands(net, |k| net.branches[k].in_service);
    net.buses
        .iter()
        .enumerate()
        .filter(|(b, _)| islands.of_bus[*b].is_none_or(|i| islands.islands[i].reference.is_none()))
        .map(|(_, bus)| bus.name.clone())
        .collect()
}
/// The ids of a scene's branches: lines, transformers, switches.
pub fn branch_ids(scene: &Scene) -> impl Iterator<Item = &str> {
    scene
        .lines
        .iter()
        .map(|l| l.id.as_str())
        .chain(scene.transformers.iter().map(|t| t.id.as_str()))
        .chain(scene.switches.iter().map(|s| s.id.as_str()))
}

/// Whether closing `branch` is safe: refused when it would join two live islands, each held
/// by its own source, which the twin cannot know to be in phase (a synchronism check
/// would be needed). Closing onto a dead section, or within one island, is fine.
pub fn check_closing(scene: &Scene, branch: &str) -> Result<(), String> {
    let model = build_grid(scene);
    let net = &model.network;
    let Some(k) = model.branch_assets.iter().position(|(id, _)| id == branch) else {
        return Err(format!("no branch `{branch}`"));
    };
    let islands = find_islands(net, |k| net.branches[k].in_service);
    let (a, b) = (net.branches[k].from, net.branches[k].to);
    let held =
        |bus: usize| islands.of_bus[bus].and_then(|i| islands.islands[i].reference.map(|r| (i, r)));
    match (held(a), held(b)) {
        (Some((ia, ra)), Some((ib, rb))) if ia != ib => Err(format!(
            "closing {branch} would join two live islands out of phase, one held from {} and one from {}: synchronise them first",
            net.buses[ra].name, net.buses[rb].name
        )),
        _ => Ok(()),
    }
}
