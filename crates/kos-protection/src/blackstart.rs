//! Black start: a dead community energised again from its grid-forming unit.
//!
//! Every breaker is opened first. The black-start unit (the largest grid-forming battery in
//! service, else the largest synchronous unit) energises its busbar; the cranking path then
//! runs to the other units that can carry load (synchronous CHP and biogas units, which join
//! after their start-up time, and the batteries), largest first, and then to the loads in
//! priority order: critical first (clinic, water works, shelters), then essential, then
//! deferrable, the nearest first within a priority. Energising a bus picks up every load on
//! it.
//!
//! A load picked up after an outage draws more than its normal demand (cold-load pickup:
//! thermostats and pumps all start at once): `P(t) = P₀ (1 + (m − 1) e^(−(t − t₀)/τ))` with
//! `m` the multiple at pickup and `τ` its decay time. A block is picked up only when the
//! draw of everything already on, plus the block at `m` times its demand, stays within the
//! units' power less a reserve, waiting for earlier pickups to decay where needed; and only
//! when the units' stored energy carries the restored demand over the energy horizon. A
//! block that can never fit is left dark and reported.
//!
//! The sequence ends, in the spirit of NERC EOP-005, when the next load is no longer limited
//! by the source: once everything still dark fits at once, it is picked up in one last step.

use std::collections::{BTreeMap, BTreeSet};

use kos_scene::{GeneratorKind, Scene};
use serde::{Deserialize, Serialize};

use crate::check::feeding_tree;
use crate::scene::customer_groups;

/// Settings of a black start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlackStartOptions {
    /// Cold-load pickup: draw at pickup as a multiple of normal demand.
    pub clpu_multiple: f64,
    /// Cold-load pickup: time constant of its decay, s.
    pub clpu_decay_s: f64,
    /// Least time between two switching steps, s.
    pub switching_interval_s: f64,
    /// Start-up time of a synchronous unit once its busbar is live, s.
    pub unit_start_s: f64,
    /// Share of the units' power held in reserve, 0 to 1.
    pub reserve: f64,
    /// Hours the stored energy must carry the restored demand.
    pub energy_horizon_h: f64,
}

impl Default for BlackStartOptions {
    fn default() -> Self {
        Self {
            clpu_multiple: 2.0,
            clpu_decay_s: 600.0,
            switching_interval_s: 30.0,
            unit_start_s: 300.0,
            reserve: 0.1,
            energy_horizon_h: 2.0,
        }
    }
}

/// A unit that carries load in the black start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlackStartUnit {
    /// Asset id.
    pub id: String,
    /// Its bus.
    pub bus: String,
    /// Power it can deliver, kW.
    pub power_kw: f64,
    /// Energy it can deliver, kWh (stored charge above its minimum, or fuel).
    pub energy_kwh: f64,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum StepKind {
    /// Energises the path to a unit, which joins at `joins_s`.
    Crank {
        /// The unit.
        unit: String,
        /// When it carries load, s from the start.
        joins_s: f64,
    },
    /// Picks up a load block for the group `target`.
    Pickup {
        /// Index of the target customer group.
        target: usize,
    },
    /// The end condition: the rest fits at once.
    Rest,
}

/// One switching step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlackStartStep {
    /// Seconds from the start of the black start.
    pub t_s: f64,
    /// What it does.
    pub kind: StepKind,
    /// Branches closed, in order from the live side.
    pub close: Vec<String>,
    /// Customer groups picked up (indices into the scene's customer groups).
    pub groups: Vec<usize>,
    /// Their normal demand, kW.
    pub picked_kw: f64,
    /// Draw of everything on just after the step, cold-load pickup included, kW.
    pub draw_kw: f64,
    /// Power of the units carrying load then, less the reserve, kW.
    pub limit_kw: f64,
}

/// Why a group stays dark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DarkReason {
    /// No closed path from the black-start unit.
    Unreachable,
    /// Its block at pickup exceeds the units' power even after every decay.
    Power,
    /// The stored energy cannot carry it over the horizon.
    Energy,
}

/// A black start's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlackStartPlan {
    /// The black-start unit.
    pub source: BlackStartUnit,
    /// Branches opened at the start (every conducting branch reached from the source).
    pub open_first: Vec<String>,
    /// Steps in time order.
    pub steps: Vec<BlackStartStep>,
    /// Groups left dark, with why.
    pub dark: Vec<(usize, DarkReason)>,
    /// When every reachable group was on (the end condition), s; `None` while some stay
    /// dark.
    pub end_s: Option<f64>,
}

/// Why no black start can be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BlackStartError {
    /// No grid-forming unit in service.
    #[error("no grid-forming unit in service to black-start from")]
    NoSource,
    /// A demand list of the wrong length.
    #[error("{given} demands given for {groups} customer groups")]
    Demands {
        /// Given.
        given: usize,
        /// Wanted.
        groups: usize,
    },
    /// Settings out of range.
    #[error("black-start settings out of range: {0}")]
    Options(String),
}

/// The units of a scene that can carry load in a black start: the black-start unit first
/// (the largest grid-forming battery, else the largest synchronous unit), then the rest.
pub fn units(scene: &Scene) -> Vec<BlackStartUnit> {
    let mut forming: Vec<BlackStartUnit> = Vec::new();
    let mut others: Vec<BlackStartUnit> = Vec::new();
    for b in scene.storage.iter().filter(|b| b.in_service) {
        let unit = BlackStartUnit {
            id: b.id.clone(),
            bus: b.bus.clone(),
            power_kw: b.power_kw,
            energy_kwh: ((b.soc - b.soc_min).max(0.0) * b.energy_kwh * b.discharge_efficiency)
                .max(0.0),
        };
        if b.grid_forming {
            forming.push(unit);
        } else {
            others.push(unit);
        }
    }
    for g in scene.generators.iter().filter(|g| g.in_service) {
        let energy = match g.kind {
            GeneratorKind::Bio { fuel_kwh, .. } => fuel_kwh,
            GeneratorKind::Chp { .. } => f64::INFINITY,
            _ => continue,
        };
        others.push(BlackStartUnit {
            id: g.id.clone(),
            bus: g.bus.clone(),
            power_kw: g.rated_kw,
            energy_kwh: energy,
        });
    }
    let by_size = |a: &BlackStartUnit, b: &BlackStartUnit| {
        b.power_kw.total_cmp(&a.power_kw).then(a.id.cmp(&b.id))
    };
    forming.sort_by(by_size);
    others.sort_by(by_size);
    if forming.is_empty() {
        // A synchronous unit forms its own voltage and can black-start too.
        let synchronous = |u: &BlackStartUnit| {
            scene
                .generators
                .iter()
                .any(|g| g.id == u.id && g.kind.grid_forming())
        };
        if let Some(k) = others.iter().position(synchronous) {
            forming.push(others.remove(k));
        }
    }
    forming.into_iter().chain(others).collect()
}

/// Load picked up so far: (pickup time s, normal demand kW).
struct Picked<'a> {
    on: Vec<(f64, f64)>,
    options: &'a BlackStartOptions,
}

impl Picked<'_> {
    fn steady_kw(&self) -> f64 {
        self.on.iter().map(|p| p.1).sum()
    }

    /// Draw at `t`, cold-load pickup included, kW.
    fn draw_kw(&self, t: f64) -> f64 {
        let o = self.options;
        self.on
            .iter()
            .map(|&(t0, kw)| {
                kw * (1.0 + (o.clpu_multiple - 1.0) * (-(t - t0).max(0.0) / o.clpu_decay_s).exp())
            })
            .sum()
    }

    /// The earliest time from `from` at which `block_kw` picked up keeps the draw within
    /// `limit_kw`, if any.
    fn earliest(&self, from: f64, block_kw: f64, limit_kw: f64) -> Option<f64> {
        let fits = |t: f64| self.draw_kw(t) + self.options.clpu_multiple * block_kw <= limit_kw;
        if fits(from) {
            return Some(from);
        }
        if self.steady_kw() + self.options.clpu_multiple * block_kw > limit_kw {
            return None;
        }
        // The draw falls monotonically to the steady demand: bisect.
        let mut hi = from + self.options.clpu_decay_s;
        while !fits(hi) {
            hi += self.options.clpu_decay_s;
            if hi - from > 200.0 * self.options.clpu_decay_s {
                return None;
            }
        }
        let mut lo = from;
        while hi - lo > 0.5 {
            let mid = 0.5 * (lo + hi);
            if fits(mid) { hi = mid } else { lo = mid }
        }
        Some(hi.ceil())
    }
}

/// Plans the black start of `scene` (its switching as it was before the blackout) with
/// `demand_kw`, each customer group's normal demand now, in [`customer_groups`] order.
pub fn plan(
    scene: &Scene,
    demand_kw: &[f64],
    options: &BlackStartOptions,
) -> Result<BlackStartPlan, BlackStartError> {
    let o = options;
    let ok = o.clpu_multiple >= 1.0
        && o.clpu_decay_s > 0.0
        && o.switching_interval_s >= 0.0
        && o.unit_start_s >= 0.0
        && (0.0..1.0).contains(&o.reserve)
        && o.energy_horizon_h >= 0.0;
    if !ok
        || ![
            o.clpu_multiple,
            o.clpu_decay_s,
            o.switching_interval_s,
            o.unit_start_s,
        ]
        .iter()
        .all(|v| v.is_finite())
    {
        return Err(BlackStartError::Options(format!("{o:?}")));
    }
    let groups = customer_groups(scene);
    if demand_kw.len() != groups.len() {
        return Err(BlackStartError::Demands {
            given: demand_kw.len(),
            groups: groups.len(),
        });
    }
    let mut all_units = units(scene).into_iter();
    let source = all_units.next().ok_or(BlackStartError::NoSource)?;
    // The tree borrows the scene's own id of the unit's bus.
    let root = scene
        .buses
        .iter()
        .map(|b| b.id.as_str())
        .find(|b| *b == source.bus)
        .ok_or(BlackStartError::NoSource)?;
    let tree = feeding_tree(scene, root);
    let mut open_first: Vec<String> = tree.values().map(|(via, _)| via.to_string()).collect();
    open_first.sort();
    open_first.dedup();
    let mut by_bus: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, g) in groups.iter().enumerate() {
        by_bus.entry(g.bus.as_str()).or_default().push(k);
    }
    let mut r = Restoration {
        o,
        demand_kw,
        tree: &tree,
        by_bus: &by_bus,
        picked: Picked {
            on: Vec::new(),
            options: o,
        },
        live: BTreeSet::from([source.bus.clone()]),
        on: BTreeSet::new(),
        carrying: vec![(0.0, source.power_kw, source.energy_kwh)],
        steps: Vec::new(),
    };

    // The source's own busbar is live from the start, with its loads.
    if let Some(own) = by_bus.get(source.bus.as_str()).cloned() {
        r.take(0.0, StepKind::Pickup { target: own[0] }, Vec::new(), own);
    }

    // Crank the other units, largest first.
    for unit in all_units {
        let Some(path) = r.path_to(&unit.bus, &r.live) else {
            continue;
        };
        let block = r.block_of(&path, &[]);
        let kw = r.kw(&block);
        let from = r.next_from();
        let Some(at) = r.picked.earliest(from, kw, r.limit_at(from)) else {
            continue;
        };
        if !r.energy_allows(kw) {
            continue;
        }
        let joins = if scene.storage.iter().any(|b| b.id == unit.id) {
            at
        } else {
            at + o.unit_start_s
        };
        r.carrying.push((joins, unit.power_kw, unit.energy_kwh));
        let kind = StepKind::Crank {
            unit: unit.id.clone(),
            joins_s: joins,
        };
        r.take(at, kind, path, block);
    }

    // Loads by priority, the nearest first, then by id.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&g| (groups[g].customers.priority, r.depth(&groups[g].bus), g));
    let mut dark: Vec<(usize, DarkReason)> = Vec::new();
    let mut end_s = None;
    for &g in &order {
        if r.on.contains(&g) {
            continue;
        }
        let Some(path) = r.path_to(&groups[g].bus, &r.live) else {
            dark.push((g, DarkReason::Unreachable));
            continue;
        };
        let from = r.next_from();
        // The end condition: everything still dark and reachable fits at once now.
        let rest: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&h| !r.on.contains(&h) && r.path_to(&groups[h].bus, &r.live).is_some())
            .collect();
        let rest_kw = r.kw(&rest);
        let limit = r.limit_at(from);
        if r.picked.draw_kw(from) + o.clpu_multiple * rest_kw <= limit && r.energy_allows(rest_kw) {
            let mut close: Vec<(String, String)> = Vec::new();
            let mut reached = r.live.clone();
            for &h in &rest {
                for step in r.path_to(&groups[h].bus, &reached).unwrap_or_default() {
                    reached.insert(step.1.clone());
                    close.push(step);
                }
            }
            let block = r.block_of(&close, &rest);
            r.take(from, StepKind::Rest, close, block);
            end_s = Some(from);
            break;
        }
        let block = r.block_of(&path, &[g]);
        let kw = r.kw(&block);
        if !r.energy_allows(kw) {
            dark.push((g, DarkReason::Energy));
            continue;
        }
        // Units still starting add their power when they join: try each such time.
        let mut joins: Vec<f64> = r
            .carrying
            .iter()
            .map(|c| c.0)
            .filter(|&j| j > from)
            .collect();
        joins.sort_by(f64::total_cmp);
        let mut at = r.picked.earliest(from, kw, limit);
        for j in joins {
            if at.is_some_and(|a| a <= j) {
                break;
            }
            if let Some(a) = r.picked.earliest(j, kw, r.limit_at(j)) {
                at = Some(at.map_or(a, |b: f64| b.min(a)));
            }
        }
        let Some(at) = at else {
            dark.push((g, DarkReason::Power));
            continue;
        };
        r.take(at, StepKind::Pickup { target: g }, path, block);
    }
    dark.retain(|(g, _)| !r.on.contains(g));
    dark.sort_unstable();
    dark.dedup_by_key(|d| d.0);
    if end_s.is_none() && dark.is_empty() {
        end_s = r.steps.last().map(|s| s.t_s);
    }
    Ok(BlackStartPlan {
        source,
        open_first,
        steps: r.steps,
        dark,
        end_s,
    })
}

/// A black start under way in the planner.
struct Restoration<'a> {
    o: &'a BlackStartOptions,
    /// Each customer group's normal demand, kW.
    demand_kw: &'a [f64],
    /// The feeding tree from the black-start unit: bus, (branch, parent bus).
    tree: &'a BTreeMap<&'a str, (&'a str, &'a str)>,
    /// Customer groups by bus.
    by_bus: &'a BTreeMap<&'a str, Vec<usize>>,
    picked: Picked<'a>,
    /// Buses live.
    live: BTreeSet<String>,
    /// Customer groups on.
    on: BTreeSet<usize>,
    /// Units carrying load: (joins at s, power kW, energy kWh).
    carrying: Vec<(f64, f64, f64)>,
    steps: Vec<BlackStartStep>,
}

impl Restoration<'_> {
    /// (branch, bus) pairs from the live side to `bus`; `None` if the tree does not reach it.
    fn path_to(&self, bus: &str, live: &BTreeSet<String>) -> Option<Vec<(String, String)>> {
        let mut path = Vec::new();
        let mut at = bus;
        while !live.contains(at) {
            let &(via, parent) = self.tree.get(at)?;
            path.push((via.to_string(), at.to_string()));
            at = parent;
        }
        path.reverse();
        Some(path)
    }

    /// Branches between `bus` and the black-start unit.
    fn depth(&self, bus: &str) -> usize {
        let (mut n, mut at) = (0, bus);
        while let Some(&(_, parent)) = self.tree.get(at) {
            n += 1;
            at = parent;
        }
        n
    }

    /// The groups not yet on among `extra` and on the buses of `path`.
    fn block_of(&self, path: &[(String, String)], extra: &[usize]) -> Vec<usize> {
        let mut block: Vec<usize> = extra.to_vec();
        for (_, bus) in path {
            block.extend(self.by_bus.get(bus.as_str()).into_iter().flatten().copied());
        }
        block.sort_unstable();
        block.dedup();
        block.retain(|g| !self.on.contains(g));
        block
    }

    fn kw(&self, groups: &[usize]) -> f64 {
        groups.iter().map(|&g| self.demand_kw[g]).sum()
    }

    /// Power of the units carrying load at `t`, less the reserve, kW.
    fn limit_at(&self, t: f64) -> f64 {
        self.carrying
            .iter()
            .filter(|c| c.0 <= t)
            .map(|c| c.1)
            .sum::<f64>()
            * (1.0 - self.o.reserve)
    }

    /// Whether the units' energy carries what is on plus `kw` over the horizon.
    fn energy_allows(&self, kw: f64) -> bool {
        let energy: f64 = self.carrying.iter().map(|c| c.2).sum();
        (self.picked.steady_kw() + kw) * self.o.energy_horizon_h <= energy
    }

    /// The earliest time of the next step.
    fn next_from(&self) -> f64 {
        self.steps
            .last()
            .map_or(0.0, |s| s.t_s + self.o.switching_interval_s)
    }

    /// A step at `t`: `path` closed, `block` picked up.
    fn take(&mut self, t: f64, kind: StepKind, path: Vec<(String, String)>, block: Vec<usize>) {
        let kw = self.kw(&block);
        if kw > 0.0 {
            self.picked.on.push((t, kw));
        }
        for (_, bus) in &path {
            self.live.insert(bus.clone());
        }
        self.on.extend(block.iter().copied());
        self.steps.push(BlackStartStep {
            t_s: t,
            kind,
            close: path.into_iter().map(|(b, _)| b).collect(),
            groups: block,
            picked_kw: kw,
            draw_kw: self.picked.draw_kw(t),
            limit_kw: self.limit_at(t),
        });
    }
}
