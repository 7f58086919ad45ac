//! The tiny scene's twin on a broker: what both telemetry test files drive it with.

use std::time::{Duration, Instant};

use bevy::prelude::*;
use kos_scene::Scene;
use kos_twin::app::headless_app;
use kos_twin::model::AssetTag;
use kos_twin::telemetry::config::TelemetryConfig;
use kos_twin::telemetry::{TelemetryStats, connect, pump};

/// The tiny scene and its site name in topics.
pub const TINY: &str = include_str!("../../scenes/tiny.ron");
pub const SITE: &str = "tiny";

pub fn tiny() -> Scene {
    kos_scene::parse(TINY, "tiny.ron").unwrap()
}

pub fn config(extra: &str) -> TelemetryConfig {
    ron::from_str(&format!("(site: Some(\"{SITE}\"), {extra})")).unwrap()
}

/// The tiny scene's twin connected to `url`, subscriptions in place.
pub fn twin(url: &str, cfg: &TelemetryConfig) -> App {
    twin_of(&tiny(), url, cfg)
}

/// A scene's twin connected to `url`, subscriptions in place.
pub fn twin_of(scene: &Scene, url: &str, cfg: &TelemetryConfig) -> App {
    let mut app = headless_app(scene);
    let conn = cfg.resolve(Some(url), &scene.site.name).unwrap();
    connect(&mut app, &conn).unwrap();
    assert!(
        pump_until(&mut app, Duration::from_secs(20), |w| w
            .resource::<TelemetryStats>()
            .connected),
        "the twin did not connect: {:?}",
        app.world().resource::<TelemetryStats>().last_error
    );
    app
}

/// Applies telemetry until `f` holds or the time is up.
pub fn pump_until(app: &mut App, timeout: Duration, mut f: impl FnMut(&mut World) -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        pump(
            app.world_mut(),
            Some(Instant::now() + Duration::from_millis(10)),
        );
        if f(app.world_mut()) {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
    }
}

pub fn entity(app: &mut App, id: &str) -> Entity {
    let world = app.world_mut();
    world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .find(|(_, t)| t.0 == id)
        .map(|(e, _)| e)
        .unwrap_or_else(|| panic!("no asset {id}"))
}

pub fn stats(app: &App) -> TelemetryStats {
    app.world().resource::<TelemetryStats>().clone()
}

pub fn now_ms() -> i64 {
    kos_twin::telemetry::client::now_ms()
}

pub fn topic(asset: &str, leaf: &str) -> String {
    format!("kos/v1/{SITE}/{asset}/{leaf}")
}
