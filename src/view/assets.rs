//! Shapes for every asset, coloured by its state, and picking to select one.

use bevy::prelude::*;
use kos_scene::{BusSpec, GeneratorKind, GeneratorSpec, LineKind, LineSpec, PodKind, PodSpec};

use super::palette::{self, DARK, GREY};
use super::{Terrain, world_point};
use crate::model::*;
use crate::ui::Selection;

/// Links a shape to the asset it shows.
#[derive(Component, Debug, Clone, Copy)]
pub struct VisualOf(pub Entity);

/// The asset under the mouse pointer, if any (view state).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Hovered(pub Option<Entity>);

/// A part whose colour follows the asset's state; `base` is its colour when all is well.
#[derive(Component, Debug, Clone, Copy)]
struct Tinted {
    base: Color,
}

/// Height of overhead conductors above ground, m.
const OVERHEAD_M: f32 = 7.5;

/// Height of a branch's conductor above the ground at its ends, m, for shapes scaled by `k`:
/// overhead lines on their poles, cables and transformers' leads just above the ground.
pub(super) fn conductor_lift(kind: AssetKind, line: Option<&LineSpec>, k: f32) -> f32 {
    match kind {
        AssetKind::Line if line.is_some_and(|l| l.kind == LineKind::Overhead) => OVERHEAD_M * k,
        AssetKind::Line => 0.4 * k,
        _ => 0.5 * k,
    }
}

/// How much larger than life the shapes are drawn, so that a town-sized grid stays legible
/// from above.
pub(super) fn shape_scale(terrain: &Terrain) -> f32 {
    ((terrain.max - terrain.min).max_element() / 1000.0).clamp(1.0, 5.0)
}

struct Part {
    mesh: Mesh,
    color: Color,
    transform: Transform,
    tinted: bool,
}

fn part(mesh: impl Into<Mesh>, color: Color, transform: Transform) -> Part {
    Part {
        mesh: mesh.into(),
        color,
        transform,
        tinted: false,
    }
}

fn tinted(mesh: impl Into<Mesh>, color: Color, transform: Transform) -> Part {
    Part {
        mesh: mesh.into(),
        color,
        transform,
        tinted: true,
    }
}

/// A box from `a` to `b` (world points) with the given cross-section.
fn beam(a: Vec3, b: Vec3, width: f32, height: f32) -> (Cuboid, Transform) {
    let d = b - a;
    let len = d.length().max(0.01);
    let t = Transform::from_translation((a + b) / 2.0).looking_to(d / len, Vec3::Y);
    (Cuboid::new(width, height, len), t)
}

/// Small deterministic offset so that several units at one bus do not overlap.
fn offset(id: &str, radius: f32) -> Vec2 {
    let h = id
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    let angle = (h % 360) as f32 * std::f32::consts::PI / 180.0;
    Vec2::new(angle.cos(), angle.sin()) * radius
}

#[allow(clippy::type_complexity)]
fn shapes(
    id: &str,
    kind: AssetKind,
    k: f32,
    ground: &dyn Fn(Vec2) -> f32,
    pos: Option<Vec2>,
    span: Option<&Span>,
    bus: Option<&BusSpec>,
    line: Option<&LineSpec>,
    generator: Option<&GeneratorSpec>,
    pod: Option<&PodSpec>,
) -> (Vec3, Vec<Part>) {
    let at = |p: Vec2| world_point(p, ground(p));
    match kind {
        AssetKind::Bus => {
            let p = pos.unwrap_or_default();
            let mv = bus.is_some_and(|b| b.nominal_kv >= 1.0);
            let parts = if mv {
                vec![
                    tinted(
                        Cuboid::new(7.0, 3.5, 5.0),
                        palette::SUBSTATION,
                        Transform::from_xyz(0.0, 1.75, 0.0),
                    ),
                    part(
                        Cuboid::new(7.4, 0.3, 5.4),
                        Color::srgb(0.35, 0.35, 0.38),
                        Transform::from_xyz(0.0, 3.6, 0.0),
                    ),
                ]
            } else {
                vec![
                    tinted(
                        Cylinder::new(0.3, OVERHEAD_M),
                        palette::POLE,
                        Transform::from_xyz(0.0, OVERHEAD_M / 2.0, 0.0),
                    ),
                    part(
                        Cuboid::new(2.4, 0.25, 0.25),
                        Color::srgb(0.3, 0.3, 0.3),
                        Transform::from_xyz(0.0, OVERHEAD_M, 0.0),
                    ),
                ]
            };
            (at(p), parts)
        }
        AssetKind::Line | AssetKind::Transformer | AssetKind::Switch | AssetKind::Route => {
            let s = span.copied().unwrap_or(Span {
                from: Vec2::ZERO,
                to: Vec2::ZERO,
            });
            let (a, b) = (at(s.from), at(s.to));
            let mid = (a + b) / 2.0;
            let rel = |p: Vec3| p - mid;
            let parts = match kind {
                AssetKind::Line => {
                    let overhead = line.is_some_and(|l| l.kind == LineKind::Overhead);
                    let lift = conductor_lift(kind, line, k);
                    let (m, t) = beam(
                        rel(a) + Vec3::Y * lift,
                        rel(b) + Vec3::Y * lift,
                        if overhead { 0.5 * k } else { 1.2 * k },
                        if overhead { 0.5 * k } else { 0.6 * k },
                    );
                    vec![tinted(m, palette::loading_color(0.0), t)]
                }
                AssetKind::Transformer => {
                    let (m, t) = beam(
                        rel(a) + Vec3::Y * 0.5 * k,
                        rel(b) + Vec3::Y * 0.5 * k,
                        0.6 * k,
                        0.6 * k,
                    );
                    vec![
                        part(m, GREY, t),
                        tinted(
                            Cuboid::from_length(3.0 * k),
                            palette::TRANSFORMER,
                            Transform::from_translation(
                                rel(b).lerp(rel(a), 0.15) + Vec3::Y * 1.5 * k,
                            ),
                        ),
                    ]
                }
                AssetKind::Switch => {
                    let (m, t) = beam(
                        rel(a) + Vec3::Y * 0.5 * k,
                        rel(b) + Vec3::Y * 0.5 * k,
                        0.3 * k,
                        0.3 * k,
                    );
                    vec![
                        part(m, GREY, t),
                        tinted(
                            Cuboid::from_length(2.5 * k),
                            palette::SWITCH_CLOSED,
                            Transform::from_xyz(0.0, 1.25 * k, 0.0),
                        ),
                    ]
                }
                _ => {
                    let (m, t) = beam(
                        rel(a) + Vec3::Y * 0.1 * k,
                        rel(b) + Vec3::Y * 0.1 * k,
                        1.2 * k,
                        0.1 * k,
                    );
                    vec![part(m, palette::ROUTE, t)]
                }
            };
            (mid, parts)
        }
        AssetKind::Generator => {
            let p = pos.unwrap_or_default() + offset(id, 12.0 * k);
            let parts = match generator.map(|g| &g.kind) {
                Some(GeneratorKind::Solar { tilt_deg, .. }) => vec![
                    tinted(
                        Cuboid::new(8.0, 0.25, 5.0),
                        palette::SOLAR,
                        Transform::from_xyz(0.0, 2.5, 0.0)
                            .with_rotation(Quat::from_rotation_x(-tilt_deg.to_radians() as f32)),
                    ),
                    part(
                        Cuboid::new(0.3, 2.4, 0.3),
                        GREY,
                        Transform::from_xyz(0.0, 1.2, 0.0),
                    ),
                ],
                Some(GeneratorKind::Wind { hub_height_m, .. }) => {
                    let h = *hub_height_m as f32;
                    let mut v = vec![
                        part(
                            Cylinder::new(1.0, h),
                            Color::srgb(0.93, 0.93, 0.95),
                            Transform::from_xyz(0.0, h / 2.0, 0.0),
                        ),
                        tinted(
                            Cuboid::new(2.0, 2.0, 4.0),
                            palette::WIND,
                            Transform::from_xyz(0.0, h, 0.0),
                        ),
                    ];
                    for k in 0..3 {
                        let a = k as f32 * std::f32::consts::TAU / 3.0;
                        let t = Transform::from_xyz(0.0, h, -2.2)
                            .with_rotation(Quat::from_rotation_z(a))
                            * Transform::from_xyz(0.0, h * 0.22, 0.0);
                        v.push(part(
                            Cuboid::new(0.8, h * 0.44, 0.2),
                            Color::srgb(0.96, 0.96, 0.97),
                            t,
                        ));
                    }
                    v
                }
                Some(GeneratorKind::Chp { .. }) => vec![
                    tinted(
                        Cuboid::new(6.0, 4.0, 5.0),
                        palette::CHP,
                        Transform::from_xyz(0.0, 2.0, 0.0),
                    ),
                    part(
                        Cylinder::new(0.5, 9.0),
                        GREY,
                        Transform::from_xyz(2.0, 4.5, 1.5),
                    ),
                ],
                Some(GeneratorKind::Bio { .. }) => vec![
                    tinted(
                        Sphere::new(4.5),
                        palette::BIO,
                        Transform::from_xyz(0.0, 0.5, 0.0).with_scale(Vec3::new(1.0, 0.7, 1.0)),
                    ),
                    part(
                        Cylinder::new(4.6, 1.0),
                        GREY,
                        Transform::from_xyz(0.0, 0.5, 0.0),
                    ),
                ],
                _ => vec![
                    tinted(
                        Cuboid::new(1.2, 18.0, 1.2),
                        palette::GRID_TIE,
                        Transform::from_xyz(0.0, 9.0, 0.0),
                    ),
                    part(
                        Cuboid::new(7.0, 0.4, 0.4),
                        Color::srgb(0.45, 0.25, 0.6),
                        Transform::from_xyz(0.0, 16.0, 0.0),
                    ),
                    part(
                        Cuboid::new(5.0, 0.4, 0.4),
                        Color::srgb(0.45, 0.25, 0.6),
                        Transform::from_xyz(0.0, 13.0, 0.0),
                    ),
                ],
            };
            (at(p), parts)
        }
        AssetKind::Storage => {
            let p = pos.unwrap_or_default() + offset(id, 9.0 * k);
            (
                at(p),
                vec![tinted(
                    Cuboid::new(5.0, 2.6, 2.4),
                    palette::BATTERY,
                    Transform::from_xyz(0.0, 1.3, 0.0),
                )],
            )
        }
        AssetKind::Load => {
            let p = pos.unwrap_or_default() + offset(id, 16.0 * k);
            (
                at(p),
                vec![
                    tinted(
                        Cuboid::new(5.0, 3.5, 5.0),
                        palette::HOUSEHOLD,
                        Transform::from_xyz(0.0, 1.75, 0.0),
                    ),
                    part(
                        Cuboid::new(5.6, 0.6, 5.6),
                        Color::srgb(0.6, 0.25, 0.2),
                        Transform::from_xyz(0.0, 3.8, 0.0),
                    ),
                ],
            )
        }
        AssetKind::Pod => {
            let p = pos.unwrap_or_default();
            let (size, color) = match pod.map(|p| p.kind) {
                Some(PodKind::Shelter) => (Vec3::new(18.0, 6.0, 12.0), palette::SHELTER),
                Some(PodKind::DataCentre) => (Vec3::new(14.0, 5.0, 10.0), palette::DATA_CENTRE),
                Some(PodKind::WaterUtility) => (Vec3::new(9.0, 9.0, 9.0), palette::WATER),
                Some(PodKind::Clinic) => (Vec3::new(14.0, 6.0, 10.0), palette::CLINIC),
                _ => (Vec3::new(20.0, 7.0, 14.0), palette::FABRICATION),
            };
            let mut parts = vec![tinted(
                Cuboid::from_size(size),
                color,
                Transform::from_xyz(0.0, size.y / 2.0, 0.0),
            )];
            if pod.is_some_and(|p| p.kind == PodKind::Clinic) {
                parts.push(part(
                    Cuboid::new(4.0, 1.0, 1.0),
                    Color::srgb(0.85, 0.1, 0.1),
                    Transform::from_xyz(0.0, size.y + 0.5, 0.0),
                ));
                parts.push(part(
                    Cuboid::new(1.0, 1.0, 4.0),
                    Color::srgb(0.85, 0.1, 0.1),
                    Transform::from_xyz(0.0, size.y + 0.5, 0.0),
                ));
            }
            (at(p), parts)
        }
        AssetKind::Depot => {
            let p = pos.unwrap_or_default();
            (
                at(p),
                vec![tinted(
                    Cuboid::new(16.0, 6.0, 10.0),
                    palette::DEPOT,
                    Transform::from_xyz(0.0, 3.0, 0.0),
                )],
            )
        }
    }
}

#[allow(clippy::type_complexity)]
fn spawn_visuals(
    mut commands: Commands,
    terrain: Option<Res<Terrain>>,
    added: Query<
        (
            Entity,
            &AssetTag,
            &AssetKind,
            Option<&SitePosition>,
            Option<&Span>,
            Option<&Spec<BusSpec>>,
            Option<&Spec<LineSpec>>,
            Option<&Spec<GeneratorSpec>>,
            Option<&Spec<PodSpec>>,
        ),
        Added<AssetTag>,
    >,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Some(terrain) = terrain else { return };
    let ground = |p: Vec2| terrain.height(p);
    let k = shape_scale(&terrain);
    for (asset, id, kind, pos, span, bus, line, generator, pod) in &added {
        let node = !matches!(
            kind,
            AssetKind::Line | AssetKind::Transformer | AssetKind::Switch | AssetKind::Route
        );
        let (origin, parts) = shapes(
            &id.0,
            *kind,
            k,
            &ground,
            pos.map(|p| p.0),
            span,
            bus.map(|b| &b.0),
            line.map(|l| &l.0),
            generator.map(|g| &g.0),
            pod.map(|p| &p.0),
        );
        commands
            .spawn((
                Transform::from_translation(origin).with_scale(Vec3::splat(if node {
                    k
                } else {
                    1.0
                })),
                Visibility::default(),
                VisualOf(asset),
                Name::new(id.0.clone()),
            ))
            .with_children(|root| {
                for p in parts {
                    let mut e = root.spawn((
                        Mesh3d(meshes.add(p.mesh)),
                        MeshMaterial3d(materials.add(StandardMaterial {
                            base_color: p.color,
                            perceptual_roughness: 0.7,
                            // A line's loading colour is information: it reads the same by
                            // day and by night.
                            unlit: p.tinted && *kind == AssetKind::Line,
                            ..default()
                        })),
                        p.transform,
                    ));
                    if p.tinted {
                        e.insert(Tinted { base: p.color });
                    }
                }
            })
            .observe(select_on_click)
            .observe(hover_in)
            .observe(hover_out);
    }
}

fn select_on_click(
    click: On<Pointer<Click>>,
    visuals: Query<&VisualOf>,
    mut selection: ResMut<Selection>,
) {
    if click.button != PointerButton::Primary {
        return;
    }
    if let Ok(v) = visuals.get(click.entity) {
        selection.0 = Some(v.0);
    }
}

fn hover_in(over: On<Pointer<Over>>, visuals: Query<&VisualOf>, mut hovered: ResMut<Hovered>) {
    if let Ok(v) = visuals.get(over.entity) {
        hovered.0 = Some(v.0);
    }
}

fn hover_out(out: On<Pointer<Out>>, visuals: Query<&VisualOf>, mut hovered: ResMut<Hovered>) {
    if let Ok(v) = visuals.get(out.entity)
        && hovered.0 == Some(v.0)
    {
        hovered.0 = None;
    }
}

#[allow(clippy::type_complexity)]
fn tint(
    visuals: Query<(&VisualOf, &Children)>,
    parts: Query<(&Tinted, &MeshMaterial3d<StandardMaterial>)>,
    states: Query<(
        Option<&BusVoltage>,
        Option<&BranchFlow>,
        Option<&SwitchState>,
        Option<&UnitOutput>,
        Option<&Demand>,
        Option<&AssetTag>,
        Option<&AssetKind>,
    )>,
    selection: Res<Selection>,
    protection: Option<Res<crate::protection::Protection>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    for (visual, children) in &visuals {
        let Ok((bus, flow, switch, unit, demand, tag, kind)) = states.get(visual.0) else {
            continue;
        };
        let marked =
            |set: fn(&crate::protection::Protection) -> &std::collections::BTreeSet<String>| {
                protection
                    .as_ref()
                    .zip(tag)
                    .is_some_and(|(p, t)| set(p).contains(&t.0))
            };
        let (faulted, tripped) = (marked(|p| &p.faulted), marked(|p| &p.tripped));
        let selected = selection.0 == Some(visual.0);
        for child in children.iter() {
            let Ok((t, mat)) = parts.get(child) else {
                continue;
            };
            let color = if faulted {
                palette::FAULTED
            } else if tripped {
                palette::TRIPPED
            } else if let Some(sw) = switch.filter(|sw| {
                // A line or transformer that protection switched shows its flow while closed.
                !sw.closed || flow.is_none() || kind == Some(&AssetKind::Switch)
            }) {
                if sw.closed {
                    palette::SWITCH_CLOSED
                } else {
                    palette::SWITCH_OPEN
                }
            } else if let Some(f) = flow {
                if f.energised {
                    palette::loading_color(f.loading_pct)
                } else {
                    DARK
                }
            } else if let Some(v) = bus {
                if v.energised { t.base } else { DARK }
            } else if let Some(u) = unit {
                if u.energised {
                    t.base
                } else {
                    t.base.mix(&DARK, 0.7)
                }
            } else if let Some(d) = demand {
                if d.served {
                    t.base
                } else {
                    t.base.mix(&DARK, 0.7)
                }
            } else {
                t.base
            };
            if let Some(mut m) = materials.get_mut(&mat.0) {
                if m.base_color != color {
                    m.base_color = color;
                }
                let glow = if selected {
                    LinearRgba::rgb(0.6, 0.5, 0.1)
                } else {
                    LinearRgba::BLACK
                };
                if m.emissive != glow {
                    m.emissive = glow;
                }
            }
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Hovered>()
        .add_systems(Update, (spawn_visuals, tint).chain());
}
