//! The dispatch plan of a tick: each unit's role and setpoint and each consumer's share.
//! Dispatch writes it; the power flow, its relief and the energy accounting read it.

use bevy::prelude::*;
use kos_energy::balance::{StoreLimits, TieLimits, UnitRange};

/// Where a unit sits in the merit order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UnitRole {
    /// Solar or wind: takes what the weather gives, curtailed only in surplus.
    Renewable {
        /// Available power, kW.
        available_kw: f64,
    },
    /// Battery.
    Store(StoreLimits),
    /// CHP or bio unit, with its minimum stable output.
    Dispatchable {
        /// Reachable range this tick, kW.
        range: UnitRange,
        /// Minimum stable output, kW.
        min_stable_kw: f64,
    },
    /// Grid tie.
    Tie(TieLimits),
    /// Output measured this tick (telemetry): taken as given, kW.
    Measured(f64),
    /// Out of service, or in an island no source holds.
    Off,
}

/// One consumer (load or pod) in the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedConsumer {
    /// Its entity.
    pub entity: Entity,
    /// Bus index.
    pub bus: usize,
    /// Demand, kW.
    pub demand_kw: f64,
    /// Demand, kvar.
    pub demand_kvar: f64,
    /// The commons' limit on its power this tick, kW (infinite: none).
    pub limit_kw: f64,
    /// Shedding class (0 deferrable, 1 essential, 2 critical).
    pub shed_class: usize,
    /// Share served, 0 to 1.
    pub fraction: f64,
}

impl PlannedConsumer {
    /// What it may draw: its demand within the commons' limit, kW.
    pub fn allowed_kw(&self) -> f64 {
        self.demand_kw.min(self.limit_kw).max(0.0)
    }
}

/// The plan of this tick: a role and setpoint per unit (network generator order) and the
/// consumers, in asset-id order.
#[derive(Resource, Debug, Clone, Default)]
pub struct DispatchPlan {
    /// Role of each unit.
    pub roles: Vec<UnitRole>,
    /// Setpoint of each unit, kW.
    pub setpoint_kw: Vec<f64>,
    /// Consumers.
    pub consumers: Vec<PlannedConsumer>,
    /// Per unit: a battery in an island without a grid tie, which may use the reserve a mode
    /// holds (down to [`IslandSocMin`](crate::model::IslandSocMin)).
    pub reserve_released: Vec<bool>,
    pub(super) order: ConsumerOrder,
}

/// Where each consumer goes in the plan: kept between ticks while the consumer entities (in
/// the query's order), their specs and the grid stay the same, since looking up ten
/// thousand buses by id and sorting as many ids took a sixth of a large scene's tick.
#[derive(Debug, Clone, Default)]
pub(super) struct ConsumerOrder {
    /// [`Grid::generation`](super::grid::Grid::generation) it was built for.
    pub(super) grid: u64,
    /// Consumer entities in the query's order.
    pub(super) seen: Vec<Entity>,
    /// For each, its place in asset-id order, bus and shedding class (`None`: not on a
    /// bus of the grid).
    pub(super) place: Vec<Option<(usize, usize, usize)>>,
    /// Consumers placed.
    pub(super) placed: usize,
}
