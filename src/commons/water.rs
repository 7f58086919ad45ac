//! Water for the whole community. What there is per hour: the works' output while they have
//! power, plus the stores (the works' reservoir, then the depots' drinking water) spread over
//! what is left of the hours they must last once the works are down
//! (`water_reserve_hours`). Households ask their rate and keep
//! Sphere's minimum per person; the clinic keeps all it asks and the shelters half, before
//! anyone else is served. What is allotted beyond the works' output is drawn from the stores;
//! output beyond what is allotted refills the reservoir.

use bevy::prelude::*;
use kos_scene::{DepotSpec, PodKind, PodSpec};
use serde::Serialize;

use super::{Ask, CommonsSettings, CommonsState, Member, Outcome, Share, bind_all, share_one};
use crate::model::*;
use crate::sim::SimClock;
use crate::sim::plan::DispatchPlan;
use crate::sim::storage::{StockLevels, is_water};

/// The water outcome of a tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaterOutcome {
    /// Some works have power and pump.
    pub works_up: bool,
    /// Output of the works, l/h.
    pub production_l_per_h: f64,
    /// Water held in the reservoirs and the depots, m3.
    pub stored_m3: f64,
    /// Hours the stores last at this tick's draw (`None`: not drawn).
    pub hours_left: Option<f64>,
    /// Shares.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What the works' reservoirs hold now, m3 (the scene gives their capacity, full at the
/// start).
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct WaterStores {
    /// Level and capacity of each works' reservoir by pod id, m3.
    pub reservoir_m3: std::collections::BTreeMap<String, (f64, f64)>,
    /// When the works went down (local time, s), while they are.
    pub down_since_s: Option<i64>,
    /// Water each load and pod has drawn since the start, litres: its ration while water is
    /// rationed, else what it asks.
    pub drawn_l: std::collections::BTreeMap<Entity, f64>,
}

/// Drinking water the depots hold, m3.
fn drinking_water(depots: &[(&AssetTag, &Spec<DepotSpec>, Mut<StockLevels>)]) -> f64 {
    depots
        .iter()
        .flat_map(|(_, spec, levels)| {
            spec.stocks
                .iter()
                .zip(&levels.quantity)
                .filter(|(st, _)| is_water(&st.resource, &st.unit))
                .map(|(_, q)| *q)
        })
        .sum()
}

#[allow(clippy::type_complexity)]
pub(super) fn allocate_water(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    mut stores: ResMut<WaterStores>,
    mut state: ResMut<CommonsState>,
    plan: Res<DispatchPlan>,
    mut consumers: Query<(
        Entity,
        &AssetTag,
        &Demand,
        Option<&Spec<kos_scene::LoadSpec>>,
        Option<&Spec<PodSpec>>,
        Option<&mut Share>,
    )>,
    mut depots: Query<(&AssetTag, &Spec<DepotSpec>, &mut StockLevels)>,
    mut commands: Commands,
) {
    let s = &settings.0;
    let dt_h = clock.tick_s as f64 / 3600.0;
    // The works.
    let mut production = 0.0;
    let mut works_up = false;
    let mut any_works = false;
    // In asset-id order (the dispatch plan's): the same problem whatever the entities' order.
    let list: Vec<_> = plan
        .consumers
        .iter()
        .filter_map(|c| consumers.get(c.entity).ok())
        .collect();
    for (_, tag, d, _, pod, _) in &list {
        if let Some(p) = pod.filter(|p| p.kind == PodKind::WaterUtility) {
            any_works = true;
            // Full at the start; the capacity follows the spec.
            let r = stores
                .reservoir_m3
                .entry(tag.0.clone())
                .or_insert((p.reservoir_m3, p.reservoir_m3));
            r.1 = p.reservoir_m3;
            r.0 = r.0.min(r.1);
            if d.served && d.fraction > 0.5 {
                works_up = true;
                production += p.water_m3_per_day * 1000.0 / 24.0;
            }
        }
    }
    if !any_works {
        state.water = None;
        return;
    }
    let reservoir: f64 = stores.reservoir_m3.values().map(|r| r.0).sum();
    let mut depot_list: Vec<_> = depots.iter_mut().collect();
    depot_list.sort_by(|a, b| a.0.cmp(b.0));
    let depot_water = drinking_water(&depot_list);
    let stored = reservoir + depot_water;
    // The stores are spread over what is left of the hours they must last since the works
    // went down: an even ration, not one that shrinks each hour.
    let now = clock.now_s();
    stores.down_since_s = if works_up {
        None
    } else {
        Some(stores.down_since_s.unwrap_or(now))
    };
    let since_h = stores
        .down_since_s
        .map_or(0.0, |t| (now - t) as f64 / 3600.0);
    let left_h = (s.water_reserve_hours - since_h).max(dt_h);
    let capacity = production + stored * 1000.0 / left_h;

    // Who asks.
    let mut asks = Vec::new();
    for (e, _, _, load, pod, _) in &list {
        if pod.is_some_and(|p| p.kind == PodKind::WaterUtility) {
            continue;
        }
        let Some(m) = Member::of(load.map(|l| &l.0), pod.map(|p| &p.0), s) else {
            continue;
        };
        let want = m.water_l_per_h.max(0.0);
        if want <= 0.0 {
            continue;
        }
        let (minimum, priority) = m.water_minimum(want, s);
        asks.push(Ask {
            entity: *e,
            id: m.id,
            want,
            minimum,
            weight: m.weight,
            priority,
        });
    }
    let Some((outcome, limit)) = share_one("water_l_per_h", capacity, &asks) else {
        return;
    };
    for a in &asks {
        let given = limit.get(&a.entity).copied().unwrap_or(a.want);
        *stores.drawn_l.entry(a.entity).or_default() += given * dt_h;
    }
    drop(asks);
    drop(list);
    bind_all(
        consumers.iter_mut().map(|(e, .., share)| (e, share)),
        &limit,
        &mut commands,
        |s| &mut s.water_l_per_h,
    );

    // Draw on the stores (reservoirs first, then the depots in proportion), or refill.
    let used = outcome.allocated[0];
    let mut from_stores_m3 = (used - production) * dt_h / 1000.0;
    if from_stores_m3 < 0.0 {
        // Output to spare refills the reservoirs up to their capacity.
        let mut spare = -from_stores_m3;
        for (level, cap) in stores.reservoir_m3.values_mut() {
            let add = (*cap - *level).clamp(0.0, spare);
            *level += add;
            spare -= add;
        }
        from_stores_m3 = 0.0;
    }
    let draw_rate_m3_h = from_stores_m3 / dt_h;
    for (level, _) in stores.reservoir_m3.values_mut() {
        let take = level.min(from_stores_m3);
        *level -= take;
        from_stores_m3 -= take;
    }
    for (_, spec, levels) in &mut depot_list {
        for (k, st) in spec.stocks.iter().enumerate() {
            if !is_water(&st.resource, &st.unit) {
                continue;
            }
            let q = levels.quantity[k];
            if from_stores_m3 > 0.0 && depot_water > 0.0 {
                let take = (from_stores_m3 * q / depot_water).min(q);
                levels.quantity[k] = q - take;
            }
            levels.days_remaining[k] =
                (draw_rate_m3_h > 0.0).then(|| (reservoir + depot_water) / draw_rate_m3_h / 24.0);
        }
    }
    state.water = Some(WaterOutcome {
        works_up,
        production_l_per_h: production,
        stored_m3: stores.reservoir_m3.values().map(|r| r.0).sum::<f64>()
            + drinking_water(&depot_list),
        hours_left: (draw_rate_m3_h > 0.0).then(|| stored / draw_rate_m3_h),
        outcome,
    });
}
