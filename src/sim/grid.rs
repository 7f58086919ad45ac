//! The PowerFlow stage: gathers switch states, demands and unit setpoints from the world,
//! solves every energised island with kos-grid, and writes voltages, flows and outputs back.
//! The engine keeps its factorisations between ticks; they are rebuilt only when switching
//! changes the islands.

use std::collections::BTreeSet;

use bevy::prelude::*;
use kos_grid::{IslandStatus, PowerFlow, PowerFlowOptions, PowerFlowResult, Start};
use kos_scene::GridModel;

use kos_energy::relief::{Limits, ReliefRequest, relieve};

use super::accounting::{IslandEnergy, island_energy, unit_sources};
use super::alarms::{Alarm, Alarms, Severity};
use super::plan::{DispatchPlan, UnitRole};
use super::{SimClock, SimSet};
use crate::model::*;

/// The electrical model of the world and its solver.
#[derive(Resource)]
pub struct Grid {
    /// Network and asset index.
    pub model: GridModel,
    /// Solver options (warm start between ticks).
    pub options: PowerFlowOptions,
    /// Entity of each bus, by bus index.
    pub bus_entities: Vec<Entity>,
    /// Entity of each branch, by branch index.
    pub branch_entities: Vec<Entity>,
    /// Entity of each unit, by generator index.
    pub unit_entities: Vec<Entity>,
    /// Last result, as written to the world.
    pub last: Option<PowerFlowResult>,
    engine: PowerFlow,
    /// Relief changes still wanted after the last round of the tick (0: every limit held
    /// or was out of local reach).
    pub relief_pending: usize,
    /// Energy balance of each island after the last solve.
    pub energy: Vec<IslandEnergy>,
    /// Differs between any two grids built in this process: what is cached from one grid
    /// (bus indices, say) is checked against it.
    pub generation: u64,
    failing: BTreeSet<usize>,
    dark: BTreeSet<usize>,
    meshed_overloads: BTreeSet<usize>,
}

impl Grid {
    /// A grid for `model`, whose elements are the given entities.
    pub fn new(
        bus_entities: Vec<Entity>,
        branch_entities: Vec<Entity>,
        unit_entities: Vec<Entity>,
        model: GridModel,
    ) -> Self {
        Self {
            model,
            // Units cannot exceed their reactive capability.
            options: PowerFlowOptions {
                start: Start::Warm,
                enforce_q_limits: true,
                ..default()
            },
            bus_entities,
            branch_entities,
            unit_entities,
            last: None,
            engine: PowerFlow::new(),
            relief_pending: 0,
            energy: Vec::new(),
            generation: {
                static BUILT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
                BUILT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            failing: BTreeSet::new(),
            dark: BTreeSet::new(),
            meshed_overloads: BTreeSet::new(),
        }
    }
}

impl Grid {
    /// A grid for `model` whose elements are the world's assets of the same ids.
    pub fn for_world(world: &mut World, model: GridModel) -> Self {
        let ids: std::collections::BTreeMap<String, Entity> = world
            .query::<(Entity, &AssetTag)>()
            .iter(world)
            .map(|(e, t)| (t.0.clone(), e))
            .collect();
        let entity = |id: &str| ids.get(id).copied().unwrap_or(Entity::PLACEHOLDER);
        Self::new(
            model
                .network
                .buses
                .iter()
                .map(|b| entity(&b.name))
                .collect(),
            model
                .branch_assets
                .iter()
                .map(|(id, _)| entity(id))
                .collect(),
            model.unit_assets.iter().map(|(id, _)| entity(id)).collect(),
            model,
        )
    }
}

/// Set when assets were plugged in, unplugged or taken out of service at run time: the
/// electrical model is rebuilt from the world at the end of the Ingest stage, before the
/// dispatch plans with it.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GridDirty(pub bool);

/// Puts a unit (generator or battery) in or out of service; the grid is rebuilt when that
/// changes anything.
pub fn set_in_service(world: &mut World, e: Entity, in_service: bool) {
    let mut changed = false;
    if let Some(mut g) = world.get_mut::<Spec<kos_scene::GeneratorSpec>>(e) {
        changed |= std::mem::replace(&mut g.in_service, in_service) != in_service;
    }
    if let Some(mut s) = world.get_mut::<Spec<kos_scene::StorageSpec>>(e) {
        changed |= std::mem::replace(&mut s.in_service, in_service) != in_service;
    }
    if changed {
        world.insert_resource(GridDirty(true));
    }
}

/// Rebuilds the [`Grid`] from the world as it is now (the scene the world would save, so
/// specs, switch positions and states of charge as they stand), keeping the solver options.
/// For assets added or removed at run time (telemetry births and deaths, modules plugged in
/// from the overlay); the next solve includes them.
pub fn rebuild(world: &mut World) {
    let scene = crate::scene::save_scene(world);
    let options = world.get_resource::<Grid>().map(|g| g.options);
    let mut grid = Grid::for_world(world, kos_scene::build_grid(&scene));
    if let Some(options) = options {
        grid.options = options;
    }
    world.insert_resource(grid);
    world.insert_resource(GridDirty(false));
}

fn rebuild_if_dirty(world: &mut World) {
    if world.get_resource::<GridDirty>().is_some_and(|d| d.0) {
        rebuild(world);
    }
}

/// Power flows solved per tick to relieve network limits, after the first.
pub const RELIEF_ROUNDS: usize = 3;

/// The PowerFlow stage's solve; systems that adjust inputs for this tick order before it.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn solve_grid(
    mut grid: ResMut<Grid>,
    clock: Res<SimClock>,
    mut alarms: ResMut<Alarms>,
    mut plan: ResMut<DispatchPlan>,
    mut buses: Query<&mut BusVoltage>,
    mut branches: Query<&mut BranchFlow>,
    mut units: Query<&mut UnitOutput>,
    mut demands: Query<&mut Demand>,
    mut available: Query<&mut Available>,
    specs: Query<&Spec<kos_scene::GeneratorSpec>>,
) {
    let grid = &mut *grid;
    let plan = &mut *plan;
    let (result, relief) = match solve_relieved(
        &mut grid.engine,
        &mut grid.model.network,
        &grid.options,
        plan,
    ) {
        Ok(r) => r,
        Err(e) => {
            alarms.raise(Alarm {
                t: clock.now_text(),
                severity: Severity::Critical,
                asset: None,
                message: format!("power flow failed: {e}"),
            });
            return;
        }
    };
    grid.relief_pending = relief.changes.len() + relief.groups.len();
    for &k in &relief.meshed_overloads {
        let id = &grid.model.branch_assets[k].0;
        if !grid.meshed_overloads.contains(&k) {
            alarms.raise(Alarm {
                t: clock.now_text(),
                severity: Severity::Warning,
                asset: Some(id.clone()),
                message: format!(
                    "{id} is overloaded inside a mesh: local curtailment and shedding cannot relieve it; reconfigure the switches"
                ),
            });
        }
    }
    grid.meshed_overloads = relief.meshed_overloads.iter().copied().collect();

    // Alarms on changes of island state.
    let mut now_failing = BTreeSet::new();
    let mut now_dark = BTreeSet::new();
    for island in &result.islands {
        let first_bus = grid.model.network.buses[island_first_bus(&result, island.id)]
            .name
            .clone();
        match island.status {
            IslandStatus::NotConverged => {
                now_failing.insert(island.id);
                if !grid.failing.contains(&island.id) {
                    alarms.raise(Alarm {
                        t: clock.now_text(),
                        severity: Severity::Critical,
                        asset: island.max_mismatch_bus.map(|b| grid.model.network.buses[b].name.clone()),
                        message: format!(
                            "power flow of the island of {first_bus} did not converge (mismatch {:.2e} pu); keeping its last good state",
                            island.max_mismatch_pu
                        ),
                    });
                }
            }
            IslandStatus::Deenergised => {
                now_dark.insert(island.id);
                if !grid.dark.contains(&island.id) {
                    alarms.raise(Alarm {
                        t: clock.now_text(),
                        severity: Severity::Warning,
                        asset: Some(first_bus.clone()),
                        message: format!(
                            "{} buses around {first_bus} are de-energised: no source can hold them",
                            island.n_buses
                        ),
                    });
                }
            }
            IslandStatus::Solved => {}
        }
    }
    grid.failing = now_failing;
    grid.dark = now_dark;

    // Write back, except for islands that failed (they keep their last good state).
    let keep = |bus: usize| {
        result.bus_island[bus]
            .is_some_and(|id| result.islands[id].status == IslandStatus::NotConverged)
    };
    let live = |bus: usize| {
        result.bus_island[bus]
            .is_some_and(|id| result.islands[id].status != IslandStatus::Deenergised)
    };
    for (i, &e) in grid.bus_entities.iter().enumerate() {
        if keep(i) {
            continue;
        }
        if let Ok(mut v) = buses.get_mut(e) {
            *v = BusVoltage {
                vm_pu: result.vm_pu[i],
                va_deg: result.va_deg[i],
                island: result.bus_island[i],
                energised: live(i),
            };
        }
    }
    for (k, &e) in grid.branch_entities.iter().enumerate() {
        let br = &grid.model.network.branches[k];
        if keep(br.from) {
            continue;
        }
        if let Ok(mut f) = branches.get_mut(e) {
            *f = BranchFlow {
                p_from_kw: result.branch_pf_mw[k] * 1000.0,
                q_from_kvar: result.branch_qf_mvar[k] * 1000.0,
                p_to_kw: result.branch_pt_mw[k] * 1000.0,
                q_to_kvar: result.branch_qt_mvar[k] * 1000.0,
                loading_pct: result.branch_loading_pct[k],
                energised: br.in_service && live(br.from),
            };
        }
    }
    for (g, &e) in grid.unit_entities.iter().enumerate() {
        let bus = grid.model.network.generators[g].bus;
        if let Ok(mut a) = available.get_mut(e) {
            a.curtailed_kw = match plan.roles[g] {
                UnitRole::Renewable { available_kw } => {
                    (available_kw - plan.setpoint_kw[g]).max(0.0)
                }
                _ => 0.0,
            };
        }
        if keep(bus) {
            continue;
        }
        if let Ok(mut u) = units.get_mut(e) {
            u.setpoint_kw = plan.setpoint_kw[g];
            u.p_kw = result.gen_pg_mw[g] * 1000.0;
            u.q_kvar = result.gen_qg_mvar[g] * 1000.0;
            u.energised = live(bus) && grid.model.network.generators[g].in_service;
        }
    }
    for c in &plan.consumers {
        if let Ok(mut d) = demands.get_mut(c.entity) {
            d.fraction = c.fraction;
            d.served = live(c.bus);
        }
    }
    let sources = unit_sources(&grid.unit_entities, &specs);
    grid.energy = island_energy(&grid.model.network, &result, plan, &sources);
    grid.last = Some(result);
}

/// Solves `net` with the plan's demands and setpoints, then relieves network limits on the
/// plan (redispatch, curtailment, shedding by priority) and solves again, a bounded number
/// of times. Returns the last solution and the relief still wanted after it.
pub fn solve_relieved(
    engine: &mut PowerFlow,
    net: &mut kos_grid::Network,
    options: &PowerFlowOptions,
    plan: &mut DispatchPlan,
) -> Result<(PowerFlowResult, ReliefRequest), kos_grid::GridError> {
    plan.apply_to(net);
    let mut result = engine.solve(net, options)?;
    let mut relief = ReliefRequest::default();
    for _ in 0..RELIEF_ROUNDS {
        let injection = plan.net_injection_kw(net, &result.gen_pg_mw);
        relief = relieve(net, &result, &injection, &Limits::default());
        if relief.is_empty() {
            break;
        }
        plan.relieve(net, &relief);
        plan.apply_to(net);
        match engine.solve(net, options) {
            Ok(r) => result = r,
            Err(_) => break,
        }
    }
    Ok((result, relief))
}

fn island_first_bus(result: &PowerFlowResult, island: usize) -> usize {
    result
        .bus_island
        .iter()
        .position(|i| *i == Some(island))
        .unwrap_or(0)
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<GridDirty>();
    app.add_systems(
        FixedUpdate,
        (
            rebuild_if_dirty
                .in_set(SimSet::Environment)
                .before(super::environment::update_weather),
            solve_grid.in_set(SimSet::PowerFlow),
        ),
    );
}
