//! Terrain from seeded noise around the site.

use bevy::asset::RenderAssetUsages;
use bevy::mesh::{Indices, PrimitiveTopology};
use bevy::picking::Pickable;
use bevy::prelude::*;
use noise::{Fbm, MultiFractal, NoiseFn, Perlin};

use super::world_point;
use crate::model::{SiteInfo, SitePosition, Span};

/// Ground height around the site: gentle hills from fractal noise, seeded by the site.
#[derive(Resource, Clone)]
pub struct Terrain {
    noise: Fbm<Perlin>,
    /// Lowest corner of the modelled area, site metres.
    pub min: Vec2,
    /// Highest corner of the modelled area, site metres.
    pub max: Vec2,
}

impl Terrain {
    /// Peak-to-valley scale of the hills, metres.
    const RELIEF_M: f64 = 12.0;
    /// Horizontal scale of the hills, metres.
    const WAVELENGTH_M: f64 = 900.0;

    /// Terrain for a site seed over the given area.
    pub fn new(seed: u64, min: Vec2, max: Vec2) -> Self {
        let noise = Fbm::<Perlin>::new(seed as u32).set_octaves(4);
        Self { noise, min, max }
    }

    /// Ground height at a site position, metres.
    pub fn height(&self, p: Vec2) -> f32 {
        let v = self.noise.get([
            p.x as f64 / Self::WAVELENGTH_M,
            p.y as f64 / Self::WAVELENGTH_M,
        ]);
        (v * Self::RELIEF_M * 0.5) as f32
    }

    fn mesh(&self, n: usize) -> Mesh {
        let size = self.max - self.min;
        let mut positions = Vec::with_capacity(n * n);
        let mut colors = Vec::with_capacity(n * n);
        let mut normals = Vec::with_capacity(n * n);
        let step = size / (n as f32 - 1.0);
        for j in 0..n {
            for i in 0..n {
                let p = self.min + Vec2::new(i as f32 * step.x, j as f32 * step.y);
                let h = self.height(p);
                positions.push(world_point(p, h).to_array());
                // Normal from central differences.
                let dx = self.height(p + Vec2::X) - self.height(p - Vec2::X);
                let dy = self.height(p + Vec2::Y) - self.height(p - Vec2::Y);
                normals.push(Vec3::new(-dx, 2.0, dy).normalize().to_array());
                let t = ((h as f64 / Self::RELIEF_M) + 0.5).clamp(0.0, 1.0) as f32;
                let low = Vec3::new(0.33, 0.52, 0.24);
                let high = Vec3::new(0.55, 0.60, 0.36);
                let c = low.lerp(high, t);
                colors.push([c.x, c.y, c.z, 1.0]);
            }
        }
        let mut indices = Vec::with_capacity((n - 1) * (n - 1) * 6);
        for j in 0..n - 1 {
            for i in 0..n - 1 {
                let a = (j * n + i) as u32;
                let b = a + 1;
                let c = a + n as u32;
                let d = c + 1;
                indices.extend_from_slice(&[a, b, c, b, d, c]);
            }
        }
        Mesh::new(
            PrimitiveTopology::TriangleList,
            RenderAssetUsages::default(),
        )
        .with_inserted_attribute(Mesh::ATTRIBUTE_POSITION, positions)
        .with_inserted_attribute(Mesh::ATTRIBUTE_NORMAL, normals)
        .with_inserted_attribute(Mesh::ATTRIBUTE_COLOR, colors)
        .with_inserted_indices(Indices::U32(indices))
    }
}

fn spawn_terrain(
    mut commands: Commands,
    site: Option<Res<SiteInfo>>,
    points: Query<&SitePosition>,
    spans: Query<&Span>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut materials: ResMut<Assets<StandardMaterial>>,
) {
    let Some(site) = site else { return };
    let (min, max) = super::site_bounds(&points, &spans);
    let margin = ((max - min).max_element() * 0.25).max(150.0);
    let terrain = Terrain::new(site.seed, min - margin, max + margin);
    commands.spawn((
        Mesh3d(meshes.add(terrain.mesh(96))),
        MeshMaterial3d(materials.add(StandardMaterial {
            perceptual_roughness: 0.95,
            ..default()
        })),
        Pickable::IGNORE,
        Name::new("terrain"),
    ));
    commands.insert_resource(terrain);
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, spawn_terrain);
}
