//! The 3D view: terrain around the site, the grid and pods as shapes, flows as colours, an
//! orbit camera and picking. It reads simulation components and never writes them.

mod assets;
mod camera;
mod terrain;

use bevy::prelude::*;

pub use terrain::Terrain;

/// Maps a site position (metres east, north) and a height to a point in the 3D world
/// (x east, y up, z south).
pub fn world_point(site: Vec2, height: f32) -> Vec3 {
    Vec3::new(site.x, height, -site.y)
}

/// Registers the view systems.
pub fn plugin(app: &mut App) {
    app.insert_resource(ClearColor(Color::srgb(0.62, 0.74, 0.86)))
        .add_plugins((terrain::plugin, assets::plugin, camera::plugin));
}
