//! The simulation app without a window: `kos-twin headless`, the telemetry simulator, the
//! benchmarks and the tests build it here.

use std::time::Duration;

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use kos_scene::Scene;

use crate::scene::SceneToLoad;

/// An app that simulates `scene` with no window. Wall-clock time never drives it: ticks run
/// only through [`crate::sim::run_ticks`], so runs are reproducible.
pub fn headless_app(scene: &Scene) -> App {
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::ZERO))
        .insert_resource(SceneToLoad(scene.clone()))
        .add_plugins(crate::simulation_plugin);
    app.finish();
    app.cleanup();
    app.update();
    app
}
