//! Scene -> world: one entity per scene element, with typed components.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_scene::{GeneratorSpec, LoadSpec, Scene, StorageSpec, build_grid};

use crate::commons::CommonsSettings;
use crate::model::*;
use crate::sim::demand::DemandVariation;
use crate::sim::environment::{Module, WeatherState};
use crate::sim::monitor::{EnergyMonitor, StoredMix};
use crate::sim::storage::StockLevels;
use crate::sim::wear::{BatteryWear, CableWear, TransformerWear, UnitWear};
use crate::sim::{SimClock, grid::Grid};
use kos_energy::variation::LoadVariation;

/// Spawns every element of `scene` and inserts the site, clock and grid resources.
/// Anything spawned from an earlier scene is despawned first.
pub fn spawn_scene(world: &mut World, scene: &Scene) {
    let old: Vec<Entity> = world
        .query_filtered::<Entity, With<AssetTag>>()
        .iter(world)
        .collect();
    for e in old {
        world.despawn(e);
    }
    let bus_pos: BTreeMap<&str, Vec2> = scene
        .buses
        .iter()
        .map(|b| {
            (
                b.id.as_str(),
                Vec2::new(b.position.0 as f32, b.position.1 as f32),
            )
        })
        .collect();
    let hood: BTreeMap<&str, &str> = scene
        .buses
        .iter()
        .map(|b| (b.id.as_str(), b.neighbourhood.as_str()))
        .collect();
    let at = |id: &str| bus_pos.get(id).copied().unwrap_or(Vec2::ZERO);
    let hood_of = |id: &str| Neighbourhood(hood.get(id).copied().unwrap_or("").to_string());
    for (i, b) in scene.buses.iter().enumerate() {
        let e = spawn_asset(world, &b.id, i, AssetKind::Bus);
        world.entity_mut(e).insert((
            Spec(b.clone()),
            Neighbourhood(b.neighbourhood.clone()),
            SitePosition(at(&b.id)),
            BusVoltage::default(),
        ));
    }
    for (i, l) in scene.lines.iter().enumerate() {
        let e = spawn_asset(world, &l.id, i, AssetKind::Line);
        world.entity_mut(e).insert((
            Spec(l.clone()),
            CableWear::default(),
            hood_of(&l.from),
            Span {
                from: at(&l.from),
                to: at(&l.to),
            },
            BranchFlow::default(),
        ));
    }
    for (i, t) in scene.transformers.iter().enumerate() {
        let e = spawn_asset(world, &t.id, i, AssetKind::Transformer);
        world.entity_mut(e).insert((
            Spec(t.clone()),
            TransformerWear::default(),
            hood_of(&t.lv_bus),
            Span {
                from: at(&t.hv_bus),
                to: at(&t.lv_bus),
            },
            BranchFlow::default(),
        ));
    }
    for (i, s) in scene.switches.iter().enumerate() {
        let e = spawn_asset(world, &s.id, i, AssetKind::Switch);
        world.entity_mut(e).insert((
            Spec(s.clone()),
            hood_of(&s.from),
            Span {
                from: at(&s.from),
                to: at(&s.to),
            },
            SwitchState {
                closed: s.is_closed(),
            },
            BranchFlow::default(),
        ));
    }
    for (i, g) in scene.generators.iter().enumerate() {
        spawn_generator(world, g, i, at(&g.bus), hood_of(&g.bus));
    }
    for (i, s) in scene.storage.iter().enumerate() {
        spawn_storage(world, s, i, at(&s.bus), hood_of(&s.bus));
    }
    for (i, l) in scene.loads.iter().enumerate() {
        spawn_load(world, l, i, at(&l.bus), hood_of(&l.bus));
    }
    for (i, p) in scene.pods.iter().enumerate() {
        let e = spawn_asset(world, &p.id, i, AssetKind::Pod);
        let pos = Vec2::new(p.position.0 as f32, p.position.1 as f32);
        world.entity_mut(e).insert((
            Spec(p.clone()),
            hood_of(&p.bus),
            SitePosition(pos),
            Demand::default(),
            Share::default(),
        ));
    }
    let place_of: BTreeMap<String, Vec2> = scene
        .depots
        .iter()
        .map(|d| {
            (
                d.id.clone(),
                Vec2::new(d.position.0 as f32, d.position.1 as f32),
            )
        })
        .chain(scene.pods.iter().map(|p| {
            (
                p.id.clone(),
                Vec2::new(p.position.0 as f32, p.position.1 as f32),
            )
        }))
        .collect();
    for (i, d) in scene.depots.iter().enumerate() {
        let e = spawn_asset(world, &d.id, i, AssetKind::Depot);
        world.entity_mut(e).insert((
            Spec(d.clone()),
            StockLevels::of(d),
            Neighbourhood("supply".into()),
            SitePosition(place_of[&d.id]),
        ));
    }
    for (i, r) in scene.routes.iter().enumerate() {
        let e = spawn_asset(world, &r.id, i, AssetKind::Route);
        let span = Span {
            from: place_of.get(&r.from).copied().unwrap_or_default(),
            to: place_of.get(&r.to).copied().unwrap_or_default(),
        };
        world
            .entity_mut(e)
            .insert((Spec(r.clone()), Neighbourhood("supply".into()), span));
    }

    // Protection devices: their settings, kept for saving (they are not drawn).
    for (i, p) in scene.protection.iter().enumerate() {
        world.spawn((AssetTag(p.id.clone()), SceneOrder(i), Spec(p.clone())));
    }

    let grid = Grid::for_world(world, build_grid(scene));
    world.insert_resource(grid);
    world.insert_resource(SiteInfo(scene.site.clone()));
    world.insert_resource(SceneModes(scene.modes.clone()));
    world.insert_resource(CommonsSettings(scene.commons.clone()));
    let clock = SimClock::from_site(&scene.site);
    world.insert_resource(WeatherState::new(&scene.site, clock.seed, clock.now_s()));
    world.insert_resource(DemandVariation(LoadVariation::new(clock.seed)));
    world.insert_resource(clock);
}

/// Spawns the entity of one asset with the components every asset of its kind carries.
pub fn spawn_asset(world: &mut World, id: &str, order: usize, kind: AssetKind) -> Entity {
    let e = world
        .spawn((AssetTag(id.to_string()), SceneOrder(order), kind))
        .id();
    if !matches!(kind, AssetKind::Bus | AssetKind::Depot | AssetKind::Route) {
        world.entity_mut(e).insert(EnergyMonitor::default());
    }
    e
}

/// Spawns a generation module at `pos` in `hood`.
pub fn spawn_generator(
    world: &mut World,
    g: &GeneratorSpec,
    order: usize,
    pos: Vec2,
    hood: Neighbourhood,
) -> Entity {
    let e = spawn_asset(world, &g.id, order, AssetKind::Generator);
    world.entity_mut(e).insert((
        Spec(g.clone()),
        hood,
        SitePosition(pos),
        UnitOutput {
            setpoint_kw: g.setpoint_kw,
            ..default()
        },
    ));
    // Run hours and starts mean nothing for the connection to the regional grid.
    if !matches!(g.kind, kos_scene::GeneratorKind::GridTie { .. }) {
        world.entity_mut(e).insert(UnitWear::of(g));
    }
    if let Some(module) = Module::of(g) {
        world.entity_mut(e).insert((module, Available::default()));
    }
    e
}

/// Spawns a battery at `pos` in `hood`.
pub fn spawn_storage(
    world: &mut World,
    s: &StorageSpec,
    order: usize,
    pos: Vec2,
    hood: Neighbourhood,
) -> Entity {
    let e = spawn_asset(world, &s.id, order, AssetKind::Storage);
    world.entity_mut(e).insert((
        Spec(s.clone()),
        hood,
        SitePosition(pos),
        UnitOutput::default(),
        StateOfCharge(s.soc),
        IslandSocMin(s.soc_min),
        BatteryWear::default(),
        StoredMix::default(),
    ));
    e
}

/// Spawns a load at `pos` in `hood`.
pub fn spawn_load(
    world: &mut World,
    l: &LoadSpec,
    order: usize,
    pos: Vec2,
    hood: Neighbourhood,
) -> Entity {
    let e = spawn_asset(world, &l.id, order, AssetKind::Load);
    world.entity_mut(e).insert((
        Spec(l.clone()),
        hood,
        SitePosition(pos),
        Demand::default(),
        Share::default(),
    ));
    e
}
