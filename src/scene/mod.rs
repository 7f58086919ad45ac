//! Scene I/O for the world: the embedded default scene, spawning a world from a scene, and
//! writing the world back to a scene. The file format itself lives in `kos-scene`.

mod plug;
mod save;
pub mod spawn;

use bevy::prelude::*;
pub use plug::{PlugIn, plug_in};
pub use save::save_scene;
pub use spawn::spawn_scene;

/// Text of the built-in default scene.
pub const DEFAULT_SCENE: &str = include_str!("../../scenes/default.ron");

/// Name the built-in scene is reported under.
pub const DEFAULT_SCENE_NAME: &str = "scenes/default.ron";

/// The built-in default scene, parsed.
pub fn default_scene() -> kos_scene::Scene {
    kos_scene::parse(DEFAULT_SCENE, DEFAULT_SCENE_NAME)
        .expect("the built-in scene is valid (checked by tests)")
}

/// Reads and validates a scene file, or the built-in scene. Returns it and its name.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_scene(path: Option<&std::path::Path>) -> anyhow::Result<(kos_scene::Scene, String)> {
    match path {
        None => Ok((default_scene(), DEFAULT_SCENE_NAME.to_string())),
        Some(p) => kos_scene::load(p)
            .map(|s| (s, p.display().to_string()))
            .map_err(|errors| {
                let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                anyhow::anyhow!("{}", text.join("\n"))
            }),
    }
}

/// A scene waiting to be spawned at start-up.
#[derive(Resource, Debug, Clone)]
pub struct SceneToLoad(pub kos_scene::Scene);

/// Spawns the [`SceneToLoad`] at start-up.
pub fn plugin(app: &mut App) {
    app.add_systems(PreStartup, load_pending_scene);
}

fn load_pending_scene(world: &mut World) {
    if let Some(SceneToLoad(scene)) = world.remove_resource::<SceneToLoad>() {
        spawn_scene(world, &scene);
    }
}
