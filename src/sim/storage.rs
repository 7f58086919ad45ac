//! The Stores set: batteries take or give the energy the power flow says they did, and the
//! depots' water reserve covers the community when the waterworks has no power.

use bevy::prelude::*;
use kos_scene::{DepotSpec, PodKind, PodSpec, StorageSpec};

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
fn is_water(resource: &str, unit: &str) -> bool {
    resource.to_ascii_lowercase().contains("water") && unit.eq_ignore_ascii_case("m3")
}

pub(crate) fn integrate_batteries(
    clock: Res<SimClock>,
    mut batteries: Query<(
        &Spec<StorageSpec>,
        &UnitOutput,
        &mut StateOfCharge,
        Option<&BatteryWear>,
    )>,
) {
    let dt_h = clock.tick_s as f64 / 3600.0;
    for (spec, out, mut soc, wear) in &mut batteries {
        let p = if out.energised { out.p_kw } else { 0.0 };
        let cf = wear.map_or(1.0, |w| w.capacity_factor);
        soc.0 = battery(spec).step(soc.0, cf, p, dt_h);
    }
}

/// Water the community needs from the depots while the waterworks is down, m3 per day.
fn water_draw(pods: &Query<(&Spec<PodSpec>, &Demand)>) -> f64 {
    let waterworks_up = pods
        .iter()
        .filter(|(p, _)| p.kind == PodKind::WaterUtility)
        .any(|(_, d)| d.served && d.fraction > 0.5);
    if waterworks_up {
        return 0.0;
    }
    pods.iter()
        .filter(|(p, _)| p.kind != PodKind::WaterUtility)
        .map(|(p, _)| p.water_m3_per_day.max(0.0))
        .sum()
}

fn draw_water(
    clock: Res<SimClock>,
    pods: Query<(&Spec<PodSpec>, &Demand)>,
    mut depots: Query<(&AssetTag, &Spec<DepotSpec>, &mut StockLevels)>,
) {
    let per_day = water_draw(&pods);
    let dt_d = clock.tick_s as f64 / 86_400.0;
    // Depots in id order share the draw in proportion to what they hold.
    let mut list: Vec<_> = depots.iter_mut().collect();
    list.sort_by(|a, b| a.0.cmp(b.0));
    let held: f64 = list
        .iter()
        .flat_map(|(_, spec, levels)| {
            spec.stocks
                .iter()
                .zip(&levels.quantity)
                .filter(|(s, _)| is_water(&s.resource, &s.unit))
                .map(|(_, q)| *q)
        })
        .sum();
    for (_, spec, levels) in &mut list {
        for (k, s) in spec.stocks.iter().enumerate() {
            if !is_water(&s.resource, &s.unit) {
                continue;
            }
            let q = levels.quantity[k];
            if per_day > 0.0 && held > 0.0 {
                let take = (per_day * dt_d * q / held).min(q);
                levels.quantity[k] = q - take;
                levels.days_remaining[k] = Some(held / per_day);
            } else {
                levels.days_remaining[k] = None;
            }
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        FixedUpdate,
        (integrate_batteries, draw_water).in_set(SimSet::Stores),
    );
}
