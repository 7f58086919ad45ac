//! Plug-and-play modules: a solar array, a wind turbine or a battery plugged in while the
//! twin runs (from the overlay now; telemetry birth messages use the same path). The module
//! is spawned like any scene asset, the grid model is rebuilt from the world, and the next
//! tick dispatches and solves with it.

use bevy::prelude::*;
use kos_scene::{Dna, GeneratorKind, GeneratorSpec, StorageSpec};

use super::SimSet;
use super::alarms::{Alarm, Alarms, Severity};
use crate::model::*;
use crate::scene::spawn::{spawn_generator, spawn_storage};

/// Kinds of module that can be plugged in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleKind {
    /// Rooftop solar array, south-facing at 30 degrees.
    Solar,
    /// Small wind turbine, 30 m hub.
    Wind,
    /// Battery, two hours at rated power, grid-following.
    Battery,
}

impl ModuleKind {
    /// Every kind, for menus.
    pub const ALL: [ModuleKind; 3] = [Self::Solar, Self::Wind, Self::Battery];

    /// Name for people and ids.
    pub fn label(self) -> &'static str {
        match self {
            Self::Solar => "solar",
            Self::Wind => "wind",
            Self::Battery => "battery",
        }
    }
}

/// A request to plug a module in at a bus.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct PlugIn {
    /// Kind.
    pub kind: ModuleKind,
    /// Bus id.
    pub bus: String,
    /// Rated power, kW.
    pub rated_kw: f64,
}

/// Plugs in the requested modules and rebuilds the grid. Returns the ids given.
pub fn plug_in(world: &mut World, requests: &[PlugIn]) -> Vec<String> {
    let mut added = Vec::new();
    for r in requests {
        let bus = world
            .query::<(&AssetTag, &AssetKind, &SitePosition, &Neighbourhood)>()
            .iter(world)
            .find(|(t, k, ..)| **k == AssetKind::Bus && t.0 == r.bus)
            .map(|(_, _, p, h)| (p.0, h.clone()));
        let now = world
            .get_resource::<super::SimClock>()
            .map(|c| c.now_text())
            .unwrap_or_default();
        let Some((pos, hood)) = bus.filter(|_| r.rated_kw.is_finite() && r.rated_kw > 0.0) else {
            if let Some(mut alarms) = world.get_resource_mut::<Alarms>() {
                alarms.raise(Alarm {
                    t: now,
                    severity: Severity::Warning,
                    asset: None,
                    message: format!(
                        "module not plugged in: bus `{}` unknown or rating {} kW not positive",
                        r.bus, r.rated_kw
                    ),
                });
            }
            continue;
        };
        let taken: std::collections::BTreeSet<String> = world
            .query::<&AssetTag>()
            .iter(world)
            .map(|t| t.0.clone())
            .collect();
        let id = (1..)
            .map(|n| format!("{}-{}-{n}", r.kind.label(), r.bus))
            .find(|id| !taken.contains(id))
            .unwrap_or_default();
        let order = taken.len();
        let dna = Dna {
            purpose: format!("{} module plugged in while running", r.kind.label()),
            rated_limits: format!("{} kW", r.rated_kw),
            commissioned: now.get(..10).unwrap_or_default().to_string(),
            maintenance: Vec::new(),
        };
        let generator = |kind| GeneratorSpec {
            id: id.clone(),
            bus: r.bus.clone(),
            kind,
            rated_kw: r.rated_kw,
            setpoint_kw: 0.0,
            voltage_pu: 1.0,
            in_service: true,
            dna: dna.clone(),
        };
        match r.kind {
            ModuleKind::Solar => spawn_generator(
                world,
                &generator(GeneratorKind::Solar {
                    tilt_deg: 30.0,
                    azimuth_deg: 180.0,
                }),
                order,
                pos,
                hood,
            ),
            ModuleKind::Wind => spawn_generator(
                world,
                &generator(GeneratorKind::Wind {
                    hub_height_m: 30.0,
                    cut_in_m_s: 3.0,
                    rated_m_s: 11.0,
                    cut_out_m_s: 25.0,
                }),
                order,
                pos,
                hood,
            ),
            ModuleKind::Battery => spawn_storage(
                world,
                &StorageSpec {
                    id: id.clone(),
                    bus: r.bus.clone(),
                    energy_kwh: 2.0 * r.rated_kw,
                    power_kw: r.rated_kw,
                    charge_efficiency: 0.95,
                    discharge_efficiency: 0.95,
                    soc_min: 0.1,
                    soc_max: 0.95,
                    soc: 0.5,
                    grid_forming: false,
                    voltage_pu: 1.0,
                    in_service: true,
                    dna,
                },
                order,
                pos,
                hood,
            ),
        };
        info!("{} module {id} plugged in at {}", r.kind.label(), r.bus);
        added.push(id);
    }
    if !added.is_empty() {
        super::grid::rebuild(world);
    }
    added
}

fn plug_in_requested(world: &mut World) {
    let requests: Vec<PlugIn> = world.resource_mut::<Messages<PlugIn>>().drain().collect();
    if !requests.is_empty() {
        plug_in(world, &requests);
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_message::<PlugIn>();
    app.add_systems(FixedUpdate, plug_in_requested.in_set(SimSet::Ingest));
}
