//! Cascading overloads in the tick, by Grid2Op's rules (kos_protection::cascade): after the
//! PowerFlow stage's relief, the branches still above their ratings are counted and tripped
//! as the rules say, the network solved again through the same relief after each round;
//! the world's switching follows. A branch tripped by a cascade is put back once its
//! cooldown is over and the power flow shows it stays within its rating.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_grid::PowerFlow;
use kos_protection::cascade::{CascadeRules, CascadeState, TripRule, step};
use kos_protection::flisr::restoration_ok;

use super::{Protection, apply_to_world, current_scene};
use crate::sim::grid::{Grid, solve_relieved};
use crate::sim::plan::DispatchPlan;

/// Kept between ticks per branch id: overflow steps, cooldown steps, tripped by a cascade
/// and not yet back.
pub(super) type Counters = BTreeMap<String, (u32, u32, bool)>;

/// The cascade check of a tick starting at `t`.
pub(super) fn check(world: &mut World, state: &mut Protection, rules: &CascadeRules, t: f64) {
    let Some(grid) = world.get_resource::<Grid>() else {
        return;
    };
    let Some(first) = grid.last.clone() else {
        return;
    };
    let net = &grid.model.network;
    let over = net
        .branches
        .iter()
        .zip(&first.branch_loading_pct)
        .any(|(b, &l)| b.in_service && b.rate_a_mva > 0.0 && l >= 100.0);
    if !over && state.cascade.is_empty() {
        return;
    }
    let ids: Vec<String> = grid
        .model
        .branch_assets
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let mut counts = CascadeState::new(ids.len());
    for (k, id) in ids.iter().enumerate() {
        if let Some(&(o, c, _)) = state.cascade.get(id) {
            counts.overflow_steps[k] = o;
            counts.cooldown[k] = c;
        }
    }
    let mut net = net.clone();
    let options = grid.options;
    let mut plan = world.resource::<DispatchPlan>().clone();
    let mut engine = PowerFlow::new();
    let out = step(&mut net, first, &mut counts, rules, |n| {
        solve_relieved(&mut engine, n, &options, &mut plan)
            .ok()
            .map(|(r, _)| r)
    });
    let tripped_before: Vec<String> = state
        .cascade
        .iter()
        .filter(|(_, v)| v.2)
        .map(|(id, _)| id.clone())
        .collect();
    state.cascade.clear();
    for (k, id) in ids.iter().enumerate() {
        let was = tripped_before.contains(id) || out.trips.iter().any(|t| t.branch == k);
        if counts.overflow_steps[k] > 0 || counts.cooldown[k] > 0 || was {
            state.cascade.insert(
                id.clone(),
                (counts.overflow_steps[k], counts.cooldown[k], was),
            );
        }
    }
    if out.trips.is_empty() {
        reconnect(world, state, t);
        return;
    }
    let scene = current_scene(world, &state.switched);
    for trip in &out.trips {
        let id = &ids[trip.branch];
        let cause = match trip.rule {
            TripRule::HardOverflow => format!(
                "cascade, round {}: loaded {:.0} %, above {:.0} % of its rating",
                trip.round,
                trip.loading_pct,
                100.0 * rules.hard_overflow_ratio
            ),
            TripRule::SustainedOverflow { steps } => format!(
                "cascade, round {}: loaded {:.0} %, above its rating for {steps} steps ({} allowed)",
                trip.round, trip.loading_pct, rules.steps_allowed
            ),
        };
        let customers = state.switch(&scene, [id.as_str()], false, t);
        state.tripped.insert(id.clone());
        state.event(t, id, "cascade_trip", &cause, customers);
    }
    if let Some(last) = &out.last {
        for &i in &out.collapsed {
            let buses = last.bus_island.iter().filter(|b| **b == Some(i)).count();
            let first_bus = last
                .bus_island
                .iter()
                .position(|b| *b == Some(i))
                .map_or(String::new(), |b| net.buses[b].name.clone());
            state.event(
                t,
                &first_bus,
                "collapse",
                &format!("the island of {buses} buses around {first_bus} collapsed: its power flow has no solution after the cascade"),
                0,
            );
        }
    }
    apply_to_world(world, &state.switched);
}

/// Puts back branches a cascade tripped whose cooldown is over, where the power flow shows
/// they stay within their ratings and voltages within the band.
fn reconnect(world: &mut World, state: &mut Protection, t: f64) {
    let ready: Vec<String> = state
        .cascade
        .iter()
        .filter(|(_, v)| v.2 && v.1 == 0)
        .map(|(id, _)| id.clone())
        .collect();
    if ready.is_empty() {
        return;
    }
    let Some(grid) = world.get_resource::<Grid>() else {
        return;
    };
    let net = grid.model.network.clone();
    let index: BTreeMap<&str, usize> = grid
        .model
        .branch_assets
        .iter()
        .enumerate()
        .map(|(k, (id, _))| (id.as_str(), k))
        .collect();
    let mut closed: Vec<bool> = net.branches.iter().map(|b| b.in_service).collect();
    let mut back = Vec::new();
    for id in &ready {
        let Some(&k) = index.get(id.as_str()) else {
            continue;
        };
        closed[k] = true;
        if restoration_ok(&net, &closed) {
            back.push(id.clone());
        } else {
            closed[k] = false;
        }
    }
    if back.is_empty() {
        return;
    }
    let scene = current_scene(world, &state.switched);
    for id in back {
        if let Err(e) = kos_protection::scene::check_closing(&scene, &id) {
            // Not tried again: an operator synchronises and closes it.
            state.cascade.remove(&id);
            state.event(t, &id, "rejected", &e, 0);
            continue;
        }
        let customers = state.switch(&scene, [id.as_str()], true, t);
        state.tripped.remove(&id);
        state.cascade.remove(&id);
        state.event(
            t,
            &id,
            "reconnect",
            "cooldown over; the power flow keeps it within its rating",
            customers,
        );
    }
    apply_to_world(world, &state.switched);
}
