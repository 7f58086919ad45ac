//! The Stores set: batteries take or give the energy the power flow says they did. (The
//! depots' water is drawn by the commons' water rationing.)

use bevy::prelude::*;
use kos_scene::{DepotSpec, StorageSpec};

use super::dispatch::battery;
use super::wear::BatteryWear;
use super::{SimClock, SimSet};
use crate::model::*;

/// What a depot holds now (its scene spec holds what it held at the start).
#[derive(Component, Debug, Clone, PartialEq)]
pub struct StockLevels {
    /// Quantity of each stock, in the order and units of the depot's spec.
    pub quantity: Vec<f64>,
    /// Days each stock lasts at the present rate of use (`None`: not being drawn).
    pub days_remaining: Vec<Option<f64>>,
}

impl StockLevels {
    /// Levels at the start: the spec's quantities.
    pub fn of(spec: &DepotSpec) -> Self {
        Self {
            quantity: spec.stocks.iter().map(|s| s.quantity).collect(),
            days_remaining: vec![None; spec.stocks.len()],
        }
    }
}

/// Whether a stock is drinking water, in cubic metres.
pub(crate) fn is_water(resource: &str, unit: &str) -> bool {
    resource.to_ascii_lowercase().contains("water") && unit.eq_ignore_ascii_case("m3")
}

#[allow(clippy::type_complexity)]
pub(crate) fn integrate_batteries(
    clock: Res<SimClock>,
    grid: Res<super::grid::Grid>,
    plan: Res<super::plan::DispatchPlan>,
    mut batteries: Query<(
        Entity,
        &Spec<StorageSpec>,
        &UnitOutput,
        &mut StateOfCharge,
        Option<&BatteryWear>,
        Option<&IslandSocMin>,
    )>,
) {
    let dt_h = clock.tick_s as f64 / 3600.0;
    let released: Vec<Entity> = grid
        .unit_entities
        .iter()
        .zip(&plan.reserve_released)
        .filter(|(_, r)| **r)
        .map(|(e, _)| *e)
        .collect();
    for (e, spec, out, mut soc, wear, island_min) in &mut batteries {
        let p = if out.energised { out.p_kw } else { 0.0 };
        let cf = wear.map_or(1.0, |w| w.capacity_factor);
        // A battery in an island without its tie may use the reserve a mode holds.
        let mut b = battery(spec);
        if released.contains(&e) {
            b.soc_min = island_min.map_or(b.soc_min, |m| m.0.min(b.soc_min));
        }
        soc.0 = b.step(soc.0, cf, p, dt_h);
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(FixedUpdate, integrate_batteries.in_set(SimSet::Stores));
}
