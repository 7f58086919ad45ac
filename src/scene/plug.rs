//! Assets plugged in while the twin runs (a module announced by telemetry, a unit added by
//! dispatch): checked against the scene's rules, spawned like the scene's own, and the grid
//! model marked for a rebuild so the next tick's power flow includes them.

use bevy::prelude::*;
use kos_scene::{GeneratorSpec, LoadSpec, StorageSpec};

use crate::model::*;
use crate::sim::grid::GridDirty;

/// An asset to plug in.
#[derive(Debug, Clone, PartialEq)]
pub enum PlugIn {
    /// A generation module.
    Generator(GeneratorSpec),
    /// A battery.
    Storage(StorageSpec),
    /// A load.
    Load(LoadSpec),
}

impl PlugIn {
    /// The asset id.
    pub fn id(&self) -> &str {
        match self {
            PlugIn::Generator(s) => &s.id,
            PlugIn::Storage(s) => &s.id,
            PlugIn::Load(s) => &s.id,
        }
    }

    fn bus(&self) -> &str {
        match self {
            PlugIn::Generator(s) => &s.bus,
            PlugIn::Storage(s) => &s.bus,
            PlugIn::Load(s) => &s.bus,
        }
    }
}

/// Plugs `asset` into the world: the world's scene with the asset added must pass the scene
/// validation (unique id, known bus, physical values); then the asset is spawned and
/// [`GridDirty`] set. Returns the new entity, or the first validation message.
pub fn plug_in(world: &mut World, asset: PlugIn) -> Result<Entity, String> {
    let mut scene = super::save_scene(world);
    let order = match &asset {
        PlugIn::Generator(s) => {
            scene.generators.push(s.clone());
            scene.generators.len() - 1
        }
        PlugIn::Storage(s) => {
            scene.storage.push(s.clone());
            scene.storage.len() - 1
        }
        PlugIn::Load(s) => {
            scene.loads.push(s.clone());
            scene.loads.len() - 1
        }
    };
    if let Err(errors) = kos_scene::parse(&kos_scene::to_ron(&scene), "plug-in") {
        let first = errors
            .iter()
            .find(|e| e.id.as_deref() == Some(asset.id()))
            .or(errors.first())
            .map(|e| e.message.clone())
            .unwrap_or_default();
        return Err(first);
    }
    let bus = scene.buses.iter().find(|b| b.id == asset.bus());
    let at = bus
        .map(|b| Vec2::new(b.position.0 as f32, b.position.1 as f32))
        .unwrap_or(Vec2::ZERO);
    let hood = Neighbourhood(bus.map(|b| b.neighbourhood.clone()).unwrap_or_default());
    let e = match asset {
        PlugIn::Generator(s) => super::spawn::spawn_generator(world, &s, order, at, hood),
        PlugIn::Storage(s) => super::spawn::spawn_storage(world, &s, order, at, hood),
        PlugIn::Load(s) => super::spawn::spawn_load(world, &s, order, at, hood),
    };
    world.insert_resource(GridDirty(true));
    Ok(e)
}
