//! What a proposal does to a scene: the change it describes, made on a copy of the
//! community's scene, so that the twin can run the baseline and the proposal side by side
//! before the vote, and enact it after. The result is checked like any scene.

use kos_scene::{ConsumerCommons, Dna, GeneratorKind, GeneratorSpec, PodSpec, Scene, StorageSpec};

use crate::Error;
use crate::proposal::{Change, Module, Proposal};

/// The settings a `Setting` change may set, by the kind of asset that has them.
pub const SETTINGS: [&str; 7] = [
    "rated_kw",
    "setpoint_kw",
    "import_limit_kw",
    "export_limit_kw",
    "power_kw",
    "energy_kwh",
    "soc_min",
];

fn invalid(p: &Proposal, problem: String) -> Error {
    Error::Invalid {
        proposal: p.id.clone(),
        problems: vec![problem],
    }
}

/// The proposal's record in the Infrastructure DNA of what it adds.
fn dna(p: &Proposal) -> Dna {
    Dna {
        purpose: format!("{} (proposal {})", p.title, p.id),
        ..Dna::default()
    }
}

/// The scene as it would be with the proposal enacted: checked first against `scene`, then the
/// result checked as a scene (`Override` and `Text` change nothing in it).
pub fn apply(p: &Proposal, scene: &Scene) -> Result<Scene, Error> {
    p.check(scene)?;
    let mut s = scene.clone();
    match &p.change {
        Change::AddModule { id, bus, module } => {
            let unit = |kind, rated_kw| {
                GeneratorSpec::new_unit(id.clone(), bus.clone(), kind, rated_kw, dna(p))
            };
            match module {
                Module::Solar {
                    rated_kw,
                    tilt_deg,
                    azimuth_deg,
                } => s.generators.push(unit(
                    GeneratorKind::Solar {
                        tilt_deg: *tilt_deg,
                        azimuth_deg: *azimuth_deg,
                    },
                    *rated_kw,
                )),
                Module::Wind { rated_kw } => s
                    .generators
                    .push(unit(GeneratorKind::small_wind(), *rated_kw)),
                Module::Battery {
                    energy_kwh,
                    power_kw,
                } => s.storage.push(StorageSpec::new_battery(
                    id.clone(),
                    bus.clone(),
                    *energy_kwh,
                    *power_kw,
                    dna(p),
                )),
            }
        }
        Change::Remove { asset } => {
            let before = s.generators.len() + s.storage.len() + s.loads.len() + s.pods.len();
            s.generators.retain(|g| &g.id != asset);
            s.storage.retain(|b| &b.id != asset);
            s.loads.retain(|l| &l.id != asset);
            s.pods.retain(|x| &x.id != asset);
            if s.generators.len() + s.storage.len() + s.loads.len() + s.pods.len() == before {
                return Err(invalid(
                    p,
                    format!("change.asset: `{asset}` is not a unit, battery, load or pod"),
                ));
            }
        }
        Change::Reconfigure {
            switch,
            normally_open,
        } => {
            let sw = s.switches.iter_mut().find(|x| &x.id == switch);
            let sw = sw.expect("checked");
            sw.normally_open = *normally_open;
            sw.closed = None;
        }
        Change::DeployPod {
            id,
            kind,
            bus,
            occupants,
            power_kw,
            priority,
        } => {
            let at = s.buses.iter().find(|b| &b.id == bus).expect("checked");
            let position = (at.position.0 + 10.0, at.position.1 + 10.0);
            s.pods.push(PodSpec {
                id: id.clone(),
                kind: *kind,
                bus: bus.clone(),
                position,
                occupants: *occupants,
                power_kw: *power_kw,
                water_m3_per_day: 0.0,
                bandwidth_mbps: 0.0,
                priority: *priority,
                places: None,
                reservoir_m3: 0.0,
                commons: ConsumerCommons::default(),
                dna: dna(p),
            });
        }
        Change::Weight { consumer, weight } => {
            commons_of(&mut s, consumer).weight = Some(*weight);
        }
        Change::Minimum { consumer, minimum } => {
            commons_of(&mut s, consumer).minimum = Some(*minimum);
        }
        Change::Cap { consumer, cap_kw } => {
            commons_of(&mut s, consumer).cap_kw = *cap_kw;
        }
        Change::Tokens {
            rate_per_kwh,
            slot_priority_tokens,
        } => {
            if let Some(r) = rate_per_kwh {
                s.commons.token_rate_per_kwh = *r;
            }
            if let Some(t) = slot_priority_tokens {
                s.commons.slot_priority_tokens = *t;
            }
        }
        Change::Setting {
            asset,
            setting,
            value,
        } => set(&mut s, asset, setting, *value).map_err(|m| invalid(p, m))?,
        Change::Override { .. } | Change::Text => {}
    }
    // The result must be a scene the twin loads.
    kos_scene::parse(&kos_scene::to_ron(&s), &format!("{} applied", p.id)).map_err(|errors| {
        Error::Invalid {
            proposal: p.id.clone(),
            problems: errors.iter().map(|e| e.to_string()).collect(),
        }
    })
}

fn commons_of<'a>(s: &'a mut Scene, consumer: &str) -> &'a mut ConsumerCommons {
    if let Some(i) = s.loads.iter().position(|l| l.id == consumer) {
        return &mut s.loads[i].commons;
    }
    let i = s.pods.iter().position(|x| x.id == consumer);
    &mut s.pods[i.expect("checked")].commons
}

/// Sets one of [`SETTINGS`] on the unit or battery that has it.
fn set(s: &mut Scene, asset: &str, setting: &str, value: f64) -> Result<(), String> {
    let not_there =
        || format!("change.setting: `{asset}` has no setting `{setting}` (one of {SETTINGS:?})");
    if let Some(g) = s.generators.iter_mut().find(|g| g.id == asset) {
        match (setting, &mut g.kind) {
            ("rated_kw", _) => g.rated_kw = value,
            ("setpoint_kw", _) => g.setpoint_kw = value,
            (
                "import_limit_kw",
                GeneratorKind::GridTie {
                    import_limit_kw, ..
                },
            ) => *import_limit_kw = value,
            (
                "export_limit_kw",
                GeneratorKind::GridTie {
                    export_limit_kw, ..
                },
            ) => *export_limit_kw = value,
            _ => return Err(not_there()),
        }
        return Ok(());
    }
    if let Some(b) = s.storage.iter_mut().find(|b| b.id == asset) {
        match setting {
            "power_kw" => b.power_kw = value,
            "energy_kwh" => b.energy_kwh = value,
            "soc_min" => b.soc_min = value,
            _ => return Err(not_there()),
        }
        return Ok(());
    }
    Err(not_there())
}
