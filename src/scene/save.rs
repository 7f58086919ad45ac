//! World -> scene: the specs in scene order, with the state that a scene records
//! (switch positions, states of charge) taken from the world.

use bevy::prelude::*;
use kos_scene::{FORMAT_VERSION, Scene};

use crate::model::*;

fn collect<T: Clone + Send + Sync + 'static>(world: &mut World) -> Vec<(usize, Entity, T)> {
    let mut v: Vec<(usize, Entity, T)> = world
        .query::<(Entity, &SceneOrder, &Spec<T>)>()
        .iter(world)
        .map(|(e, o, s)| (o.0, e, s.0.clone()))
        .collect();
    v.sort_by_key(|(o, _, _)| *o);
    v
}

fn specs<T: Clone + Send + Sync + 'static>(world: &mut World) -> Vec<T> {
    collect::<T>(world).into_iter().map(|(_, _, s)| s).collect()
}

/// The scene the world is in now. Without a site (nothing spawned) the site is empty.
pub fn save_scene(world: &mut World) -> Scene {
    let site = world
        .get_resource::<SiteInfo>()
        .map(|s| s.0.clone())
        .unwrap_or_else(|| kos_scene::Site {
            name: String::new(),
            latitude_deg: 0.0,
            longitude_deg: 0.0,
            time_zone: String::new(),
            utc_offset_hours: 0.0,
            start: "1970-01-01T00:00".into(),
            seed: 0,
            base_mva: 1.0,
            frequency_hz: 50.0,
            energy: Default::default(),
        });
    let switches = collect::<kos_scene::SwitchSpec>(world)
        .into_iter()
        .map(|(_, e, mut s)| {
            if let Some(state) = world.get::<SwitchState>(e)
                && state.closed != s.is_closed()
            {
                s.closed = Some(state.closed);
            }
            s
        })
        .collect();
    let storage = collect::<kos_scene::StorageSpec>(world)
        .into_iter()
        .map(|(_, e, mut s)| {
            if let Some(soc) = world.get::<StateOfCharge>(e) {
                s.soc = soc.0;
            }
            s
        })
        .collect();
    Scene {
        format_version: FORMAT_VERSION,
        site,
        buses: specs(world),
        lines: specs(world),
        transformers: specs(world),
        switches,
        protection: specs(world),
        generators: specs(world),
        storage,
        loads: specs(world),
        pods: specs(world),
        depots: specs(world),
        routes: specs(world),
        modes: world
            .get_resource::<SceneModes>()
            .map(|m| m.0.clone())
            .unwrap_or_default(),
        commons: world
            .get_resource::<crate::commons::CommonsSettings>()
            .map(|c| c.0.clone())
            .unwrap_or_default(),
    }
}
