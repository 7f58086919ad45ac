//! kos-twin: an interactive digital twin of a community's energy mesh, infrastructure pods
//! and supply network.
//!
//! The simulation ([`simulation_plugin`]) runs the same with or without a window; the
//! desktop adds the 3D view and the overlay ([`presentation_plugin`]), which read the world
//! and never write simulation state.

pub mod app;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
pub mod commons;
#[cfg(not(target_arch = "wasm32"))]
pub mod desktop;
#[cfg(not(target_arch = "wasm32"))]
pub mod governance;
#[cfg(not(target_arch = "wasm32"))]
pub mod headless;
#[cfg(not(target_arch = "wasm32"))]
pub mod ledger;
pub mod model;
pub mod protection;
pub mod report;
pub mod scene;
pub mod sim;
#[cfg(not(target_arch = "wasm32"))]
pub mod telemetry;
pub mod ui;
pub mod view;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod web_mqtt;

use bevy::prelude::*;

/// Everything that runs without a window: scene loading, the tick, the report.
pub fn simulation_plugin(app: &mut App) {
    app.add_plugins((
        scene::plugin,
        sim::plugin,
        protection::plugin,
        commons::plugin,
        report::plugin,
    ));
    // Live telemetry over MQTT: native only (the browser build runs on the simulator).
    #[cfg(not(target_arch = "wasm32"))]
    app.add_plugins(telemetry::plugin);
}

/// The 3D view and the egui overlay.
pub fn presentation_plugin(app: &mut App) {
    app.add_plugins((view::plugin, ui::plugin));
}
