//! The PowerFlow stage: gathers switch states, demands and unit setpoints from the world,
//! solves every energised island with kos-grid, and writes voltages, flows and outputs back.
//! The engine keeps its factorisations between ticks; they are rebuilt only when switching
//! changes the islands.

use std::collections::BTreeSet;

use bevy::prelude::*;
use kos_grid::{IslandStatus, PowerFlow, PowerFlowOptions, PowerFlowResult, Start};
use kos_scene::GridModel;

use super::alarms::{Alarm, Alarms, Severity};
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
    failing: BTreeSet<usize>,
    dark: BTreeSet<usize>,
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
            failing: BTreeSet::new(),
            dark: BTreeSet::new(),
        }
    }
}

/// Bus index of each load and pod, for summing demand.
fn bus_of(model: &GridModel, bus_id: &str) -> Option<usize> {
    model.bus_index.get(bus_id).copied()
}

/// Set when assets were plugged in, unplugged or taken out of service at run time: the
/// electrical model is rebuilt from the world at the start of the next PowerFlow stage.
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GridDirty(pub bool);

/// Rebuilds the [`Grid`] from the world as it is now (the scene the world would save, so
/// specs, switch positions and states of charge as they stand), keeping the solver options.
/// For assets added or removed at run time (telemetry births and deaths, dispatch plugging
/// modules in); the next solve includes them.
pub fn rebuild(world: &mut World) {
    let scene = crate::scene::save_scene(world);
    let model = kos_scene::build_grid(&scene);
    let ids: std::collections::BTreeMap<String, Entity> = world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .map(|(e, t)| (t.0.clone(), e))
        .collect();
    let entity = |id: &str| ids.get(id).copied().unwrap_or(Entity::PLACEHOLDER);
    let options = world.get_resource::<Grid>().map(|g| g.options);
    let mut grid = Grid::new(
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
    );
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

/// The PowerFlow stage's solve; systems that adjust inputs for this tick order before it.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
pub fn solve_grid(
    mut grid: ResMut<Grid>,
    clock: Res<SimClock>,
    mut alarms: ResMut<Alarms>,
    switches: Query<&SwitchState>,
    mut buses: Query<&mut BusVoltage>,
    mut branches: Query<&mut BranchFlow>,
    mut units: Query<&mut UnitOutput>,
    mut demands: Query<(
        &mut Demand,
        Option<&Spec<kos_scene::LoadSpec>>,
        Option<&Spec<kos_scene::PodSpec>>,
    )>,
) {
    let grid = &mut *grid;
    // Gather.
    for (k, &e) in grid.branch_entities.iter().enumerate() {
        if let Ok(s) = switches.get(e) {
            grid.model.network.branches[k].in_service = s.closed;
        }
    }
    // Sum demand per bus in asset-id order, so the result does not depend on entity order.
    let mut wanted: Vec<(&str, Option<usize>, f64, f64)> = demands
        .iter()
        .filter_map(|(d, load, pod)| {
            let (id, bus) = match (load, pod) {
                (Some(l), _) => (l.id.as_str(), l.bus.as_str()),
                (None, Some(p)) => (p.id.as_str(), p.bus.as_str()),
                _ => return None,
            };
            Some((id, bus_of(&grid.model, bus), d.p_kw, d.q_kvar))
        })
        .collect();
    wanted.sort_by(|a, b| a.0.cmp(b.0));
    let net = &mut grid.model.network;
    for b in &mut net.buses {
        b.pd_mw = 0.0;
        b.qd_mvar = 0.0;
    }
    for (_, bus, p, q) in wanted {
        if let Some(b) = bus {
            net.buses[b].pd_mw += p / 1000.0;
            net.buses[b].qd_mvar += q / 1000.0;
        }
    }
    for (g, &e) in grid.unit_entities.iter().enumerate() {
        if let Ok(u) = units.get(e) {
            grid.model.network.generators[g].pg_mw = u.setpoint_kw / 1000.0;
        }
    }

    // Solve.
    let result = match grid.engine.solve(&grid.model.network, &grid.options) {
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
        if keep(bus) {
            continue;
        }
        if let Ok(mut u) = units.get_mut(e) {
            u.p_kw = result.gen_pg_mw[g] * 1000.0;
            u.q_kvar = result.gen_qg_mvar[g] * 1000.0;
            u.energised = live(bus) && grid.model.network.generators[g].in_service;
        }
    }
    for (mut d, load, pod) in &mut demands {
        let bus = load
            .map(|l| l.bus.as_str())
            .or(pod.map(|p| p.bus.as_str()))
            .and_then(|b| bus_of(&grid.model, b));
        d.served = bus.is_some_and(live);
    }
    grid.last = Some(result);
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
        (rebuild_if_dirty, solve_grid)
            .chain()
            .in_set(SimSet::PowerFlow),
    );
}
