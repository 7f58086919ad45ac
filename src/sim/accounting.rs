//! The energy balance of every island after the power flow: generation by source, storage,
//! load served and shed, curtailment, losses, and what does not add up.

use bevy::prelude::*;
use kos_grid::{IslandStatus, Network, PowerFlowResult};
use kos_scene::{GeneratorKind, GeneratorSpec};
use serde::Serialize;

use super::plan::{DispatchPlan, UnitRole};

/// Where a unit's energy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Photovoltaics.
    Solar,
    /// Wind turbines.
    Wind,
    /// Combined heat and power.
    Chp,
    /// Biogas or biomass.
    Bio,
    /// Registry modules (hydro and others).
    Other,
    /// The regional grid, through a tie.
    Grid,
    /// Batteries.
    Storage,
}

impl Source {
    /// Source of a generation module.
    pub fn of(kind: &GeneratorKind) -> Self {
        match kind {
            GeneratorKind::Solar { .. } => Self::Solar,
            GeneratorKind::Wind { .. } => Self::Wind,
            GeneratorKind::Chp { .. } => Self::Chp,
            GeneratorKind::Bio { .. } => Self::Bio,
            GeneratorKind::Module { .. } => Self::Other,
            GeneratorKind::GridTie { .. } => Self::Grid,
        }
    }

    /// Source of a unit: a generator's kind, or storage when it has no generator spec.
    pub fn of_unit(spec: Option<&GeneratorSpec>) -> Self {
        spec.map_or(Self::Storage, |s| Self::of(&s.kind))
    }

    /// Renewable: sun, wind, biogas and registry modules (hydro).
    pub fn renewable(self) -> bool {
        matches!(self, Self::Solar | Self::Wind | Self::Bio | Self::Other)
    }
}

/// Generation of an island by source, kW.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BySource {
    /// Photovoltaics.
    pub solar: f64,
    /// Wind turbines.
    pub wind: f64,
    /// Combined heat and power.
    pub chp: f64,
    /// Biogas and biomass.
    pub bio: f64,
    /// Registry modules (hydro and others).
    pub other: f64,
    /// Import from the regional grid (negative: export).
    pub grid: f64,
}

impl BySource {
    fn add(&mut self, s: Source, kw: f64) {
        match s {
            Source::Solar => self.solar += kw,
            Source::Wind => self.wind += kw,
            Source::Chp => self.chp += kw,
            Source::Bio => self.bio += kw,
            Source::Other => self.other += kw,
            Source::Grid => self.grid += kw,
            Source::Storage => {}
        }
    }

    /// Sum over sources, kW.
    pub fn total(&self) -> f64 {
        self.solar + self.wind + self.chp + self.bio + self.other + self.grid
    }
}

/// Demand not served, by priority, kW.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct ShedByPriority {
    /// Life-safety loads.
    pub critical: f64,
    /// Needed loads.
    pub essential: f64,
    /// Loads that can wait.
    pub deferrable: f64,
}

/// The energy balance of one island in one tick. Powers in kW.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IslandEnergy {
    /// Island number.
    pub id: usize,
    /// Generation by source.
    pub generation_kw: BySource,
    /// Battery output (positive discharging).
    pub storage_kw: f64,
    /// Demand delivered.
    pub load_served_kw: f64,
    /// Demand not delivered.
    pub load_shed_kw: ShedByPriority,
    /// Renewable power available but not taken.
    pub curtailed_kw: f64,
    /// Line, cable and transformer losses.
    pub losses_kw: f64,
    /// Generation + storage - served - losses: zero when the books close.
    pub balance_error_kw: f64,
}

/// The balance of every island of `result`, from the solved unit outputs and the plan.
pub fn island_energy(
    net: &Network,
    result: &PowerFlowResult,
    plan: &DispatchPlan,
    sources: &[Source],
) -> Vec<IslandEnergy> {
    let mut out: Vec<IslandEnergy> = result
        .islands
        .iter()
        .map(|i| IslandEnergy {
            id: i.id,
            generation_kw: BySource::default(),
            storage_kw: 0.0,
            load_served_kw: 0.0,
            load_shed_kw: ShedByPriority::default(),
            curtailed_kw: 0.0,
            losses_kw: i.losses_mw * 1000.0,
            balance_error_kw: 0.0,
        })
        .collect();
    let live = |bus: usize| {
        result.bus_island[bus].filter(|&i| result.islands[i].status != IslandStatus::Deenergised)
    };
    for (g, unit) in net.generators.iter().enumerate() {
        let Some(i) = live(unit.bus) else { continue };
        if !unit.in_service {
            continue;
        }
        let p = result.gen_pg_mw[g] * 1000.0;
        match sources.get(g).copied().unwrap_or(Source::Storage) {
            Source::Storage => out[i].storage_kw += p,
            s => out[i].generation_kw.add(s, p),
        }
        if let UnitRole::Renewable { available_kw } = plan.roles[g] {
            out[i].curtailed_kw += (available_kw - plan.setpoint_kw[g]).max(0.0);
        }
    }
    for c in &plan.consumers {
        let Some(i) = result.bus_island[c.bus] else {
            continue;
        };
        let served = if live(c.bus).is_some() {
            c.demand_kw * c.fraction
        } else {
            0.0
        };
        out[i].load_served_kw += served;
        let shed = c.demand_kw - served;
        let by = &mut out[i].load_shed_kw;
        match c.shed_class {
            0 => by.deferrable += shed,
            1 => by.essential += shed,
            _ => by.critical += shed,
        }
    }
    for e in &mut out {
        e.balance_error_kw =
            e.generation_kw.total() + e.storage_kw - e.load_served_kw - e.losses_kw;
    }
    out
}

/// Source of every unit, in network generator order.
pub fn unit_sources(
    unit_entities: &[Entity],
    specs: &Query<&crate::model::Spec<GeneratorSpec>>,
) -> Vec<Source> {
    unit_entities
        .iter()
        .map(|&e| Source::of_unit(specs.get(e).ok().map(|s| &s.0)))
        .collect()
}
