//! Light that follows the simulated sun: its direction from the solar position the energy
//! models use (NREL's SPA, [`WeatherState::sun`]), its strength from the sun's elevation and
//! this tick's clouds, a sky from day blue through sunset to night. One shadow-casting light,
//! so low evening sun throws long shadows at a fixed cost.

use bevy::light::CascadeShadowConfigBuilder;
use bevy::prelude::*;

use crate::model::{SitePosition, Span};
use crate::sim::environment::WeatherState;

/// The directional light that stands for the sun.
#[derive(Component, Debug, Clone, Copy)]
pub struct Sun;

/// Unit vector from the ground towards the sun in world space (x east, y up, z south), from
/// its azimuth (clockwise from north) and elevation, degrees.
pub fn sun_direction(azimuth_deg: f64, elevation_deg: f64) -> Vec3 {
    let (az, el) = (azimuth_deg.to_radians(), elevation_deg.to_radians());
    Vec3::new(
        (el.cos() * az.sin()) as f32,
        el.sin() as f32,
        (-el.cos() * az.cos()) as f32,
    )
}

/// How the scene is lit at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Daylight {
    /// Direct sunlight, lux (0 with the sun down).
    pub sun_lux: f32,
    /// Ambient light (the sky's diffuse light, moonlight at night), Bevy's brightness units.
    pub ambient: f32,
    /// Colour of the sky behind the scene.
    pub sky: Color,
    /// Colour of the direct light (warmer near the horizon).
    pub sun_color: Color,
}

/// Direct sun at full elevation under a clear sky, lux (scaled to the view's exposure).
const FULL_SUN_LUX: f32 = 5_000.0;
/// Ambient brightness at night, enough to make out the map by moonlight.
const NIGHT_AMBIENT: f32 = 60.0;
/// Ambient brightness of a clear day.
const DAY_AMBIENT: f32 = 300.0;

/// The light for a sun at `elevation_deg` under `cloud_cover` (0 to 1). Direct light follows
/// the sine of the elevation and is dimmed by clouds as Kasten and Czeplak's
/// `1 - 0.75 c^3.4` (Solar Energy 24, 1980) dims irradiance; the sky's light fades through
/// civil twilight (down to 6 degrees below the horizon).
pub fn daylight(elevation_deg: f64, cloud_cover: f64) -> Daylight {
    let el = elevation_deg as f32;
    let cloud = cloud_cover.clamp(0.0, 1.0) as f32;
    let clouds_let_through = 1.0 - 0.75 * cloud.powf(3.4);
    let sun_lux = FULL_SUN_LUX * el.to_radians().sin().max(0.0) * clouds_let_through;
    // 0 at the end of civil twilight, 1 from 10 degrees up.
    let day = ((el + 6.0) / 16.0).clamp(0.0, 1.0);
    let ambient = NIGHT_AMBIENT + (DAY_AMBIENT - NIGHT_AMBIENT) * day;
    // Sunset glow peaks with the sun at the horizon and fades 10 degrees either side.
    let glow = (1.0 - (el / 10.0).abs()).clamp(0.0, 1.0) * (1.0 - cloud);
    let night = Vec3::new(0.04, 0.06, 0.14);
    let clear = Vec3::new(0.55, 0.72, 0.9);
    let overcast = Vec3::new(0.66, 0.69, 0.72);
    let sunset = Vec3::new(0.95, 0.58, 0.38);
    let sky = night
        .lerp(clear.lerp(overcast, cloud), day)
        .lerp(sunset, glow * 0.6);
    let warm = Vec3::new(1.0, 0.62, 0.4);
    let sun_rgb = Vec3::ONE.lerp(warm, (1.0 - el / 25.0).clamp(0.0, 1.0));
    Daylight {
        sun_lux,
        ambient,
        sky: Color::srgb(sky.x, sky.y, sky.z),
        sun_color: Color::srgb(sun_rgb.x, sun_rgb.y, sun_rgb.z),
    }
}

fn spawn_sun(mut commands: Commands, points: Query<&SitePosition>, spans: Query<&Span>) {
    let (min, max) = super::site_bounds(&points, &spans);
    let extent = (max - min).max_element().max(100.0);
    // One cascade in the browser (WebGL2 has one), two on the desktop.
    let cascades = if cfg!(target_arch = "wasm32") { 1 } else { 2 };
    commands.spawn((
        Sun,
        DirectionalLight {
            illuminance: FULL_SUN_LUX * 0.7,
            shadow_maps_enabled: true,
            ..default()
        },
        CascadeShadowConfigBuilder {
            num_cascades: cascades,
            maximum_distance: extent * 2.5,
            first_cascade_far_bound: extent * 0.8,
            ..default()
        }
        .build(),
        Transform::from_xyz(300.0, 800.0, 200.0).looking_at(Vec3::ZERO, Vec3::Y),
    ));
    commands.insert_resource(GlobalAmbientLight {
        brightness: DAY_AMBIENT,
        ..default()
    });
}

/// Moves the sun and sets the light of this tick's sky.
fn follow_sun(
    weather: Option<Res<WeatherState>>,
    mut suns: Query<(&mut DirectionalLight, &mut Transform), With<Sun>>,
    mut ambient: ResMut<GlobalAmbientLight>,
    mut clear: ResMut<ClearColor>,
) {
    let Some(weather) = weather.filter(|w| w.is_changed()) else {
        return;
    };
    let light = daylight(weather.sun.elevation_deg, weather.now.cloud_cover);
    // Below the horizon the light keeps a grazing angle (it gives no light then), so that
    // the shadow maps stay well-formed.
    let towards_sun = sun_direction(weather.sun.azimuth_deg, weather.sun.elevation_deg.max(2.0));
    for (mut sun, mut transform) in &mut suns {
        sun.illuminance = light.sun_lux;
        sun.color = light.sun_color;
        *transform = Transform::default().looking_to(-towards_sun, Vec3::Y);
    }
    ambient.brightness = light.ambient;
    clear.0 = light.sky;
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, spawn_sun)
        .add_systems(Update, follow_sun);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_direction_points_at_the_sun() {
        // Due south at 30 degrees: up and towards +z (south).
        let d = sun_direction(180.0, 30.0);
        assert!((d - Vec3::new(0.0, 0.5, 0.866_025)).length() < 1e-5, "{d}");
        // Due east on the horizon: +x.
        assert!((sun_direction(90.0, 0.0) - Vec3::X).length() < 1e-6);
        // Overhead.
        assert!((sun_direction(37.0, 90.0) - Vec3::Y).length() < 1e-6);
        for az in [0.0, 45.0, 200.0, 359.0] {
            assert!((sun_direction(az, 12.0).length() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn night_is_dark_noon_bright_and_clouds_dim_the_sun() {
        let night = daylight(-30.0, 0.0);
        let dusk = daylight(-3.0, 0.0);
        let evening = daylight(5.0, 0.0);
        let noon = daylight(60.0, 0.0);
        let grey_noon = daylight(60.0, 1.0);
        assert_eq!(night.sun_lux, 0.0);
        assert_eq!(dusk.sun_lux, 0.0);
        assert!(night.ambient < dusk.ambient && dusk.ambient < noon.ambient);
        assert!(0.0 < evening.sun_lux && evening.sun_lux < noon.sun_lux);
        // Kasten-Czeplak: full cover lets a quarter through.
        assert!((grey_noon.sun_lux / noon.sun_lux - 0.25).abs() < 1e-5);
        let lum = |c: Color| {
            let s = c.to_srgba();
            s.red + s.green + s.blue
        };
        assert!(lum(night.sky) < 0.5 && lum(noon.sky) > 1.8);
        // The evening sun is warmer than the noon sun.
        let warmth = |c: Color| {
            let s = c.to_srgba();
            s.red - s.blue
        };
        assert!(warmth(evening.sun_color) > warmth(noon.sun_color) + 0.3);
    }
}
