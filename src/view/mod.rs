//! The 3D view: terrain around the site, the grid and pods as shapes, loading as colours,
//! power flow as moving arrows, light from the simulated sun, an orbit camera and picking. It
//! reads simulation components and never writes them.

mod assets;
mod camera;
pub mod flows;
pub mod palette;
pub mod sun;
mod terrain;

use bevy::prelude::*;

use crate::model::{SitePosition, Span};

pub use assets::{Hovered, VisualOf};
pub use terrain::Terrain;

/// Maps a site position (metres east, north) and a height to a point in the 3D world
/// (x east, y up, z south).
pub fn world_point(site: Vec2, height: f32) -> Vec3 {
    Vec3::new(site.x, height, -site.y)
}

/// Corners of the area the assets occupy, site metres (a 200 m square when there are none).
pub fn site_bounds(points: &Query<&SitePosition>, spans: &Query<&Span>) -> (Vec2, Vec2) {
    let mut min = Vec2::splat(f32::MAX);
    let mut max = Vec2::splat(f32::MIN);
    for p in points
        .iter()
        .map(|p| p.0)
        .chain(spans.iter().flat_map(|s| [s.from, s.to]))
    {
        min = min.min(p);
        max = max.max(p);
    }
    if min.x > max.x {
        (Vec2::splat(-100.0), Vec2::splat(100.0))
    } else {
        (min, max)
    }
}

/// Registers the view systems.
pub fn plugin(app: &mut App) {
    app.insert_resource(ClearColor(Color::srgb(0.62, 0.74, 0.86)))
        .add_plugins((
            terrain::plugin,
            assets::plugin,
            flows::plugin,
            sun::plugin,
            camera::plugin,
        ));
}
