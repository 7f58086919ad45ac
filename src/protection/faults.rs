//! Faults in the tick: a fault (scripted, from a drill or the overlay) runs through the
//! protection devices of the scene as kos-protection computes it, the isolating device opens
//! in the world, and after the configured delay FLISR isolates the faulted section and
//! restores the rest through the ring's ties. Every operation is an event with its time,
//! device, cause and the customers it affected; interruptions feed the IEEE 1366 indices.
//!
//! Times come from the characteristics and the delay, never from the tick: a fault at a
//! given time gives the same events with one-second and one-minute ticks; the world's
//! switching follows in the tick that contains each time.

use std::collections::{BTreeMap, BTreeSet};

use bevy::prelude::*;
use kos_protection::check::{analyse_fault, feeding_tree, main_source};
use kos_protection::flisr;
use kos_protection::reliability::{self, Customers, Interruption};
use kos_protection::scene::{CustomerGroup, customer_groups, set_positions, unsupplied_buses};
use kos_protection::sequence::Action;
use kos_scene::Scene;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{AssetTag, SwitchState};
use crate::sim::{SimClock, SimSet};

/// A fault at a set time of a run: `ASSET@MINUTES[:temporary]` on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledFault {
    /// Simulated seconds from the start.
    pub at_s: f64,
    /// The faulted bus, line, transformer or switch.
    pub asset: String,
    /// Stays until the section is isolated (a temporary fault clears when it goes dead).
    pub permanent: bool,
}

impl std::str::FromStr for ScheduledFault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}`: expected ASSET@MINUTES or ASSET@MINUTES:temporary");
        let (asset, rest) = s.rsplit_once('@').ok_or_else(bad)?;
        let (minutes, kind) = match rest.split_once(':') {
            Some((m, k)) => (m, k),
            None => (rest, "permanent"),
        };
        let minutes: f64 = minutes.trim().parse().map_err(|_| bad())?;
        let permanent = match kind {
            "permanent" => true,
            "temporary" => false,
            _ => return Err(bad()),
        };
        if asset.is_empty() || !(minutes.is_finite() && minutes >= 0.0) {
            return Err(bad());
        }
        Ok(Self {
            at_s: minutes * 60.0,
            asset: asset.to_string(),
            permanent,
        })
    }
}

/// Settings of the protection layer in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtectionConfig {
    /// Seconds from lockout to FLISR's switching.
    pub flisr_delay_s: f64,
    /// FLISR plans but does not switch (a drill's trainee does).
    pub advise_only: bool,
    /// Interruptions at least this long are sustained, s (IEEE 1366: 300).
    pub sustained_threshold_s: f64,
}

impl Default for ProtectionConfig {
    fn default() -> Self {
        Self {
            flisr_delay_s: 60.0,
            advise_only: false,
            sustained_threshold_s: reliability::IEEE_1366_SUSTAINED_S,
        }
    }
}

/// One operation, as the timeline and the report show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProtectionEvent {
    /// Simulated seconds from the start (milliseconds kept).
    pub time_s: f64,
    /// The device, branch or bus.
    pub asset: String,
    /// What happened (`trip`, `melt`, `reclose`, `lockout`, `flisr_open`, ...).
    pub action: String,
    /// Why.
    pub cause: String,
    /// Customers who lost (negative: regained) supply by it.
    pub customers: i64,
}

/// Faults, operations, FLISR and interruptions of a run.
#[derive(Resource, Debug, Default)]
pub struct Protection {
    /// Settings.
    pub config: ProtectionConfig,
    /// Faults still to come.
    pub scheduled: Vec<ScheduledFault>,
    /// Every operation so far.
    pub events: Vec<ProtectionEvent>,
    /// Branches whose position protection or FLISR set: id, closed.
    pub switched: BTreeMap<String, bool>,
    /// FLISR runs to come: time, the fault's location, its cause text.
    pending: Vec<(f64, String, String)>,
    /// Finished interruptions.
    interruptions: Vec<Interruption>,
    /// Groups without supply now: start time.
    open: BTreeMap<usize, f64>,
}

/// Adds the protection layer to a run with these faults.
pub fn attach(app: &mut App, faults: Vec<ScheduledFault>, config: ProtectionConfig) {
    app.insert_resource(Protection {
        config,
        scheduled: faults,
        ..default()
    });
    app.add_systems(FixedUpdate, protection_stage.in_set(SimSet::Protection));
}

/// The world's scene with protection's switching applied.
fn current_scene(world: &mut World, switched: &BTreeMap<String, bool>) -> Scene {
    let mut scene = crate::scene::save_scene(world);
    set_positions(&mut scene, switched);
    scene
}

/// Sets the world's switch positions to protection's.
fn apply_to_world(world: &mut World, switched: &BTreeMap<String, bool>) {
    let entities: Vec<(Entity, bool)> = world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .filter_map(|(e, t)| switched.get(&t.0).map(|&c| (e, c)))
        .collect();
    for (e, closed) in entities {
        world.entity_mut(e).insert(SwitchState { closed });
    }
}

impl Protection {
    fn event(&mut self, time_s: f64, asset: &str, action: &str, cause: &str, customers: i64) {
        self.events.push(ProtectionEvent {
            time_s,
            asset: asset.to_string(),
            action: action.to_string(),
            cause: cause.to_string(),
            customers,
        });
    }

    /// Opens and closes interruptions at `t` from the buses dead now; returns customers who
    /// lost supply minus those who regained it.
    fn settle(&mut self, groups: &[CustomerGroup], dead: &BTreeSet<String>, t: f64) -> i64 {
        let mut change = 0i64;
        for (k, g) in groups.iter().enumerate() {
            let out = dead.contains(&g.bus);
            match (out, self.open.get(&k).copied()) {
                (true, None) => {
                    self.open.insert(k, t);
                    change += i64::from(g.customers.customers);
                }
                (false, Some(start)) => {
                    self.open.remove(&k);
                    self.interruptions.push(Interruption {
                        load: k,
                        start_s: start,
                        end_s: t,
                        power_kw: g.kw,
                        ongoing: false,
                    });
                    change -= i64::from(g.customers.customers);
                }
                _ => {}
            }
        }
        change
    }

    /// The report's `protection` object at simulated time `now_s`.
    pub fn report(&self, scene: &Scene, now_s: f64) -> Value {
        let groups = customer_groups(scene);
        let loads: Vec<Customers> = groups.iter().map(|g| g.customers.clone()).collect();
        let mut all = self.interruptions.clone();
        for (&k, &start) in &self.open {
            all.push(Interruption {
                load: k,
                start_s: start,
                end_s: now_s.max(start),
                power_kw: groups[k].kw,
                ongoing: true,
            });
        }
        all.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.load.cmp(&b.load)));
        let indices = reliability::indices(&loads, &all, now_s, self.config.sustained_threshold_s);
        json!({
            "events": self.events,
            "reliability": indices,
            "interruptions": all.len(),
            "out_of_supply_now": self.open.len(),
        })
    }
}

/// The Protection stage: scheduled faults due in this tick, then FLISR runs due.
fn protection_stage(world: &mut World) {
    let clock = world.resource::<SimClock>().clone();
    let (start, end) = (
        clock.elapsed_s as f64,
        (clock.elapsed_s + clock.tick_s) as f64,
    );
    let mut state = std::mem::take(&mut *world.resource_mut::<Protection>());
    let mut due: Vec<ScheduledFault> = Vec::new();
    state.scheduled.retain(|f| {
        if f.at_s < end {
            due.push(f.clone());
            false
        } else {
            true
        }
    });
    due.sort_by(|a, b| a.at_s.total_cmp(&b.at_s));
    for f in due {
        handle_fault(world, &mut state, &f, f.at_s.max(start));
    }
    let mut runs: Vec<(f64, String, String)> = Vec::new();
    state.pending.retain(|p| {
        if p.0 < end {
            runs.push(p.clone());
            false
        } else {
            true
        }
    });
    for (at, location, cause) in runs {
        run_flisr(world, &mut state, at, &location, &cause);
    }
    *world.resource_mut::<Protection>() = state;
}

fn handle_fault(world: &mut World, state: &mut Protection, f: &ScheduledFault, t0: f64) {
    let scene = current_scene(world, &state.switched);
    let kind = if f.permanent {
        "permanent"
    } else {
        "temporary"
    };
    let is_bus = scene.buses.iter().any(|b| b.id == f.asset);
    let branch_ends = scene
        .lines
        .iter()
        .map(|l| (&l.id, &l.from, &l.to))
        .chain(
            scene
                .transformers
                .iter()
                .map(|t| (&t.id, &t.hv_bus, &t.lv_bus)),
        )
        .chain(scene.switches.iter().map(|s| (&s.id, &s.from, &s.to)))
        .find(|(id, _, _)| **id == f.asset)
        .map(|(_, a, b)| (a.clone(), b.clone()));
    let bus = if is_bus {
        f.asset.clone()
    } else if let Some((a, b)) = branch_ends {
        // The end fed through the branch: the fault current passes the devices on it.
        let tree = main_source(&scene).map(|r| feeding_tree(&scene, r));
        match tree.as_ref().and_then(|t| t.get(b.as_str())) {
            Some(&(via, _)) if via == f.asset => b,
            _ => match tree.as_ref().and_then(|t| t.get(a.as_str())) {
                Some(&(via, _)) if via == f.asset => a,
                _ => b,
            },
        }
    } else {
        warn!("fault on `{}`: no such bus or branch", f.asset);
        state.event(
            t0,
            &f.asset,
            "rejected",
            "no such bus, line, transformer or switch",
            0,
        );
        return;
    };
    let cause = format!("{kind} fault on {}", f.asset);
    let analysis = match analyse_fault(&scene, &bus, f.permanent) {
        Ok(Some(a)) => a,
        Ok(None) => {
            state.event(
                t0,
                &f.asset,
                "fault",
                &format!("{cause}: not fed, nothing operates"),
                0,
            );
            return;
        }
        Err(e) => {
            warn!("fault on `{}`: {e}", f.asset);
            state.event(t0, &f.asset, "rejected", &e.to_string(), 0);
            return;
        }
    };
    let groups = customer_groups(&scene);
    state.event(
        t0,
        &f.asset,
        "fault",
        &format!("{cause}: I\"k {:.2} kA at {bus}", analysis.ikss_ka),
        0,
    );
    // Momentary interruptions: downstream of a device while it was open and reclosed.
    for &(d, from_ms, to_ms) in &analysis.sequence.momentary {
        let mut open = state.switched.clone();
        open.insert(analysis.device_branch[d].clone(), false);
        let mut trial = scene.clone();
        set_positions(&mut trial, &open);
        let dead = unsupplied_buses(&trial);
        let before = unsupplied_buses(&scene);
        for (k, g) in groups.iter().enumerate() {
            if dead.contains(&g.bus) && !before.contains(&g.bus) {
                state.interruptions.push(Interruption {
                    load: k,
                    start_s: t0 + from_ms / 1e3,
                    end_s: t0 + to_ms / 1e3,
                    power_kw: g.kw,
                    ongoing: false,
                });
            }
        }
    }
    let mut isolated_at = None;
    for op in &analysis.sequence.operations {
        let t = t0 + op.t_ms / 1e3;
        let asset = op
            .device
            .map_or(f.asset.as_str(), |d| analysis.path[d].name.as_str());
        // The action's name as the report writes it (snake case).
        let action = serde_json::to_value(op.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let mut customers = 0;
        if let Some(d) = op.device
            && op.device == analysis.sequence.isolated_by
            && matches!(op.action, Action::Lockout | Action::Open)
            && isolated_at.is_none()
        {
            let branch = analysis.device_branch[d].clone();
            state.switched.insert(branch, false);
            let mut after = scene.clone();
            set_positions(&mut after, &state.switched);
            customers = state.settle(&groups, &unsupplied_buses(&after), t);
            isolated_at = Some(t);
        }
        state.event(t, asset, &action, &cause, customers);
    }
    if let Some(t) = isolated_at {
        apply_to_world(world, &state.switched);
        if f.permanent {
            state
                .pending
                .push((t + state.config.flisr_delay_s, f.asset.clone(), cause));
        }
    }
}

fn run_flisr(world: &mut World, state: &mut Protection, at: f64, location: &str, cause: &str) {
    let scene = current_scene(world, &state.switched);
    // The network with this tick's demands, switched as protection left it.
    let Some(grid) = world.get_resource::<crate::sim::grid::Grid>() else {
        return;
    };
    let mut net = grid.model.network.clone();
    let assets: Vec<String> = grid
        .model
        .branch_assets
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let bus_index = grid.model.bus_index.clone();
    let fresh = kos_scene::build_grid(&scene);
    for (k, br) in net.branches.iter_mut().enumerate() {
        if let Some(b) = fresh.network.branches.get(k) {
            br.in_service = b.in_service;
        }
    }
    let groups = customer_groups(&scene);
    let Some(plan) = flisr::plan_scene(&scene, &net, &assets, &bus_index, location) else {
        return;
    };
    let name = |k: usize| assets[k].clone();
    let section: Vec<&str> = plan
        .faulted
        .iter()
        .map(|&b| net.buses[b].name.as_str())
        .collect();
    state.event(
        at,
        location,
        "flisr_located",
        &format!(
            "FLISR: the faulted section holds {} buses ({}){}",
            section.len(),
            section
                .iter()
                .take(6)
                .copied()
                .collect::<Vec<_>>()
                .join(", "),
            if plan.open.is_empty() && plan.close.is_empty() {
                "; nothing to switch"
            } else {
                ""
            }
        ),
        0,
    );
    if state.config.advise_only {
        for &k in &plan.open {
            state.event(
                at,
                &name(k),
                "advise_open",
                &format!("FLISR: isolate the {cause}"),
                0,
            );
        }
        for &k in &plan.close {
            state.event(
                at,
                &name(k),
                "advise_close",
                &format!("FLISR: restore after the {cause}"),
                0,
            );
        }
        return;
    }
    for (i, &k) in plan.open.iter().enumerate() {
        state.switched.insert(name(k), false);
        // Customers the isolation leaves out are counted at its last opening.
        let lost = if i + 1 == plan.open.len() {
            let mut after = scene.clone();
            set_positions(&mut after, &state.switched);
            state.settle(&groups, &unsupplied_buses(&after), at)
        } else {
            0
        };
        state.event(
            at,
            &name(k),
            "flisr_open",
            &format!("FLISR: isolate the {cause}"),
            lost,
        );
    }
    for &k in &plan.close {
        state.switched.insert(name(k), true);
        let mut after = scene.clone();
        set_positions(&mut after, &state.switched);
        let regained = state.settle(&groups, &unsupplied_buses(&after), at);
        state.event(
            at,
            &name(k),
            "flisr_close",
            &format!("FLISR: restore after the {cause}"),
            regained,
        );
    }
    if !plan.unserved.is_empty() {
        state.event(
            at,
            location,
            "flisr_unserved",
            &format!("FLISR: {} buses stay without supply", plan.unserved.len()),
            0,
        );
    }
    apply_to_world(world, &state.switched);
}
