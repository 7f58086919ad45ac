//! The commons in the tick (Allocate set): when the community is short of power, water,
//! shelter or mesh bandwidth, who gets how much, by kos-commons' critical minimums and
//! weighted Dominant Resource Fairness. The shares bind: a load's or pod's power share is its
//! load limit in the next tick's dispatch (smart-meter limiting instead of whole feeders
//! going dark), deferrable loads wait for the hours with surplus, water is rationed per
//! household from what the works and the stores can give, shelter places go to whole
//! families. Priority shedding stays as the fail-safe when the limits are not enough.
//!
//! Each resource family is allocated on its own: a household's uses of water and of power
//! are not complements, so tying them into one bundle would cut its water because power is
//! short. Power and the energy until morning are one bundle (the same use, now and over the
//! night).

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
mod equity;
mod mesh;
mod power;
mod shelter;
mod slots;
mod tokens;
mod water;

use bevy::prelude::*;
use kos_commons::drf::Shortfall;
use kos_commons::{Allocation, Problem};
use kos_scene::CommonsSpec;
use serde::Serialize;

pub use equity::EquityState;
pub use shelter::ShelterOutcome;
pub use tokens::{EventState, TokenBook};
pub use water::WaterStores;

pub use crate::model::Share;
use crate::sim::SimSet;
pub use kos_commons::Member;

/// The scene's commons settings.
#[derive(Resource, Debug, Clone, Default, PartialEq, Deref)]
pub struct CommonsSettings(pub CommonsSpec);

/// One consumer's share of a resource family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerShare {
    /// Load or pod id.
    pub id: String,
    /// Asked, per resource of the family.
    pub demand: Vec<f64>,
    /// Allotted, per resource, minimum included.
    pub amount: Vec<f64>,
    /// Its critical minimum, per resource.
    pub minimum: Vec<f64>,
    /// Fraction of its demand beyond the minimum served.
    pub satisfied: f64,
}

/// One allocation of a resource family (power in one island, the community's water, the
/// mesh).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Resource names with their units (`power_kw`, `energy_kwh`, `water_l_per_h`, ...).
    pub resources: Vec<String>,
    /// What there is of each.
    pub capacity: Vec<f64>,
    /// What is asked of each.
    pub demand: Vec<f64>,
    /// What is allotted of each.
    pub allocated: Vec<f64>,
    /// Critical minimums of each, summed.
    pub minimums: Vec<f64>,
    /// Some consumer gets less than it asks.
    pub short: bool,
    /// Every critical minimum is met.
    pub minimums_met: bool,
    /// Jain's fairness index of the fraction of their demand (beyond the minimum) served, over
    /// those that asked beyond their minimum: 1 when the shortage falls evenly or nobody is
    /// short.
    pub jain: f64,
    /// Jain's index of their weighted dominant shares (DRF's own measure).
    pub jain_drf: f64,
    /// Minimums not met, highest priority first.
    pub shortfalls: Vec<Shortfall>,
    /// Every consumer's share while short (for the overlay; the report carries each load's
    /// and pod's final share with its state instead, so that its size does not grow with
    /// consumers times ticks).
    #[serde(skip)]
    pub shares: Vec<ConsumerShare>,
}

impl Outcome {
    /// Summarises an allocation of `p`, with every consumer's share while short.
    fn of(p: &Problem, a: &Allocation) -> Self {
        let r = p.resources.len();
        let sum = |f: &dyn Fn(usize, usize) -> f64| -> Vec<f64> {
            (0..r)
                .map(|k| (0..p.consumers.len()).map(|i| f(i, k)).sum())
                .collect()
        };
        let min_of = |i: usize, k: usize| p.consumers[i].minimum.get(k).copied().unwrap_or(0.0);
        let short = a.satisfied.iter().any(|s| *s < 1.0 - 1e-9) || !a.shortfalls.is_empty();
        let shares = if short {
            p.consumers
                .iter()
                .enumerate()
                .map(|(i, c)| ConsumerShare {
                    id: c.id.clone(),
                    demand: c.demand.clone(),
                    amount: a.amounts[i].clone(),
                    minimum: (0..r).map(|k| min_of(i, k)).collect(),
                    satisfied: a.satisfied[i],
                })
                .collect()
        } else {
            Vec::new()
        };
        Self {
            resources: p.resources.clone(),
            capacity: p.capacity.clone(),
            demand: sum(&|i, k| p.consumers[i].demand[k]),
            allocated: sum(&|i, k| a.amounts[i][k]),
            minimums: sum(&min_of),
            short,
            minimums_met: a.shortfalls.is_empty(),
            jain: a.jain_served,
            jain_drf: a.jain,
            shortfalls: a.shortfalls.clone(),
            shares,
        }
    }
}

/// The commons' state after this tick's allocation: for the report and the overlay.
#[derive(Resource, Debug, Clone, Default, PartialEq, Serialize)]
pub struct CommonsState {
    /// Power and energy until morning, per energised island.
    pub power: Vec<power::PowerIsland>,
    /// Water for the whole community.
    pub water: Option<water::WaterOutcome>,
    /// The community mesh.
    pub mesh: Option<Outcome>,
    /// Shelter places, while a mode sends households to the shelters.
    pub shelter: Option<ShelterOutcome>,
    /// The conservation event on now (or that ended this tick).
    pub event: Option<tokens::Event>,
    /// Eco-tokens minted this tick.
    pub tokens_minted: f64,
    /// Eco-tokens spent this tick (on priority in the deferrable loads' slots).
    pub tokens_spent: f64,
    /// Herfindahl-Hirschman index of the owners' supply in each island (0 to 10,000), by
    /// the island's reference bus.
    pub hhi: std::collections::BTreeMap<String, f64>,
    /// Consumers held to their share after drawing above it: (resource, consumer, cap).
    pub capped: Vec<(String, String, f64)>,
}

impl Outcome {
    /// Enough for everyone: each gets what it asks. `weighted` are the weighted dominant
    /// shares of what each asks beyond its minimum (for DRF's own Jain index).
    fn plenty(
        resources: Vec<String>,
        capacity: Vec<f64>,
        demand: Vec<f64>,
        minimums: Vec<f64>,
        weighted: &[f64],
    ) -> Self {
        Self {
            resources,
            capacity,
            allocated: demand.clone(),
            demand,
            minimums,
            short: false,
            minimums_met: true,
            jain: 1.0,
            jain_drf: kos_commons::jain_index(weighted),
            shortfalls: Vec::new(),
            shares: Vec::new(),
        }
    }

    /// The same without the consumers' shares.
    fn summary(&self) -> Self {
        Self {
            resources: self.resources.clone(),
            capacity: self.capacity.clone(),
            demand: self.demand.clone(),
            allocated: self.allocated.clone(),
            minimums: self.minimums.clone(),
            short: self.short,
            minimums_met: self.minimums_met,
            jain: self.jain,
            jain_drf: self.jain_drf,
            shortfalls: self.shortfalls.clone(),
            shares: Vec::new(),
        }
    }
}

impl CommonsState {
    /// The state without the consumers' shares and the families' places (what the report
    /// keeps of each tick).
    pub fn summary(&self) -> Self {
        Self {
            power: self
                .power
                .iter()
                .map(|i| power::PowerIsland {
                    reference: i.reference.clone(),
                    tied: i.tied,
                    horizon_h: i.horizon_h,
                    outcome: i.outcome.summary(),
                    deferred_kw: i.deferred_kw,
                    priority_households: i.priority_households,
                })
                .collect(),
            water: self.water.as_ref().map(|w| water::WaterOutcome {
                works_up: w.works_up,
                production_l_per_h: w.production_l_per_h,
                stored_m3: w.stored_m3,
                hours_left: w.hours_left,
                outcome: w.outcome.summary(),
            }),
            mesh: self.mesh.as_ref().map(Outcome::summary),
            shelter: self.shelter.as_ref().map(ShelterOutcome::summary),
            event: self.event.clone(),
            tokens_minted: self.tokens_minted,
            tokens_spent: self.tokens_spent,
            hhi: self.hhi.clone(),
            capped: self.capped.clone(),
        }
    }
}

/// One consumer's ask of a single resource.
struct Ask<'a> {
    entity: Entity,
    id: &'a str,
    want: f64,
    minimum: f64,
    weight: f64,
    priority: u32,
}

/// Shares one resource among the asks: when they all fit, each gets what it asks and no
/// problem is solved; else by critical minimums and weighted DRF. The outcome, and the limit
/// of each consumer that gets less than it asks.
fn share_one(
    resource: &str,
    capacity: f64,
    asks: &[Ask],
) -> Option<(Outcome, std::collections::BTreeMap<Entity, f64>)> {
    let total: f64 = asks.iter().map(|a| a.want).sum();
    if total <= capacity {
        let weighted: Vec<f64> = asks
            .iter()
            .filter(|a| a.want > a.minimum && capacity > 0.0)
            .map(|a| (a.want - a.minimum) / capacity / a.weight)
            .collect();
        let outcome = Outcome::plenty(
            vec![resource.to_string()],
            vec![capacity],
            vec![total],
            vec![asks.iter().map(|a| a.minimum).sum()],
            &weighted,
        );
        return Some((outcome, Default::default()));
    }
    let problem = Problem {
        resources: vec![resource.to_string()],
        capacity: vec![capacity],
        consumers: asks
            .iter()
            .map(|a| kos_commons::Consumer {
                id: a.id.to_string(),
                demand: vec![a.want],
                weight: a.weight,
                minimum: if a.minimum > 0.0 {
                    vec![a.minimum]
                } else {
                    Vec::new()
                },
                priority: a.priority,
            })
            .collect(),
        groups: Vec::new(),
    };
    // Numbers out of range (a telemetry value the ingest let through): no allocation.
    problem.validate().ok()?;
    let a = kos_commons::allocate(&problem);
    let outcome = Outcome::of(&problem, &a);
    let limits = asks
        .iter()
        .enumerate()
        .filter(|&(i, _)| a.satisfied[i] < 1.0 - 1e-9)
        .map(|(i, ask)| (ask.entity, a.amounts[i][0]))
        .collect();
    Some((outcome, limits))
}

/// Sets one field of every consumer's share to its limit (none where `limits` has none).
fn bind_all<'a>(
    consumers: impl Iterator<Item = (Entity, Option<Mut<'a, Share>>)>,
    limits: &std::collections::BTreeMap<Entity, f64>,
    commands: &mut Commands,
    field: fn(&mut Share) -> &mut Option<f64>,
) {
    for (e, share) in consumers {
        bind(e, share, commands, field, limits.get(&e).copied());
    }
}

/// Sets one field of a consumer's share, inserting a share where the consumer has none (only
/// written when it changes, so that change detection means something).
fn bind(
    e: Entity,
    share: Option<Mut<Share>>,
    commands: &mut Commands,
    field: fn(&mut Share) -> &mut Option<f64>,
    value: Option<f64>,
) {
    match share {
        Some(mut s) => {
            if *field(s.bypass_change_detection()) != value {
                *field(&mut s) = value;
            }
        }
        None if value.is_some() => {
            let mut s = Share::default();
            *field(&mut s) = value;
            commands.entity(e).insert(s);
        }
        None => {}
    }
}

/// A number in [0, 1) from a seed, an id and an index: the same on every platform.
pub fn unit_hash(seed: u64, id: &str, k: u64) -> f64 {
    let mut z = kos_energy::variation::key_of(id)
        ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ k.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The commons' systems, resources and the `Share` of each consumer.
pub fn plugin(app: &mut App) {
    app.init_resource::<CommonsSettings>()
        .init_resource::<CommonsState>()
        .init_resource::<TokenBook>()
        .init_resource::<EventState>()
        .init_resource::<EquityState>()
        .init_resource::<water::WaterStores>();
    app.add_systems(
        FixedUpdate,
        (tokens::respond_to_events, power::release_deferred)
            .chain()
            .in_set(SimSet::Environment)
            .after(crate::sim::demand::follow_profiles),
    );
    app.add_systems(
        FixedUpdate,
        (
            power::allocate_power,
            water::allocate_water,
            mesh::allocate_mesh,
            shelter::allocate_shelter,
            equity::watch,
            tokens::settle,
        )
            .chain()
            .in_set(SimSet::Allocate),
    );
}
