//! Governance in the twin (native only): `simulate` runs a proposal against the baseline
//! before the vote (`kos-twin proposal simulate`); enactment makes a passed proposal's change
//! in the running world through the paths the twin already uses (a module plugged in, a unit
//! taken out of service, a consumer's commons settings, the token rules, a unit's setting),
//! records it for the report and the ledger, and raises an alarm when it cannot.

pub mod simulate;

pub use simulate::{ProposalCommand, SimulateArgs, run};

use std::path::PathBuf;

use bevy::prelude::*;
use kos_governance::{Change, Proposal};
use kos_scene::{GeneratorSpec, LoadSpec, PodSpec, StorageSpec};
use serde::Serialize;

use crate::commons::CommonsSettings;
use crate::model::*;
use crate::scene::{PlugIn, plug_in};
use crate::sim::alarms::{Alarm, Alarms, Severity};
use crate::sim::grid::{GridDirty, rebuild, set_in_service};
use crate::sim::{SimClock, SimSet};

/// A proposal to enact at a minute of a run: `FILE@MINUTES`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledEnactment {
    pub file: PathBuf,
    pub at_s: f64,
}

impl std::str::FromStr for ScheduledEnactment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (file, minutes) = s
            .rsplit_once('@')
            .ok_or_else(|| format!("`{s}`: expected FILE@MINUTES"))?;
        let minutes: f64 = minutes
            .parse()
            .ok()
            .filter(|m: &f64| m.is_finite() && *m >= 0.0)
            .ok_or_else(|| format!("`{s}`: MINUTES must be zero or more"))?;
        Ok(Self {
            file: PathBuf::from(file),
            at_s: minutes * 60.0,
        })
    }
}

/// A proposal enacted in the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enacted {
    pub proposal: String,
    /// Its fingerprint (what its ballots signed).
    pub fingerprint: String,
    /// The change's kind.
    pub kind: &'static str,
    /// Local time enacted.
    pub t: String,
    /// The assets it changed or added.
    pub assets: Vec<String>,
}

/// The proposals waiting for their time, and those enacted.
#[derive(Resource, Debug, Clone, Default)]
pub struct Enactments {
    pending: Vec<(f64, Proposal)>,
    /// Enacted so far, oldest first.
    pub done: Vec<Enacted>,
}

/// Reads each proposal file, and enacts each at its minute of the run (the Ingest stage).
pub fn attach(app: &mut App, list: &[ScheduledEnactment]) -> anyhow::Result<()> {
    let mut pending = Vec::new();
    for s in list {
        let text = std::fs::read_to_string(&s.file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", s.file.display()))?;
        let p = kos_governance::proposal::parse(&text, &s.file.display().to_string())?;
        pending.push((s.at_s, p));
    }
    app.insert_resource(Enactments {
        pending,
        done: Vec::new(),
    });
    app.add_systems(FixedUpdate, enact_due.in_set(SimSet::Ingest));
    Ok(())
}

fn enact_due(world: &mut World) {
    let now = world.resource::<SimClock>().elapsed_s as f64;
    let due: Vec<Proposal> = {
        let mut e = world.resource_mut::<Enactments>();
        let (due, later): (Vec<_>, Vec<_>) = e.pending.drain(..).partition(|(at, _)| *at <= now);
        e.pending = later;
        due.into_iter().map(|(_, p)| p).collect()
    };
    for p in due {
        let t = world.resource::<SimClock>().now_text();
        match enact(world, &p) {
            Ok(assets) => world.resource_mut::<Enactments>().done.push(Enacted {
                proposal: p.id.clone(),
                fingerprint: p.fingerprint_hex(),
                kind: p.change.kind(),
                t,
                assets,
            }),
            Err(e) => world.resource_mut::<Alarms>().raise(Alarm {
                t,
                severity: Severity::Warning,
                asset: None,
                message: format!("proposal {} could not be enacted: {e}", p.id),
            }),
        }
    }
    if world.get_resource::<GridDirty>().is_some_and(|d| d.0) {
        rebuild(world);
    }
}

/// Makes a proposal's change in the running world (checked against the world's scene as it
/// stands); the assets it changed.
pub fn enact(world: &mut World, p: &Proposal) -> Result<Vec<String>, String> {
    let scene = crate::scene::save_scene(world);
    let changed = kos_governance::apply(p, &scene).map_err(|e| e.to_string())?;
    let not_yet = |what: &str| Err(format!("{what} in a running twin is not supported yet"));
    match &p.change {
        Change::AddModule { id, .. } => {
            let asset = changed
                .generators
                .iter()
                .find(|g| &g.id == id)
                .cloned()
                .map(PlugIn::Generator)
                .or_else(|| {
                    changed
                        .storage
                        .iter()
                        .find(|b| &b.id == id)
                        .cloned()
                        .map(PlugIn::Storage)
                })
                .ok_or_else(|| format!("`{id}` is not in the changed scene"))?;
            plug_in(world, asset)?;
            Ok(vec![id.clone()])
        }
        Change::Remove { asset } => {
            let e = asset_entity(world, asset).ok_or_else(|| format!("no asset `{asset}`"))?;
            let unit = world.get::<Spec<GeneratorSpec>>(e).is_some()
                || world.get::<Spec<StorageSpec>>(e).is_some();
            if !unit {
                return not_yet("removing a load or pod");
            }
            set_in_service(world, e, false);
            Ok(vec![asset.clone()])
        }
        Change::Weight { consumer, .. }
        | Change::Minimum { consumer, .. }
        | Change::Cap { consumer, .. } => {
            let e =
                asset_entity(world, consumer).ok_or_else(|| format!("no asset `{consumer}`"))?;
            if let Some(mut l) = world.get_mut::<Spec<LoadSpec>>(e) {
                let new = changed.loads.iter().find(|x| &x.id == consumer);
                l.commons = new.expect("applied").commons.clone();
            } else if let Some(mut x) = world.get_mut::<Spec<PodSpec>>(e) {
                let new = changed.pods.iter().find(|x| &x.id == consumer);
                x.commons = new.expect("applied").commons.clone();
            }
            Ok(vec![consumer.clone()])
        }
        Change::Tokens { .. } => {
            world.insert_resource(CommonsSettings(changed.commons.clone()));
            Ok(Vec::new())
        }
        Change::Setting { asset, .. } => {
            let e = asset_entity(world, asset).ok_or_else(|| format!("no asset `{asset}`"))?;
            if let Some(mut g) = world.get_mut::<Spec<GeneratorSpec>>(e) {
                g.0 = changed
                    .generators
                    .iter()
                    .find(|x| &x.id == asset)
                    .expect("applied")
                    .clone();
            } else if let Some(mut b) = world.get_mut::<Spec<StorageSpec>>(e) {
                b.0 = changed
                    .storage
                    .iter()
                    .find(|x| &x.id == asset)
                    .expect("applied")
                    .clone();
            }
            world.insert_resource(GridDirty(true));
            Ok(vec![asset.clone()])
        }
        Change::Reconfigure { .. } => not_yet("changing a switch's normal position"),
        Change::DeployPod { .. } => not_yet("deploying a pod"),
        // Recorded: the override itself is held by the stewards' decision.
        Change::Override { asset, .. } => Ok(vec![asset.clone()]),
        Change::Text => Ok(Vec::new()),
    }
}
