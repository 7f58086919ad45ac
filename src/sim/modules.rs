//! Plug-and-play modules from the overlay: a solar array, a wind turbine or a battery of a
//! standard design at a chosen bus, while the twin runs. They go in by the same path as
//! telemetry births ([`crate::scene::plug_in`]): validated like a scene asset, spawned, and
//! the grid rebuilt before the next dispatch.

use bevy::prelude::*;
use kos_scene::{Dna, GeneratorKind, GeneratorSpec, StorageSpec};

use super::SimSet;
use super::alarms::{Alarm, Alarms, Severity};
use crate::model::*;
use crate::scene::{PlugIn, plug_in};

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

/// A request from the overlay to plug a module of a standard design in at a bus.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct PlugInModule {
    /// Kind.
    pub kind: ModuleKind,
    /// Bus id.
    pub bus: String,
    /// Rated power, kW.
    pub rated_kw: f64,
}

impl PlugInModule {
    /// The asset this request describes, with the id `id`.
    pub fn asset(&self, id: String, commissioned: &str) -> PlugIn {
        let dna = Dna {
            purpose: format!("{} module plugged in while running", self.kind.label()),
            rated_limits: format!("{} kW", self.rated_kw),
            commissioned: commissioned.to_string(),
            maintenance: Vec::new(),
        };
        let generator = |kind| {
            GeneratorSpec::new_unit(
                id.clone(),
                self.bus.clone(),
                kind,
                self.rated_kw,
                dna.clone(),
            )
        };
        match self.kind {
            ModuleKind::Solar => PlugIn::Generator(generator(GeneratorKind::Solar {
                tilt_deg: 30.0,
                azimuth_deg: 180.0,
            })),
            ModuleKind::Wind => PlugIn::Generator(generator(GeneratorKind::small_wind())),
            ModuleKind::Battery => PlugIn::Storage(StorageSpec::new_battery(
                id.clone(),
                self.bus.clone(),
                2.0 * self.rated_kw,
                self.rated_kw,
                dna,
            )),
        }
    }
}

/// Plugs in the requested modules, each checked by the scene's validation; the grid is
/// rebuilt before the next dispatch. Returns the ids given to the modules that went in; a
/// request that fails raises a warning alarm with the reason.
pub fn plug_in_modules(world: &mut World, requests: &[PlugInModule]) -> Vec<String> {
    let mut added = Vec::new();
    for r in requests {
        let now = world
            .get_resource::<super::SimClock>()
            .map(|c| c.now_text())
            .unwrap_or_default();
        let taken: std::collections::BTreeSet<String> = world
            .query::<&AssetTag>()
            .iter(world)
            .map(|t| t.0.clone())
            .collect();
        let id = (1..)
            .map(|n| format!("{}-{}-{n}", r.kind.label(), r.bus))
            .find(|id| !taken.contains(id))
            .unwrap_or_default();
        let asset = r.asset(id.clone(), now.get(..10).unwrap_or_default());
        match plug_in(world, asset) {
            Ok(_) => {
                info!("{} module {id} plugged in at {}", r.kind.label(), r.bus);
                added.push(id);
            }
            Err(reason) => {
                if let Some(mut alarms) = world.get_resource_mut::<Alarms>() {
                    alarms.raise(Alarm {
                        t: now,
                        severity: Severity::Warning,
                        asset: None,
                        message: format!(
                            "{} module not plugged in at {}: {reason}",
                            r.kind.label(),
                            r.bus
                        ),
                    });
                }
            }
        }
    }
    added
}

fn plug_in_requested(world: &mut World) {
    let requests: Vec<PlugInModule> = world
        .resource_mut::<Messages<PlugInModule>>()
        .drain()
        .collect();
    if !requests.is_empty() {
        plug_in_modules(world, &requests);
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_message::<PlugInModule>();
    app.add_systems(FixedUpdate, plug_in_requested.in_set(SimSet::Ingest));
}
