//! Scene -> world: one entity per scene element, with typed components.

use std::collections::BTreeMap;

use bevy::prelude::*;
use kos_scene::{Scene, build_grid};

use crate::model::*;
use crate::sim::{SimClock, grid::Grid};

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
    let mut ids: BTreeMap<String, Entity> = BTreeMap::new();
    let mut common = |world: &mut World, id: &str, order: usize, kind: AssetKind| {
        let e = world
            .spawn((AssetTag(id.to_string()), SceneOrder(order), kind))
            .id();
        ids.insert(id.to_string(), e);
        e
    };

    for (i, b) in scene.buses.iter().enumerate() {
        let e = common(world, &b.id, i, AssetKind::Bus);
        world.entity_mut(e).insert((
            Spec(b.clone()),
            Neighbourhood(b.neighbourhood.clone()),
            SitePosition(at(&b.id)),
            BusVoltage::default(),
        ));
    }
    for (i, l) in scene.lines.iter().enumerate() {
        let e = common(world, &l.id, i, AssetKind::Line);
        world.entity_mut(e).insert((
            Spec(l.clone()),
            hood_of(&l.from),
            Span {
                from: at(&l.from),
                to: at(&l.to),
            },
            BranchFlow::default(),
        ));
    }
    for (i, t) in scene.transformers.iter().enumerate() {
        let e = common(world, &t.id, i, AssetKind::Transformer);
        world.entity_mut(e).insert((
            Spec(t.clone()),
            hood_of(&t.lv_bus),
            Span {
                from: at(&t.hv_bus),
                to: at(&t.lv_bus),
            },
            BranchFlow::default(),
        ));
    }
    for (i, s) in scene.switches.iter().enumerate() {
        let e = common(world, &s.id, i, AssetKind::Switch);
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
        let e = common(world, &g.id, i, AssetKind::Generator);
        world.entity_mut(e).insert((
            Spec(g.clone()),
            hood_of(&g.bus),
            SitePosition(at(&g.bus)),
            UnitOutput {
                setpoint_kw: g.setpoint_kw,
                ..default()
            },
        ));
    }
    for (i, s) in scene.storage.iter().enumerate() {
        let e = common(world, &s.id, i, AssetKind::Storage);
        world.entity_mut(e).insert((
            Spec(s.clone()),
            hood_of(&s.bus),
            SitePosition(at(&s.bus)),
            UnitOutput::default(),
            StateOfCharge(s.soc),
        ));
    }
    for (i, l) in scene.loads.iter().enumerate() {
        let e = common(world, &l.id, i, AssetKind::Load);
        world.entity_mut(e).insert((
            Spec(l.clone()),
            hood_of(&l.bus),
            SitePosition(at(&l.bus)),
            Demand::default(),
        ));
    }
    for (i, p) in scene.pods.iter().enumerate() {
        let e = common(world, &p.id, i, AssetKind::Pod);
        let pos = Vec2::new(p.position.0 as f32, p.position.1 as f32);
        world.entity_mut(e).insert((
            Spec(p.clone()),
            hood_of(&p.bus),
            SitePosition(pos),
            Demand::default(),
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
        let e = common(world, &d.id, i, AssetKind::Depot);
        world.entity_mut(e).insert((
            Spec(d.clone()),
            Neighbourhood("supply".into()),
            SitePosition(place_of[&d.id]),
        ));
    }
    for (i, r) in scene.routes.iter().enumerate() {
        let e = common(world, &r.id, i, AssetKind::Route);
        let span = Span {
            from: place_of.get(&r.from).copied().unwrap_or_default(),
            to: place_of.get(&r.to).copied().unwrap_or_default(),
        };
        world
            .entity_mut(e)
            .insert((Spec(r.clone()), Neighbourhood("supply".into()), span));
    }

    let model = build_grid(scene);
    let entity = |id: &str| ids.get(id).copied().unwrap_or(Entity::PLACEHOLDER);
    let grid = Grid::new(
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
    world.insert_resource(grid);
    world.insert_resource(SiteInfo(scene.site.clone()));
    world.insert_resource(SimClock::from_site(&scene.site));
}
