//! Power flow on the map: a row of arrows travels along every line, cable and transformer in
//! the direction the active power flows, faster the more power it carries. Arrows hide on a
//! de-energised or idle branch.
//!
//! The motion ([`motion_plugin`]) needs no renderer, so tests can watch it headless; the
//! arrows' mesh and material are added by [`plugin`] on top.

use bevy::prelude::*;
use kos_scene::LineSpec;

use super::assets::{conductor_lift, shape_scale};
use super::{Terrain, palette, world_point};
use crate::model::*;

/// Below this, kW, a branch shows no arrows: nothing worth showing flows.
pub const IDLE_KW: f64 = 0.5;

/// Speed of the arrows on a branch carrying `p_kw` (either sign), m/s before the shapes'
/// scale: 0 when idle, then growing with the square root of the power (so that a 10 kW
/// cable and a 2 MW feeder both read at a glance), from 1.5 to 60 m/s.
pub fn arrow_speed_m_s(p_kw: f64) -> f32 {
    if !p_kw.is_finite() || p_kw.abs() < IDLE_KW {
        return 0.0;
    }
    (3.0 * (p_kw.abs() / 10.0).sqrt()).clamp(1.5, 60.0) as f32
}

/// The arrows of one branch (a view entity; its children are the [`FlowArrow`]s).
#[derive(Component, Debug, Clone, Copy)]
pub struct FlowTrack {
    /// The branch whose flow it shows.
    pub branch: Entity,
    /// The branch's from end, world space (above the conductor).
    pub from: Vec3,
    /// Its to end.
    pub to: Vec3,
    /// How far the arrows have travelled since the track appeared, m.
    pub travelled_m: f32,
    /// The shapes' scale (arrow speed and size grow with it).
    pub scale: f32,
}

/// One arrow of a track: its place in the row.
#[derive(Component, Debug, Clone, Copy)]
pub struct FlowArrow {
    /// Position in the row, from 0.
    pub index: usize,
    /// Arrows in the row.
    pub of: usize,
}

/// Distance between arrows, m, before the shapes' scale.
const SPACING_M: f32 = 30.0;

fn spawn_tracks(
    mut commands: Commands,
    terrain: Option<Res<Terrain>>,
    added: Query<(Entity, &AssetKind, &Span, Option<&Spec<LineSpec>>), Added<AssetTag>>,
) {
    let Some(terrain) = terrain else { return };
    let k = shape_scale(&terrain);
    for (branch, kind, span, line) in &added {
        if !matches!(kind, AssetKind::Line | AssetKind::Transformer) {
            continue;
        }
        // Just above the conductor, so the arrows ride on it.
        let lift = conductor_lift(*kind, line.map(|l| &l.0), k) + 1.2 * k;
        let at = |p: Vec2| world_point(p, terrain.height(p) + lift);
        let (from, to) = (at(span.from), at(span.to));
        let of = ((from.distance(to) / (SPACING_M * k)).round() as usize).clamp(1, 64);
        commands
            .spawn((
                FlowTrack {
                    branch,
                    from,
                    to,
                    travelled_m: 0.0,
                    scale: k,
                },
                Transform::default(),
                Visibility::Hidden,
                Name::new("flow arrows"),
            ))
            .with_children(|track| {
                for index in 0..of {
                    track.spawn((
                        FlowArrow { index, of },
                        // The arrow's cone is sized for k = 1.
                        Transform::from_translation(from).with_scale(Vec3::splat(k)),
                    ));
                }
            });
    }
}

/// Moves every track's arrows by this frame's time, from the sending end towards the
/// receiving end.
fn move_arrows(
    time: Res<Time>,
    flows: Query<&BranchFlow>,
    mut tracks: Query<(&mut FlowTrack, &mut Visibility, &Children)>,
    mut arrows: Query<(&FlowArrow, &mut Transform)>,
) {
    let dt = time.delta_secs();
    for (mut track, mut visibility, children) in &mut tracks {
        let flow = flows.get(track.branch).ok();
        let p_kw = flow.filter(|f| f.energised).map_or(0.0, |f| f.p_from_kw);
        let speed = arrow_speed_m_s(p_kw) * track.scale;
        let shown = if speed > 0.0 {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        visibility.set_if_neq(shown);
        if speed == 0.0 {
            continue;
        }
        // Power into the branch at its from end flows towards the to end.
        let (start, end) = if p_kw >= 0.0 {
            (track.from, track.to)
        } else {
            (track.to, track.from)
        };
        let length = start.distance(end);
        if length < 1e-3 {
            continue;
        }
        let dir = (end - start) / length;
        track.travelled_m = (track.travelled_m + speed * dt) % length;
        let rotation = Quat::from_rotation_arc(Vec3::Y, dir);
        for child in children.iter() {
            let Ok((arrow, mut transform)) = arrows.get_mut(child) else {
                continue;
            };
            let s = (arrow.index as f32 / arrow.of as f32 * length + track.travelled_m) % length;
            transform.translation = start + dir * s;
            transform.rotation = rotation;
        }
    }
}

/// The arrows' shape: a cone pointing along +Y, unlit so it reads at night too.
#[derive(Resource)]
struct ArrowLook {
    mesh: Handle<Mesh>,
    material: Handle<StandardMaterial>,
}

fn make_arrow_look(
    mut commands: Commands,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    commands.insert_resource(ArrowLook {
        mesh: meshes.add(Cone {
            radius: 1.1,
            height: 3.2,
        }),
        material: materials.add(StandardMaterial {
            base_color: palette::FLOW,
            unlit: true,
            ..default()
        }),
    });
}

fn dress_arrows(
    mut commands: Commands,
    look: Res<ArrowLook>,
    added: Query<Entity, Added<FlowArrow>>,
) {
    for arrow in &added {
        commands.entity(arrow).insert((
            Mesh3d(look.mesh.clone()),
            MeshMaterial3d(look.material.clone()),
        ));
    }
}

/// The arrows' motion alone, with no mesh: what tests watch.
pub fn motion_plugin(app: &mut App) {
    app.add_systems(Update, (spawn_tracks, move_arrows).chain());
}

/// The arrows, moving and drawn.
pub(super) fn plugin(app: &mut App) {
    app.add_plugins(motion_plugin)
        .add_systems(Startup, make_arrow_look)
        .add_systems(Update, dress_arrows.after(spawn_tracks));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_stop_when_idle_and_speed_up_with_power_either_way() {
        assert_eq!(arrow_speed_m_s(0.0), 0.0);
        assert_eq!(arrow_speed_m_s(0.3), 0.0);
        assert_eq!(arrow_speed_m_s(f64::NAN), 0.0);
        assert_eq!(arrow_speed_m_s(-250.0), arrow_speed_m_s(250.0));
        let mut last = 0.0;
        for p in [1.0, 20.0, 100.0, 400.0, 2_000.0] {
            let v = arrow_speed_m_s(p);
            assert!(v >= last, "{p} kW: {v} m/s");
            last = v;
        }
        assert!(arrow_speed_m_s(400.0) > 2.0 * arrow_speed_m_s(40.0));
        assert_eq!(arrow_speed_m_s(1e9), 60.0);
    }
}
