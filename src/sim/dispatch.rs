//! The Dispatch set: balances every island for this tick with kos-energy's balancer and
//! writes unit setpoints, curtailment and the share of each demand served. The PowerFlow set
//! then solves the plan and relieves network limits on it ([`DispatchPlan::relieve`]).

use bevy::prelude::*;
use kos_energy::balance::{
    Consumer, IslandOffer, SHED_CLASSES, StoreLimits, TieLimits, UnitRange, balance,
};
use kos_energy::dispatchable::ThermalUnit;
use kos_energy::relief::{Element, ReliefRequest, apply_in_merit_order};
use kos_energy::storage::Battery;
use kos_grid::{Network, find_islands};
use kos_scene::{GeneratorKind, GeneratorSpec, LoadSpec, PodSpec, Priority, StorageSpec};

use super::grid::Grid;
use super::plan::{ConsumerOrder, DispatchPlan, PlannedConsumer, UnitRole};
use super::wear::{BatteryWear, UnitWear};
use super::{SimClock, SimSet};
use crate::model::*;

/// The consumers' query: a load or a pod with its demand.
type Consumers<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        &'static Demand,
        Option<Ref<'static, Spec<LoadSpec>>>,
        Option<Ref<'static, Spec<PodSpec>>>,
        Option<&'static Share>,
    ),
>;

impl ConsumerOrder {
    /// Whether this order still holds for `consumers` and the grid of `generation`.
    fn holds(&self, consumers: &Consumers, generation: u64) -> bool {
        let mut seen = self.seen.iter();
        self.grid == generation
            && consumers.iter().all(|(entity, _, load, pod, _)| {
                let changed =
                    load.is_some_and(|s| s.is_changed()) || pod.is_some_and(|s| s.is_changed());
                !changed && seen.next() == Some(&entity)
            })
            && seen.next().is_none()
    }

    fn new(consumers: &Consumers, grid: &Grid) -> Self {
        let mut keyed: Vec<(&str, usize, usize, usize)> = Vec::new();
        let mut seen = Vec::new();
        for (i, (entity, _, load, pod, _)) in consumers.iter().enumerate() {
            seen.push(entity);
            let (id, bus, priority) = match (load.map(Ref::into_inner), pod.map(Ref::into_inner)) {
                (Some(l), _) => (l.id.as_str(), l.bus.as_str(), l.priority),
                (None, Some(p)) => (p.id.as_str(), p.bus.as_str(), p.priority),
                _ => continue,
            };
            if let Some(&bus) = grid.model.bus_index.get(bus) {
                keyed.push((id, i, bus, shed_class(priority)));
            }
        }
        // Asset-id order: the plan must not depend on entity order.
        keyed.sort_by(|a, b| a.0.cmp(b.0));
        let mut place = vec![None; seen.len()];
        for (rank, &(_, i, bus, class)) in keyed.iter().enumerate() {
            place[i] = Some((rank, bus, class));
        }
        Self {
            grid: grid.generation,
            seen,
            place,
            placed: keyed.len(),
        }
    }

    /// This tick's consumers in asset-id order, each wholly served for now.
    fn plan(&self, consumers: &Consumers) -> Vec<PlannedConsumer> {
        let mut out = vec![
            PlannedConsumer {
                entity: Entity::PLACEHOLDER,
                bus: 0,
                demand_kw: 0.0,
                demand_kvar: 0.0,
                limit_kw: f64::INFINITY,
                shed_class: 0,
                fraction: 1.0,
            };
            self.placed
        ];
        for ((entity, d, _, _, share), place) in consumers.iter().zip(&self.place) {
            if let &Some((rank, bus, shed_class)) = place {
                out[rank] = PlannedConsumer {
                    entity,
                    bus,
                    demand_kw: d.p_kw,
                    demand_kvar: d.q_kvar,
                    limit_kw: share
                        .and_then(|s| s.power_kw)
                        .map_or(f64::INFINITY, |l| l.max(0.0)),
                    shed_class,
                    fraction: 1.0,
                };
            }
        }
        out
    }
}

/// Shedding class of a priority: deferrable first, critical last.
pub fn shed_class(p: Priority) -> usize {
    match p {
        Priority::Deferrable => 0,
        Priority::Essential => 1,
        Priority::Critical => SHED_CLASSES - 1,
    }
}

impl DispatchPlan {
    /// Writes the plan into the network: unit outputs and bus demands.
    pub fn apply_to(&self, net: &mut Network) {
        for b in &mut net.buses {
            b.pd_mw = 0.0;
            b.qd_mvar = 0.0;
        }
        for c in &self.consumers {
            net.buses[c.bus].pd_mw += c.demand_kw * c.fraction / 1000.0;
            net.buses[c.bus].qd_mvar += c.demand_kvar * c.fraction / 1000.0;
        }
        for (g, p) in self.setpoint_kw.iter().enumerate() {
            net.generators[g].pg_mw = p / 1000.0;
        }
    }

    /// Net injection of each bus, kW: solved unit outputs (the reference takes up the
    /// mismatch) minus served demand.
    pub fn net_injection_kw(&self, net: &Network, gen_pg_mw: &[f64]) -> Vec<f64> {
        let mut inj = vec![0.0; net.buses.len()];
        for (g, unit) in net.generators.iter().enumerate() {
            if unit.in_service {
                inj[unit.bus] += gen_pg_mw.get(g).copied().unwrap_or(0.0) * 1000.0;
            }
        }
        for c in &self.consumers {
            inj[c.bus] -= c.demand_kw * c.fraction;
        }
        inj
    }

    /// Applies a relief request to the plan in merit order: voltage changes bus by bus,
    /// overload changes over each far side as a whole. Returns the power that could not be
    /// moved, kW.
    pub fn relieve(&mut self, net: &Network, request: &ReliefRequest) -> f64 {
        let mut left = 0.0;
        for change in &request.changes {
            left += self.change_injection(net, &[change.bus], change.delta_kw);
        }
        for group in &request.groups {
            left += self.change_injection(net, &group.buses, group.delta_kw);
        }
        left
    }

    /// Changes the net injection of the buses `buses` (ascending) together by `delta_kw`.
    fn change_injection(&mut self, net: &Network, buses: &[usize], delta_kw: f64) -> f64 {
        let at = |b: usize| buses.binary_search(&b).is_ok();
        // The elements on those buses, and where each came from.
        let mut elements = Vec::new();
        let mut from = Vec::new();
        for (g, unit) in net.generators.iter().enumerate() {
            if !at(unit.bus) {
                continue;
            }
            let kw = self.setpoint_kw[g];
            let e = match self.roles[g] {
                UnitRole::Renewable { .. } => Element::Renewable { kw },
                UnitRole::Store(l) => Element::Store {
                    kw,
                    max_discharge_kw: l.max_discharge_kw,
                    max_charge_kw: l.max_charge_kw,
                },
                UnitRole::Dispatchable { range, .. } => Element::Unit {
                    kw,
                    min_kw: range.min_kw,
                    max_kw: range.max_kw,
                },
                UnitRole::Tie(_) | UnitRole::Measured(_) | UnitRole::Off => continue,
            };
            elements.push(e);
            from.push(Origin::Unit(g));
        }
        for (i, c) in self.consumers.iter().enumerate() {
            if at(c.bus) {
                elements.push(Element::Consumer {
                    demand_kw: c.demand_kw,
                    served: c.fraction,
                    shed_class: c.shed_class,
                });
                from.push(Origin::Consumer(i));
            }
        }
        let left = apply_in_merit_order(&mut elements, delta_kw);
        for (e, src) in elements.iter().zip(&from) {
            match (e, *src) {
                (
                    Element::Renewable { kw }
                    | Element::Store { kw, .. }
                    | Element::Unit { kw, .. },
                    Origin::Unit(g),
                ) => self.setpoint_kw[g] = *kw,
                (Element::Consumer { served, .. }, Origin::Consumer(i)) => {
                    self.consumers[i].fraction = *served;
                }
                _ => {}
            }
        }
        left
    }
}

/// Where a relief element came from.
#[derive(Debug, Clone, Copy)]
enum Origin {
    Unit(usize),
    Consumer(usize),
}

#[allow(clippy::type_complexity)]
pub(crate) fn plan_dispatch(
    clock: Res<SimClock>,
    mut grid: ResMut<Grid>,
    mut plan: ResMut<DispatchPlan>,
    switches: Query<&SwitchState>,
    units: Query<(
        &UnitOutput,
        Option<&Spec<GeneratorSpec>>,
        Option<&Spec<StorageSpec>>,
        Option<&StateOfCharge>,
        Option<&Available>,
        Option<&BatteryWear>,
        Option<&UnitWear>,
        Option<&IslandSocMin>,
    )>,
    demands: Consumers,
) {
    let grid = &mut *grid;
    for (k, &e) in grid.branch_entities.iter().enumerate() {
        if let Ok(s) = switches.get(e) {
            grid.model.network.branches[k].in_service = s.closed;
        }
    }
    let net = &grid.model.network;
    let islands = find_islands(net, |k| net.branches[k].in_service);
    let held =
        |bus: usize| islands.of_bus[bus].is_some_and(|i| islands.islands[i].reference.is_some());
    // Islands a grid tie holds: elsewhere a battery may use the reserve a mode keeps.
    let tied: Vec<bool> = {
        let mut t = vec![false; islands.islands.len()];
        for (g, &e) in grid.unit_entities.iter().enumerate() {
            let unit = &net.generators[g];
            let is_tie = units.get(e).is_ok_and(|u| {
                u.1.is_some_and(|s| matches!(s.kind, GeneratorKind::GridTie { .. }))
            });
            if is_tie
                && unit.in_service
                && let Some(i) = islands.of_bus[unit.bus]
            {
                t[i] = true;
            }
        }
        t
    };
    let dt_h = clock.tick_s as f64 / 3600.0;
    let dt_min = clock.tick_s as f64 / 60.0;

    plan.roles.clear();
    plan.setpoint_kw.clear();
    plan.reserve_released.clear();
    for (g, &e) in grid.unit_entities.iter().enumerate() {
        let unit = &net.generators[g];
        let mut released = false;
        let role = match units.get(e) {
            _ if !unit.in_service || !held(unit.bus) => UnitRole::Off,
            Ok((out, ..)) if out.measured => UnitRole::Measured(out.setpoint_kw),
            Ok((out, Some(spec), _, _, available, _, wear, _)) => match spec.kind {
                GeneratorKind::Solar { .. }
                | GeneratorKind::Wind { .. }
                | GeneratorKind::Module { .. } => UnitRole::Renewable {
                    available_kw: available.map_or(0.0, |a| a.kw),
                },
                GeneratorKind::Chp {
                    min_load,
                    ramp_kw_per_min,
                }
                | GeneratorKind::Bio {
                    min_load,
                    ramp_kw_per_min,
                    ..
                } => {
                    let t = ThermalUnit {
                        rated_kw: spec.rated_kw,
                        min_load,
                        ramp_kw_per_min,
                    };
                    let running = out.p_kw > 1e-6;
                    let (lo, hi) = t.feasible(out.p_kw, dt_min, running);
                    let fuel_out = wear.is_some_and(|w| w.fuel_kwh.is_some_and(|f| f <= 0.0));
                    UnitRole::Dispatchable {
                        range: UnitRange {
                            // A running unit may also stop; the minimum is enforced after.
                            min_kw: 0.0,
                            max_kw: if fuel_out { 0.0 } else { hi },
                        },
                        min_stable_kw: lo.min(t.min_kw()),
                    }
                }
                GeneratorKind::GridTie {
                    import_limit_kw,
                    export_limit_kw,
                    ..
                } => UnitRole::Tie(TieLimits {
                    import_kw: import_limit_kw,
                    export_kw: export_limit_kw,
                }),
            },
            Ok((_, None, Some(spec), soc, _, battery_wear, _, island_min)) => {
                let mut b = battery(spec);
                released = islands.of_bus[unit.bus].is_some_and(|i| !tied[i]);
                if released {
                    b.soc_min = island_min.map_or(b.soc_min, |m| m.0.min(b.soc_min));
                }
                let soc = soc.map_or(spec.soc, |s| s.0);
                let cf = battery_wear.map_or(1.0, |w| w.capacity_factor);
                UnitRole::Store(StoreLimits {
                    max_discharge_kw: b.max_discharge_kw(soc, cf, dt_h),
                    max_charge_kw: b.max_charge_kw(soc, cf, dt_h),
                })
            }
            _ => UnitRole::Off,
        };
        plan.roles.push(role);
        plan.setpoint_kw.push(0.0);
        plan.reserve_released.push(released);
    }

    if !plan.order.holds(&demands, grid.generation) {
        plan.order = ConsumerOrder::new(&demands, grid);
    }
    plan.consumers = plan.order.plan(&demands);

    // Balance each held island.
    let last_losses = |reference: usize| {
        grid.last.as_ref().map_or(0.0, |r| {
            r.islands
                .iter()
                .find(|i| i.reference == Some(reference))
                .map_or(0.0, |i| i.losses_mw * 1000.0)
        })
    };
    let plan = &mut *plan;
    for (id, island) in islands.islands.iter().enumerate() {
        let Some(reference) = island.reference else {
            continue;
        };
        let mut offer = IslandOffer {
            losses_kw: last_losses(reference),
            ..default()
        };
        let members: Vec<usize> = (0..plan.roles.len())
            .filter(|&g| islands.of_bus[net.generators[g].bus] == Some(id))
            .collect();
        for &g in &members {
            match plan.roles[g] {
                UnitRole::Renewable { available_kw } => offer.renewable_kw.push(available_kw),
                UnitRole::Store(l) => offer.stores.push(l),
                UnitRole::Dispatchable { range, .. } => offer.units.push(range),
                UnitRole::Tie(t) => offer.ties.push(t),
                UnitRole::Measured(kw) => offer.fixed_kw += kw,
                UnitRole::Off => {}
            }
        }
        let in_island: Vec<usize> = (0..plan.consumers.len())
            .filter(|&i| islands.of_bus[plan.consumers[i].bus] == Some(id))
            .collect();
        offer.consumers = in_island
            .iter()
            .map(|&i| Consumer {
                demand_kw: plan.consumers[i].allowed_kw(),
                shed_class: plan.consumers[i].shed_class,
            })
            .collect();
        let stable: Vec<f64> = members
            .iter()
            .filter_map(|&g| match plan.roles[g] {
                UnitRole::Dispatchable { min_stable_kw, .. } => Some(min_stable_kw),
                _ => None,
            })
            .collect();
        let result = if offer.ties.is_empty() && !offer.units.is_empty() {
            // An island: its units run before its stores, which are what it has until the
            // morning. First without the stores, units held at their minimum stable output
            // rather than shedding; then the stores take what is left.
            let mut units_first = offer.clone();
            for st in &mut units_first.stores {
                st.max_discharge_kw = 0.0;
            }
            let mut first = balance(&units_first);
            if commit_units(&mut units_first, &first, &stable) {
                first = balance(&units_first);
            }
            for (range, kw) in offer.units.iter_mut().zip(&first.unit_kw) {
                range.min_kw = *kw;
                range.max_kw = *kw;
            }
            balance(&offer)
        } else {
            let mut result = balance(&offer);
            if commit_units(&mut offer, &result, &stable) {
                result = balance(&offer);
            }
            result
        };
        let (mut r, mut s, mut u, mut t) = (0, 0, 0, 0);
        for &g in &members {
            let next = |v: &[f64], i: &mut usize| {
                *i += 1;
                v[*i - 1]
            };
            plan.setpoint_kw[g] = match plan.roles[g] {
                UnitRole::Renewable { .. } => next(&result.renewable_kw, &mut r),
                UnitRole::Store(_) => next(&result.store_kw, &mut s),
                UnitRole::Dispatchable { min_stable_kw, .. } => {
                    let kw = next(&result.unit_kw, &mut u);
                    // Below minimum stable load: stop if under half of it, else hold it.
                    if kw < min_stable_kw {
                        if kw < 0.5 * min_stable_kw {
                            0.0
                        } else {
                            min_stable_kw
                        }
                    } else {
                        kw
                    }
                }
                UnitRole::Tie(_) => next(&result.tie_kw, &mut t),
                UnitRole::Measured(kw) => kw,
                UnitRole::Off => 0.0,
            };
        }
        for (&i, served) in in_island.iter().zip(&result.served) {
            // The balancer served a share of what the limit allows; of the demand, less.
            let c = &mut plan.consumers[i];
            c.fraction = if c.demand_kw > 0.0 {
                served * c.allowed_kw() / c.demand_kw
            } else {
                *served
            };
        }
    }
}

/// Where load would be shed while a stopped or low unit could run at its minimum stable
/// output (which the dispatch would otherwise stop it under), commits it there: true when it
/// did, and the island must be balanced again (what the unit gives beyond the deficit charges
/// the stores).
fn commit_units(
    offer: &mut kos_energy::balance::IslandOffer,
    result: &kos_energy::balance::IslandPlan,
    stable: &[f64],
) -> bool {
    if result.shed_kw.iter().sum::<f64>() <= 1e-6 {
        return false;
    }
    let mut raised = false;
    for ((range, kw), min_stable) in offer.units.iter_mut().zip(&result.unit_kw).zip(stable) {
        if *kw < *min_stable && range.max_kw >= *min_stable {
            range.min_kw = *min_stable;
            raised = true;
        }
    }
    raised
}

/// The battery model of a storage asset.
pub fn battery(spec: &StorageSpec) -> Battery {
    Battery {
        charge_efficiency: spec.charge_efficiency,
        discharge_efficiency: spec.discharge_efficiency,
        soc_min: spec.soc_min,
        soc_max: spec.soc_max,
        ..Battery::new(spec.energy_kwh, spec.power_kw)
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<DispatchPlan>();
    app.add_systems(FixedUpdate, plan_dispatch.in_set(SimSet::Dispatch));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::headless_app;
    use crate::scene::default_scene;
    use crate::sim::run_ticks;

    /// (asset id, entity, shedding class) of each planned consumer, in plan order.
    fn planned(app: &mut App) -> Vec<(String, Entity, usize)> {
        let world = app.world();
        let plan = world.resource::<DispatchPlan>();
        plan.consumers
            .iter()
            .map(|c| {
                let id = world.get::<AssetTag>(c.entity).expect("tagged").0.clone();
                (id, c.entity, c.shed_class)
            })
            .collect()
    }

    /// The order kept between ticks follows the world: a changed spec and a consumer taken
    /// away show in the next tick's plan, which stays in asset-id order.
    #[test]
    fn the_kept_consumer_order_follows_specs_and_entities() {
        let mut app = headless_app(&default_scene());
        run_ticks(&mut app, 2);
        let before = planned(&mut app);
        assert!(before.len() > 2);
        assert!(before.windows(2).all(|w| w[0].0 < w[1].0), "{before:?}");

        let world = app.world_mut();
        let (load, old) = {
            let mut q = world.query::<(Entity, &Spec<LoadSpec>)>();
            let (e, s) = q.iter(world).next().expect("a load");
            (e, s.priority)
        };
        let new = if old == Priority::Critical {
            Priority::Deferrable
        } else {
            Priority::Critical
        };
        world.get_mut::<Spec<LoadSpec>>(load).unwrap().priority = new;
        run_ticks(&mut app, 1);
        let after = planned(&mut app);
        let class = |v: &[(String, Entity, usize)]| v.iter().find(|c| c.1 == load).map(|c| c.2);
        assert_eq!(class(&before), Some(shed_class(old)));
        assert_eq!(class(&after), Some(shed_class(new)));

        app.world_mut().despawn(load);
        run_ticks(&mut app, 1);
        let gone = planned(&mut app);
        assert_eq!(gone.len(), before.len() - 1);
        assert!(gone.iter().all(|c| c.1 != load));
        assert!(gone.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
