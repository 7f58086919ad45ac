//! Orbit, pan and zoom camera. Input over the overlay never reaches it.

use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll};
use bevy::prelude::*;
use bevy_egui::input::egui_wants_any_pointer_input;

use super::world_point;
use crate::model::{SitePosition, Span};

/// Where the camera looks from.
#[derive(Component, Debug, Clone, Copy)]
pub struct OrbitCamera {
    /// Point looked at.
    pub focus: Vec3,
    /// Distance from the focus, m.
    pub radius: f32,
    /// Turn about the vertical, radians.
    pub yaw: f32,
    /// Elevation, radians.
    pub pitch: f32,
}

impl OrbitCamera {
    fn transform(&self) -> Transform {
        let rot = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        Transform::from_translation(self.focus + rot * Vec3::new(0.0, 0.0, self.radius))
            .looking_at(self.focus, Vec3::Y)
    }
}

fn spawn_camera(mut commands: Commands, points: Query<&SitePosition>, spans: Query<&Span>) {
    let (min, max) = super::site_bounds(&points, &spans);
    let centre = (min + max) / 2.0;
    let extent = (max - min).max_element().max(100.0);
    let orbit = OrbitCamera {
        focus: world_point(centre, 0.0),
        radius: extent * 0.8,
        yaw: -0.35,
        pitch: 0.85,
    };
    let camera = (Camera3d::default(), orbit.transform(), orbit);
    // The browser build carries no tone-mapping tables (see Cargo.toml); Reinhard needs none.
    #[cfg(target_arch = "wasm32")]
    commands.spawn((
        camera,
        bevy::core_pipeline::tonemapping::Tonemapping::Reinhard,
    ));
    #[cfg(not(target_arch = "wasm32"))]
    commands.spawn(camera);
}

fn orbit_controls(
    buttons: Res<ButtonInput<MouseButton>>,
    motion: Res<AccumulatedMouseMotion>,
    scroll: Res<AccumulatedMouseScroll>,
    mut cameras: Query<(&mut OrbitCamera, &mut Transform)>,
) {
    for (mut orbit, mut transform) in &mut cameras {
        let d = motion.delta;
        if buttons.pressed(MouseButton::Left) && d != Vec2::ZERO {
            orbit.yaw -= d.x * 0.005;
            orbit.pitch = (orbit.pitch + d.y * 0.005).clamp(0.05, 1.5);
        }
        if (buttons.pressed(MouseButton::Right) || buttons.pressed(MouseButton::Middle))
            && d != Vec2::ZERO
        {
            let right = transform.right().as_vec3();
            let forward =
                Vec3::new(transform.forward().x, 0.0, transform.forward().z).normalize_or_zero();
            let k = orbit.radius * 0.0015;
            orbit.focus += -right * d.x * k + forward * d.y * k;
        }
        if scroll.delta.y != 0.0 {
            orbit.radius = (orbit.radius * (1.0 - scroll.delta.y * 0.1)).clamp(10.0, 20_000.0);
        }
        *transform = orbit.transform();
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, spawn_camera).add_systems(
        Update,
        orbit_controls.run_if(not(egui_wants_any_pointer_input)),
    );
}
