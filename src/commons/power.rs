//! Power, and the energy until morning of an island on storage, allocated per energised
//! island. What an island can give: its units' reachable output this tick (renewables as
//! available, dispatchable units at their ramp limit, the grid tie at its import limit) less
//! the last losses, and its stores: at their discharge limit while tied, else spread evenly
//! until the morning hour (what the battery can give until morning). An island without a tie
//! also plans its energy until then: the batteries' charge above their least state of charge,
//! the dispatchable units at their rating for the hours (within their fuel) and wind by
//! persistence (solar is not counted beyond this tick: the battery must last on what is
//! certain, and a sunny hour only recharges it). A feeder's transformer caps what its consumers draw
//! together. Deferrable loads get nothing while the island is short; what they missed is
//! owed and released in the first hours with surplus, where households that spend tokens go
//! first (`slots`).

use std::collections::BTreeMap;

use bevy::ecs::entity::EntityHashMap;
use bevy::prelude::*;
use kos_commons::{Consumer, Group, Problem, allocate};
use kos_energy::storage::Battery;
use kos_grid::find_islands;
use kos_scene::network::{POD_POWER_FACTOR, demand_kw};
use kos_scene::{GeneratorKind, GeneratorSpec, LoadSpec, PodSpec, StorageSpec, TransformerSpec};
use serde::Serialize;

use super::slots::{Waiting, share_surplus};
use super::{CommonsSettings, CommonsState, EquityState, Member, Outcome, Share, TokenBook, bind};
use crate::model::*;
use crate::sim::SimClock;
use crate::sim::dispatch::battery;
use crate::sim::grid::Grid;
use crate::sim::plan::{DispatchPlan, UnitRole};
use crate::sim::wear::{BatteryWear, UnitWear};

/// The power allocation of one island.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerIsland {
    /// Asset id of its reference bus.
    pub reference: String,
    /// Held by a grid tie (no energy horizon).
    pub tied: bool,
    /// Hours until morning its energy is planned over (an island without a tie).
    pub horizon_h: Option<f64>,
    /// Power (and energy) shares.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Deferrable loads held back while short, kW.
    pub deferred_kw: f64,
    /// Households whose deferrable loads go first in the surplus, having spent tokens for it.
    pub priority_households: u32,
}

/// Energy a deferrable load missed while its island was short, owed to it in the hours with
/// surplus.
#[derive(Component, Debug, Clone, Copy, PartialEq, Default)]
pub struct Deferred {
    /// Energy owed, kWh.
    pub kwh: f64,
    /// Added to its demand this tick to pay it back, kW.
    pub released_kw: f64,
    /// Its households that bought priority for this slot.
    pub priority: u32,
}

/// The loads and pods with their demand, specs, shares and what they are owed.
type Consumers<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static Demand,
        Option<&'static Spec<LoadSpec>>,
        Option<&'static Spec<PodSpec>>,
        Option<&'static mut Share>,
        Option<&'static mut Deferred>,
    ),
>;

/// A consumer's demand over the hours `from_h..from_h + hours`, kWh (quarter-hour steps of
/// its profile).
fn energy_kwh(load: Option<&LoadSpec>, pod: Option<&PodSpec>, from_h: f64, hours: f64) -> f64 {
    let steps = (hours * 4.0).ceil().max(1.0) as usize;
    let dt = hours / steps as f64;
    (0..steps)
        .map(|s| {
            let h = (from_h + (s as f64 + 0.5) * dt).rem_euclid(24.0);
            let kw = match (load, pod) {
                (Some(l), _) => demand_kw(l.peak_kw, l.power_factor, &l.profile, h).0,
                (None, Some(p)) => demand_kw(p.power_kw, POD_POWER_FACTOR, &p.kind.profile(), h).0,
                _ => 0.0,
            };
            kw * dt
        })
        .sum()
}

/// The critical minimums' energy that the island's energy (capacity 1) cannot give, highest
/// priority served first: empty when they fit.
fn energy_shortfalls(p: &Problem) -> Vec<kos_commons::drf::Shortfall> {
    let need: f64 = p.consumers.iter().filter_map(|c| c.minimum.get(1)).sum();
    let mut left = p.capacity[1];
    if need <= left {
        return Vec::new();
    }
    let mut order: Vec<&Consumer> = p
        .consumers
        .iter()
        .filter(|c| !c.minimum.is_empty())
        .collect();
    order.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.id.cmp(&b.id)));
    let mut out = Vec::new();
    for c in order {
        let m = c.minimum[1];
        let got = m.min(left.max(0.0));
        left -= got;
        if got < m {
            out.push(kos_commons::drf::Shortfall {
                consumer: c.id.clone(),
                priority: c.priority,
                resource: "energy_kwh".into(),
                minimum: m,
                missing: m - got,
            });
        }
    }
    out
}

/// The power outcome of a tied island when everyone's demand (within its caps) fits its
/// capacity and every feeder's rating: `None` when someone must be limited.
fn plenty<'a>(
    capacity: f64,
    planned: impl Iterator<Item = &'a crate::sim::plan::PlannedConsumer>,
    consumers: &Consumers,
    s: &kos_scene::CommonsSpec,
    equity: &EquityState,
    feeder_of: &[Vec<usize>],
    feeder_cap: &dyn Fn(usize) -> f64,
) -> Option<Outcome> {
    let (mut total, mut minimums) = (0.0, 0.0);
    let mut on_feeder: BTreeMap<usize, f64> = BTreeMap::new();
    let mut weighted = Vec::new();
    for c in planned {
        let Ok((_, d, load, pod, ..)) = consumers.get(c.entity) else {
            continue;
        };
        let Some(m) = Member::of(load.map(|l| &l.0), pod.map(|p| &p.0), s) else {
            continue;
        };
        let kw = d.p_kw.max(0.0);
        let capped = [m.cap_kw, equity.cap_kw(m.id)]
            .into_iter()
            .flatten()
            .any(|cap| cap < kw);
        if capped {
            return None;
        }
        total += kw;
        let minimum = m.power_minimum(kw);
        minimums += minimum;
        if !m.deferrable && kw > minimum && capacity > 0.0 {
            weighted.push((kw - minimum) / capacity / m.weight);
        }
        for &f in &feeder_of[c.bus] {
            *on_feeder.entry(f).or_default() += kw;
        }
    }
    let fits = total <= capacity && on_feeder.iter().all(|(&f, &kw)| kw <= feeder_cap(f));
    fits.then(|| {
        Outcome::plenty(
            vec!["power_kw".into()],
            vec![capacity],
            vec![total],
            vec![minimums],
            &weighted,
        )
    })
}

/// Hours from `hour` to the next `morning` (local hours of day), at least a quarter hour.
pub fn hours_until(hour: f64, morning: f64) -> f64 {
    let h = (morning - hour).rem_euclid(24.0);
    if h < 0.25 { 24.0 } else { h }
}

/// The feeders: for each transformer, its id and rating in kW; and for each bus, the feeders
/// it is on (the buses reachable from a transformer's low-voltage bus without crossing a
/// transformer).
type Feeders = (Vec<(String, f64)>, Vec<Vec<usize>>);

fn feeders(grid: &Grid, transformers: &[&TransformerSpec]) -> Feeders {
    let model = &grid.model;
    let net = &model.network;
    let mut adjacent = vec![Vec::new(); net.buses.len()];
    for (k, (_, asset)) in model.branch_assets.iter().enumerate() {
        if *asset != kos_scene::network::BranchAsset::Transformer {
            let b = &net.branches[k];
            adjacent[b.from].push(b.to);
            adjacent[b.to].push(b.from);
        }
    }
    let mut list = Vec::new();
    let mut of_bus = vec![Vec::new(); net.buses.len()];
    for t in transformers {
        let Some(&lv) = model.bus_index.get(&t.lv_bus) else {
            continue;
        };
        let f = list.len();
        list.push((t.id.clone(), t.rating_kva * POD_POWER_FACTOR));
        of_bus[lv].push(f);
        let mut stack = vec![lv];
        while let Some(b) = stack.pop() {
            for &o in &adjacent[b] {
                if of_bus[o].last() != Some(&f) {
                    of_bus[o].push(f);
                    stack.push(o);
                }
            }
        }
    }
    (list, of_bus)
}

#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub(super) fn allocate_power(
    clock: Res<SimClock>,
    settings: Res<CommonsSettings>,
    grid: Res<Grid>,
    plan: Res<DispatchPlan>,
    equity: Res<EquityState>,
    mut state: ResMut<CommonsState>,
    mut book: ResMut<TokenBook>,
    units: Query<(
        Option<&Spec<StorageSpec>>,
        Option<&StateOfCharge>,
        Option<&BatteryWear>,
        Option<&UnitWear>,
        Option<&Spec<GeneratorSpec>>,
        Option<&IslandSocMin>,
    )>,
    transformers: Query<&Spec<TransformerSpec>>,
    mut cached: Local<Option<(u64, Feeders)>>,
    mut consumers: Consumers,
    mut commands: Commands,
) {
    let s = &settings.0;
    let net = &grid.model.network;
    let islands = find_islands(net, |k| net.branches[k].in_service);
    let dt_h = clock.tick_s as f64 / 3600.0;
    let hour = clock.hour_of_day();
    // The feeders change only with the grid (rebuilt when a module is plugged in or a rating
    // changes).
    if cached.as_ref().is_none_or(|c| c.0 != grid.generation) {
        let mut specs: Vec<&TransformerSpec> = transformers.iter().map(|t| &t.0).collect();
        specs.sort_by(|a, b| a.id.cmp(&b.id));
        *cached = Some((grid.generation, feeders(&grid, &specs)));
    }
    let (feeders, feeder_of) = &cached.as_ref().expect("just set").1;
    let mut result = Vec::new();
    // Shares to set, by entity, after the loop (consumers not in a held island: none).
    let mut limits: EntityHashMap<Option<f64>> = EntityHashMap::default();
    // Households with priority in each deferrable load's slot.
    let mut slots: EntityHashMap<u32> = EntityHashMap::default();
    book.spent_now = 0.0;
    for (id, island) in islands.islands.iter().enumerate() {
        let Some(reference) = island.reference else {
            continue;
        };
        let in_island = |bus: usize| islands.of_bus[bus] == Some(id);
        // What the island can give.
        let (mut power, mut energy) = (0.0, 0.0);
        // The stores' power: at their limit, and spread evenly until morning.
        let (mut store_peak, mut store_even) = (0.0, 0.0);
        let hours = hours_until(hour, s.morning_hour).min(24.0);
        let tied = plan
            .roles
            .iter()
            .enumerate()
            .any(|(g, r)| in_island(net.generators[g].bus) && matches!(r, UnitRole::Tie(_)));
        for (g, role) in plan.roles.iter().enumerate() {
            if !in_island(net.generators[g].bus) {
                continue;
            }
            let (storage, soc, bw, uw, spec, island_min) = units
                .get(grid.unit_entities[g])
                .unwrap_or((None, None, None, None, None, None));
            match *role {
                UnitRole::Renewable { available_kw } => {
                    power += available_kw;
                    let solar = spec.is_some_and(|g| matches!(g.kind, GeneratorKind::Solar { .. }));
                    if !solar {
                        energy += available_kw * hours;
                    }
                }
                UnitRole::Store(l) => {
                    store_peak += l.max_discharge_kw;
                    let mut e = 0.0;
                    if let (Some(b), Some(soc)) = (storage, soc) {
                        let model: Battery = battery(b);
                        let cf = bw.map_or(1.0, |w| w.capacity_factor);
                        let floor = island_min.map_or(b.soc_min, |m| m.0.min(b.soc_min));
                        e = ((soc.0 - floor).max(0.0) * b.energy_kwh * cf)
                            * model.discharge_efficiency;
                    }
                    energy += e;
                    store_even += if tied {
                        l.max_discharge_kw
                    } else {
                        l.max_discharge_kw.min(e / hours)
                    };
                }
                UnitRole::Dispatchable { range, .. } => {
                    // This tick within its ramp; over the hours at its rating, within its fuel.
                    power += range.max_kw;
                    let fuel = uw.and_then(|w| w.fuel_kwh).unwrap_or(f64::INFINITY);
                    let rated = spec.map_or(range.max_kw, |g| g.rated_kw);
                    if fuel > 0.0 {
                        energy += (rated * hours).min(fuel);
                    }
                }
                UnitRole::Tie(t) => power += t.import_kw,
                UnitRole::Measured(kw) => {
                    power += kw.max(0.0);
                    energy += kw.max(0.0) * hours;
                }
                UnitRole::Off => {}
            }
        }
        let losses = grid.last.as_ref().map_or(0.0, |r| {
            r.islands
                .iter()
                .find(|i| i.reference == Some(reference))
                .map_or(0.0, |i| i.losses_mw * 1000.0)
        });
        let horizon = (!tied).then_some(hours);

        // What each feeder's own units give: its consumers draw together at most the
        // transformer's rating plus that.
        let mut local = vec![0.0; feeders.len()];
        for (g, role) in plan.roles.iter().enumerate() {
            let kw = match *role {
                UnitRole::Renewable { available_kw } => available_kw,
                UnitRole::Store(l) => l.max_discharge_kw,
                UnitRole::Dispatchable { range, .. } => range.max_kw,
                UnitRole::Measured(kw) => kw.max(0.0),
                UnitRole::Tie(_) | UnitRole::Off => 0.0,
            };
            for &f in &feeder_of[net.generators[g].bus] {
                local[f] += kw;
            }
        }
        let feeder_cap = |f: usize| feeders[f].1 + local[f];
        // A tied island with enough for everyone (the usual case): no limits, no problem to
        // solve.
        if tied
            && let Some(island) = plenty(
                (power + store_peak - losses).max(0.0),
                plan.consumers.iter().filter(|c| in_island(c.bus)),
                &consumers,
                s,
                &equity,
                &feeder_of,
                &feeder_cap,
            )
        {
            for c in plan.consumers.iter().filter(|c| in_island(c.bus)) {
                limits.insert(c.entity, None);
            }
            result.push(PowerIsland {
                reference: net.buses[reference].name.clone(),
                tied,
                horizon_h: None,
                outcome: island,
                deferred_kw: 0.0,
                priority_households: 0,
            });
            continue;
        }
        // Who asks, in asset-id order (the plan's).
        let mut problem = Problem {
            resources: if tied {
                vec!["power_kw".into()]
            } else {
                vec!["power_kw".into(), "energy_kwh".into()]
            },
            capacity: if tied {
                vec![power]
            } else {
                vec![power, energy]
            },
            consumers: Vec::new(),
            groups: Vec::new(),
        };
        let mut deferrable = problem.clone();
        let mut entities = Vec::new();
        // What each asked before its caps, kW.
        let mut asked = Vec::new();
        let mut waiting = Vec::new();
        let mut bus_of = Vec::new();
        for c in plan.consumers.iter().filter(|c| in_island(c.bus)) {
            let Ok((_, d, load, pod, _, deferred)) = consumers.get(c.entity) else {
                continue;
            };
            let Some(m) = Member::of(load.map(|l| &l.0), pod.map(|p| &p.0), s) else {
                continue;
            };
            let cap = [m.cap_kw, equity.cap_kw(m.id)]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min);
            let kw = d.p_kw.max(0.0).min(cap);
            let mut demand = vec![kw];
            let mut minimum = vec![m.power_minimum(kw)];
            if let Some(h) = horizon {
                let e = energy_kwh(load.map(|l| &l.0), pod.map(|p| &p.0), hour, h).min(cap * h);
                demand.push(e);
                minimum.push(m.energy_minimum(e, h));
            }
            let consumer = Consumer {
                id: m.id.to_string(),
                demand,
                weight: m.weight,
                priority: m.priority(),
                minimum: if minimum.iter().any(|x| *x > 0.0) {
                    minimum
                } else {
                    Vec::new()
                },
            };
            if m.deferrable {
                deferrable.consumers.push(consumer);
                waiting.push(Waiting {
                    entity: c.entity,
                    id: m.id,
                    households: m.households,
                    priority: deferred.map_or(0, |x| x.priority),
                });
            } else {
                problem.consumers.push(consumer);
                entities.push(c.entity);
                asked.push(d.p_kw.max(0.0));
                bus_of.push(c.bus);
            }
        }
        // Each feeder's consumers.
        let mut members: Vec<Vec<String>> = vec![Vec::new(); feeders.len()];
        for (c, &bus) in problem.consumers.iter().zip(&bus_of) {
            for &f in &feeder_of[bus] {
                members[f].push(c.id.clone());
            }
        }
        for (f, members) in members.into_iter().enumerate() {
            if !members.is_empty() {
                let mut cap = vec![Some(feeder_cap(f))];
                cap.resize(problem.resources.len(), None);
                problem.groups.push(Group {
                    id: feeders[f].0.clone(),
                    members,
                    cap,
                });
            }
        }
        if problem.validate().is_err() || deferrable.validate().is_err() {
            // Numbers out of range (a telemetry value the ingest let through): leave the
            // island to the priority shedding rather than allocate nonsense.
            continue;
        }
        // An island plans its stores to last until morning; when even the critical minimums'
        // energy does not fit, they are served now at the stores' limit (the clinic is not cut
        // to stretch the battery), the energy missing is reported, assigned to the lowest
        // priorities first, and nobody else gets any.
        let energy_short = horizon
            .map(|_| energy_shortfalls(&problem))
            .unwrap_or_default();
        let stores = if energy_short.is_empty() {
            store_even
        } else {
            store_peak
        };
        problem.capacity[0] = (power + stores - losses).max(0.0);
        if !energy_short.is_empty() {
            problem.capacity[1] = problem
                .consumers
                .iter()
                .map(|c| c.minimum.get(1).copied().unwrap_or(0.0))
                .sum();
        }
        let a = allocate(&problem);
        let mut outcome = Outcome::of(&problem, &a);
        if !energy_short.is_empty() {
            outcome.capacity[1] = energy;
            outcome.minimums_met = false;
            outcome.short = true;
            outcome.shortfalls.extend(energy_short);
            outcome.shortfalls.sort_by(|a, b| {
                b.priority
                    .cmp(&a.priority)
                    .then(a.consumer.cmp(&b.consumer))
            });
        }
        // A limit for whoever gets less than it asks: cut by the shortage, or held to a cap.
        for (i, &e) in entities.iter().enumerate() {
            let cut = outcome.short && a.satisfied[i] < 1.0 - 1e-9;
            let capped = asked[i] > problem.consumers[i].demand[0] + 1e-9;
            limits.insert(e, (cut || capped).then_some(a.amounts[i][0]));
        }
        // Deferrable loads: the leftover when nobody else is short, else nothing.
        let mut deferred_kw = 0.0;
        let mut priority_households = 0;
        if !deferrable.consumers.is_empty() {
            let left: Vec<f64> = (0..problem.capacity.len())
                .map(|k| (problem.capacity[k] - outcome.allocated[k]).max(0.0))
                .collect();
            let mut got = vec![vec![0.0; left.len()]; deferrable.consumers.len()];
            let mut priority: Vec<u32> = waiting.iter().map(|w| w.priority).collect();
            if !outcome.short {
                deferrable.capacity = left;
                (got, priority) =
                    share_surplus(&deferrable, &waiting, s.slot_priority_tokens, &mut book);
            }
            for (i, w) in waiting.iter().enumerate() {
                let e = w.entity;
                let want = deferrable.consumers[i].demand[0];
                let gets = got[i][0];
                let cut = gets < want - 1e-9;
                limits.insert(e, cut.then_some(gets));
                slots.insert(e, priority[i]);
                priority_households += priority[i];
                deferred_kw += want - gets;
                outcome.demand[0] += want;
                outcome.allocated[0] += gets;
                outcome.short |= cut;
            }
        }
        result.push(PowerIsland {
            reference: net.buses[reference].name.clone(),
            tied,
            horizon_h: horizon,
            outcome,
            deferred_kw,
            priority_households,
        });
    }
    // Bind the shares (none outside the held islands); owe the deferrable loads what they
    // missed.
    for (e, d, load, _, share, deferred) in &mut consumers {
        let limit = limits.get(&e).copied().flatten();
        let deferrable = load.is_some_and(|l| l.priority == kos_scene::Priority::Deferrable);
        let missed = limit.map_or(0.0, |l| (d.p_kw - l).max(0.0)) * dt_h;
        let paid = deferred
            .as_ref()
            .map_or(0.0, |x| x.released_kw * d.fraction)
            * dt_h;
        let priority = slots.get(&e).copied();
        match deferred {
            Some(mut x) => {
                x.kwh = (x.kwh + missed - paid).max(0.0);
                // The slot ends when the load gets all it asks and is owed nothing.
                x.priority = if x.kwh <= 0.0 && limit.is_none() {
                    0
                } else {
                    priority.unwrap_or(x.priority)
                };
            }
            None if deferrable && (missed > 0.0 || priority.is_some_and(|p| p > 0)) => {
                let priority = priority.unwrap_or(0);
                commands.entity(e).insert(Deferred {
                    kwh: missed,
                    released_kw: 0.0,
                    priority,
                });
            }
            None => {}
        }
        bind(e, share, &mut commands, |s| &mut s.power_kw, limit);
    }
    state.power = result;
}

/// Adds to a deferrable load's demand what it is owed, up to its rating, while its island
/// was not short in the last allocation (Environment set, after the profiles).
pub(super) fn release_deferred(
    clock: Res<SimClock>,
    mut q: Query<(&mut Demand, &mut Deferred, &Spec<LoadSpec>, Option<&Share>)>,
) {
    let dt_h = clock.tick_s as f64 / 3600.0;
    for (mut d, mut owed, spec, share) in &mut q {
        let short = share.is_some_and(|s| s.power_kw.is_some());
        owed.released_kw = if short || owed.kwh <= 0.0 {
            0.0
        } else {
            (owed.kwh / dt_h).min((spec.peak_kw - d.p_kw).max(0.0))
        };
        d.p_kw += owed.released_kw;
    }
}
