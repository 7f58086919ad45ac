//! From a scene to the electrical model of kos-grid: per-unit conversion of cables and
//! transformers, bus roles from the units connected, and the index that links every
//! network element back to its asset id.

use std::collections::BTreeMap;

use kos_grid::{Branch, Bus, BusKind, Generator, Network};

use crate::format::*;
use crate::profiles;
use crate::time::parse_local_datetime;

/// Reactance given to a closed switch, pu: small enough to be invisible in the flows,
/// large enough to keep the Jacobian well conditioned.
pub const SWITCH_X_PU: f64 = 1e-4;

/// Power factor of infrastructure pods (mostly electronic and motor loads with correction).
pub const POD_POWER_FACTOR: f64 = 0.95;

/// What kind of asset a network branch comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchAsset {
    /// A line or cable.
    Line,
    /// A transformer.
    Transformer,
    /// A switch.
    Switch,
}

/// What kind of asset a network generator comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitAsset {
    /// A generation module.
    Generator,
    /// A battery.
    Storage,
}

/// The network of a scene and the asset id of each of its elements.
#[derive(Debug, Clone)]
pub struct GridModel {
    /// The electrical network, per unit on the site's base.
    pub network: Network,
    /// Bus index of each bus id.
    pub bus_index: BTreeMap<String, usize>,
    /// Asset of each branch, by branch index.
    pub branch_assets: Vec<(String, BranchAsset)>,
    /// Asset of each generator, by generator index.
    pub unit_assets: Vec<(String, UnitAsset)>,
}

impl GridModel {
    /// Branch index of each branch asset id.
    pub fn branch_index(&self) -> BTreeMap<&str, usize> {
        self.branch_assets
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.as_str(), i))
            .collect()
    }

    /// Generator index of each unit asset id.
    pub fn unit_index(&self) -> BTreeMap<&str, usize> {
        self.unit_assets
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.as_str(), i))
            .collect()
    }
}

/// Apparent power of a line's thermal rating, MVA.
pub fn line_rating_mva(nominal_kv: f64, rating_a: f64) -> f64 {
    3f64.sqrt() * nominal_kv * rating_a / 1000.0
}

/// Per-unit series impedance and total charging of a line on `base_mva`.
pub fn line_pu(l: &LineSpec, nominal_kv: f64, base_mva: f64, frequency_hz: f64) -> (f64, f64, f64) {
    match l.impedance {
        Impedance::PerUnit { r, x, b } => (r, x, b),
        Impedance::PerKm { r_ohm, x_ohm, c_nf } => {
            let zb = nominal_kv * nominal_kv / base_mva;
            let b_siemens = 2.0 * std::f64::consts::PI * frequency_hz * c_nf * 1e-9 * l.length_km;
            (
                r_ohm * l.length_km / zb,
                x_ohm * l.length_km / zb,
                b_siemens * zb,
            )
        }
    }
}

/// Per-unit resistance and reactance of a transformer on `base_mva`.
pub fn transformer_pu(t: &TransformerSpec, base_mva: f64) -> (f64, f64) {
    let s_mva = t.rating_kva / 1000.0;
    let z = t.vk_percent / 100.0 * base_mva / s_mva;
    let r = t.vkr_percent / 100.0 * base_mva / s_mva;
    (r, (z * z - r * r).max(0.0).sqrt())
}

/// Demand of a load at a local hour: (kW, kvar).
pub fn demand_kw(peak_kw: f64, power_factor: f64, profile: &Profile, hour: f64) -> (f64, f64) {
    let p = peak_kw * profiles::factor(profile, hour);
    let pf = power_factor.clamp(0.05, 1.0);
    (p, p * (1.0 - pf * pf).sqrt() / pf)
}

/// Builds the network of a validated scene, with loads at their profile value at the scene's
/// start time and units at their setpoints.
pub fn build_grid(scene: &Scene) -> GridModel {
    let site = &scene.site;
    let base = site.base_mva;
    let mut net = Network::new(site.name.clone(), base);
    let mut bus_index = BTreeMap::new();
    for b in &scene.buses {
        bus_index.insert(b.id.clone(), net.buses.len());
        let mut bus = Bus::new(b.id.clone(), BusKind::Pq, b.nominal_kv);
        bus.vm_min_pu = 0.95;
        bus.vm_max_pu = 1.05;
        net.buses.push(bus);
    }
    let bus = |id: &str| bus_index.get(id).copied();
    let mut branch_assets = Vec::new();
    for l in &scene.lines {
        let (Some(f), Some(t)) = (bus(&l.from), bus(&l.to)) else {
            continue;
        };
        let kv = scene.buses[f].nominal_kv;
        let (r, x, b) = line_pu(l, kv, base, site.frequency_hz);
        let mut br = Branch::line(f, t, r, x, b);
        br.rate_a_mva = line_rating_mva(kv, l.rating_a);
        br.in_service = l.in_service;
        net.branches.push(br);
        branch_assets.push((l.id.clone(), BranchAsset::Line));
    }
    for tr in &scene.transformers {
        let (Some(f), Some(t)) = (bus(&tr.hv_bus), bus(&tr.lv_bus)) else {
            continue;
        };
        let (r, x) = transformer_pu(tr, base);
        let mut br = Branch::line(f, t, r, x, 0.0);
        br.tap = 1.0 + tr.tap_percent / 100.0;
        br.shift_deg = tr.phase_shift_deg;
        br.rate_a_mva = tr.rating_kva / 1000.0;
        br.in_service = tr.in_service;
        net.branches.push(br);
        branch_assets.push((tr.id.clone(), BranchAsset::Transformer));
    }
    for s in &scene.switches {
        let (Some(f), Some(t)) = (bus(&s.from), bus(&s.to)) else {
            continue;
        };
        let mut br = Branch::line(f, t, 0.0, SWITCH_X_PU, 0.0);
        br.in_service = s.is_closed();
        net.branches.push(br);
        branch_assets.push((s.id.clone(), BranchAsset::Switch));
    }
    let mut unit_assets = Vec::new();
    for g in &scene.generators {
        let Some(b) = bus(&g.bus) else { continue };
        let mut unit = Generator::new(b, g.setpoint_kw / 1000.0, g.voltage_pu);
        let rated = g.rated_kw / 1000.0;
        unit.in_service = g.in_service;
        unit.grid_forming = g.kind.grid_forming();
        unit.pmax_mw = rated;
        unit.pmin_mw = 0.0;
        // Synchronous machines: 0.85 power factor capability; inverters: unity.
        let q = if g.kind.grid_forming() {
            rated * 0.62
        } else {
            0.0
        };
        unit.qmax_mvar = q;
        unit.qmin_mvar = -q;
        unit.participation = if g.kind.grid_forming() { rated } else { 0.0 };
        if let GeneratorKind::GridTie {
            import_limit_kw,
            export_limit_kw,
            ..
        } = g.kind
        {
            unit.pmax_mw = import_limit_kw / 1000.0;
            unit.pmin_mw = -export_limit_kw / 1000.0;
            unit.qmax_mvar = import_limit_kw / 1000.0;
            unit.qmin_mvar = -import_limit_kw / 1000.0;
            if g.in_service {
                net.buses[b].kind = BusKind::Slack;
            }
        } else if g.kind.grid_forming() && g.in_service && net.buses[b].kind == BusKind::Pq {
            net.buses[b].kind = BusKind::Pv;
        }
        net.generators.push(unit);
        unit_assets.push((g.id.clone(), UnitAsset::Generator));
    }
    for s in &scene.storage {
        let Some(b) = bus(&s.bus) else { continue };
        let mut unit = Generator::new(b, 0.0, s.voltage_pu);
        let p = s.power_kw / 1000.0;
        unit.in_service = s.in_service;
        unit.grid_forming = s.grid_forming;
        unit.pmax_mw = p;
        unit.pmin_mw = -p;
        unit.qmax_mvar = if s.grid_forming { p } else { 0.0 };
        unit.qmin_mvar = -unit.qmax_mvar;
        unit.participation = if s.grid_forming { p } else { 0.0 };
        if s.grid_forming && s.in_service && net.buses[b].kind == BusKind::Pq {
            net.buses[b].kind = BusKind::Pv;
        }
        net.generators.push(unit);
        unit_assets.push((s.id.clone(), UnitAsset::Storage));
    }
    let start = parse_local_datetime(&site.start).unwrap_or(0);
    let hour = (start.rem_euclid(86_400)) as f64 / 3600.0;
    for l in &scene.loads {
        if let Some(b) = bus(&l.bus) {
            let (p, q) = demand_kw(l.peak_kw, l.power_factor, &l.profile, hour);
            net.buses[b].pd_mw += p / 1000.0;
            net.buses[b].qd_mvar += q / 1000.0;
        }
    }
    for pod in &scene.pods {
        if let Some(b) = bus(&pod.bus) {
            let (p, q) = demand_kw(pod.power_kw, POD_POWER_FACTOR, &pod.kind.profile(), hour);
            net.buses[b].pd_mw += p / 1000.0;
            net.buses[b].qd_mvar += q / 1000.0;
        }
    }
    GridModel {
        network: net,
        bus_index,
        branch_assets,
        unit_assets,
    }
}
