//! Protection and resilience in the tick: faults and what the devices do about them, FLISR
//! (`faults`), cascading overloads (`cascade`), loss of the grid tie and black start
//! (`resilience`), emergency modes (`modes`), operators' switching with its synchronism
//! check, what a run schedules (`schedule`); and the `shortcircuit` and `protection check`
//! commands (`cli`, native only).
//!
//! Every operation is an event with its time, device, cause and the customers it affected;
//! interruptions feed the IEEE 1366 indices. Times of fault sequences come from the
//! characteristics and the delays, never from the tick: a fault at a given time gives the
//! same events with one-second and one-minute ticks, and the world's switching follows in
//! the tick that contains each time. Cascades count in steps (ticks), as Grid2Op's rules do.

mod cascade;
#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
mod faults;
pub mod modes;
mod resilience;
mod schedule;

use std::collections::{BTreeMap, BTreeSet};

use bevy::prelude::*;
use kos_protection::blackstart::BlackStartOptions;
use kos_protection::cascade::CascadeRules;
use kos_protection::reliability::{self, Customers, Interruption};
use kos_protection::scene::{CustomerGroup, customer_groups, set_positions};
use kos_scene::Scene;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{AssetTag, SwitchState};
use crate::sim::{SimClock, SimSet};

pub use resilience::BlackStartRun;
pub use schedule::{Schedule, ScheduledFault, ScheduledMode, ScheduledSwitching};

/// Settings of the protection layer in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtectionConfig {
    /// Seconds from lockout to FLISR's switching.
    pub flisr_delay_s: f64,
    /// FLISR plans but does not switch (a drill's trainee does).
    pub advise_only: bool,
    /// Interruptions at least this long are sustained, s (IEEE 1366: 300).
    pub sustained_threshold_s: f64,
    /// Cascading overloads: `None` leaves overloaded branches in (a live mirror follows
    /// the real breakers instead).
    pub cascade: Option<CascadeRules>,
    /// Black-start settings.
    pub black_start: BlackStartOptions,
}

impl Default for ProtectionConfig {
    fn default() -> Self {
        Self {
            flisr_delay_s: 60.0,
            advise_only: false,
            sustained_threshold_s: reliability::IEEE_1366_SUSTAINED_S,
            cascade: Some(CascadeRules::default()),
            black_start: BlackStartOptions::default(),
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

/// A command to the protection layer from the overlay or a drill; it acts in the next tick.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum ProtectionCommand {
    /// A fault on a bus, branch or grid tie now.
    Fault {
        /// The asset.
        asset: String,
        /// Permanent (else temporary).
        permanent: bool,
    },
    /// Open or close a branch now (closing is checked for synchronism).
    Switch {
        /// The line, transformer or switch.
        asset: String,
        /// Close (true) or open.
        close: bool,
    },
    /// Everything dark, then a black start from the grid-forming unit.
    BlackStart,
    /// An emergency mode of the scene on or off.
    Mode {
        /// The mode's id.
        id: String,
        /// On (true) or off.
        on: bool,
    },
    /// A fault passage indicator reports fault current (telemetry's `fault: true`).
    Indicated {
        /// The indicator's id.
        indicator: String,
    },
}

/// Faults, operations, FLISR, cascades, black starts and interruptions of a run.
#[derive(Resource, Debug, Default)]
pub struct Protection {
    /// Settings.
    pub config: ProtectionConfig,
    /// Faults still to come.
    pub scheduled: Vec<ScheduledFault>,
    /// Operators' switching still to come.
    pub switching: Vec<ScheduledSwitching>,
    /// When a black start begins, s from the start.
    pub black_start_at_s: Option<f64>,
    /// Modes switched at set times still to come.
    pub mode_switching: Vec<ScheduledMode>,
    /// Emergency modes on now, in the order they came on.
    pub modes_on: Vec<String>,
    /// Normal values of the settings modes may change, by asset id.
    normals: BTreeMap<String, Vec<modes::Normal>>,
    /// Every operation so far.
    pub events: Vec<ProtectionEvent>,
    /// Branches whose position protection, FLISR or an operator set: id, closed.
    pub switched: BTreeMap<String, bool>,
    /// Assets under a fault now (until their section is isolated or the fault clears).
    pub faulted: BTreeSet<String>,
    /// Branches tripped by protection or a cascade and not yet back.
    pub tripped: BTreeSet<String>,
    /// The black start under way or done.
    pub black_start: Option<BlackStartRun>,
    /// The report carries the `protection` object even without events.
    pub engaged: bool,
    /// FLISR runs to come: time, the fault's location, its cause text.
    pending: Vec<(f64, String, String)>,
    /// Finished interruptions.
    interruptions: Vec<Interruption>,
    /// Groups without supply now: start time.
    open: BTreeMap<usize, f64>,
    /// Overflow steps and reconnection cooldown of branches, by id.
    cascade: cascade::Counters,
    /// After a tie loss: report the island's balance at the next tick.
    island_watch: Option<String>,
    /// Loads and pods the dispatch sheds wholly now (interrupted though their bus is live).
    shed: BTreeSet<String>,
    /// The customer groups interruptions refer to, as of the last settling.
    groups: Vec<CustomerGroup>,
    /// The indices so far and the groups out of supply now, after the last tick (once
    /// anything was interrupted).
    pub summary: Option<(kos_protection::Indices, usize)>,
}

/// The protection layer, in every build: no faults scheduled, cascades by Grid2Op's rules.
pub fn plugin(app: &mut App) {
    app.init_resource::<Protection>();
    app.add_message::<ProtectionCommand>();
    app.add_systems(FixedUpdate, protection_stage.in_set(SimSet::Protection));
}

/// Sets a run's faults, switching, black start, modes and settings; the report then carries
/// the `protection` object.
pub fn attach(app: &mut App, schedule: Schedule, config: ProtectionConfig) {
    app.insert_resource(Protection {
        config,
        scheduled: schedule.faults,
        switching: schedule.switching,
        black_start_at_s: schedule.black_start_at_s,
        mode_switching: schedule.modes,
        engaged: true,
        ..default()
    });
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
        if self.groups.as_slice() != groups {
            self.groups = groups.to_vec();
        }
        let mut change = 0i64;
        for (k, g) in groups.iter().enumerate() {
            let out = dead.contains(&g.bus) || self.shed.contains(&g.id);
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

    /// Sets branches' positions at `t` in the world's scene and settles the interruptions
    /// that causes or ends; returns the customers it affected.
    fn switch<'a>(
        &mut self,
        scene: &Scene,
        branches: impl IntoIterator<Item = &'a str>,
        closed: bool,
        t: f64,
    ) -> i64 {
        for b in branches {
            self.switched.insert(b.to_string(), closed);
        }
        let mut after = scene.clone();
        set_positions(&mut after, &self.switched);
        let dead = kos_protection::scene::unsupplied_buses(&after);
        self.settle(&customer_groups(scene), &dead, t)
    }

    /// Every interruption up to `now_s`, the ongoing ones ending then, in time order.
    fn all_interruptions(&self, groups: &[CustomerGroup], now_s: f64) -> Vec<Interruption> {
        let mut all = self.interruptions.clone();
        for (&k, &start) in &self.open {
            all.push(Interruption {
                load: k,
                start_s: start,
                end_s: now_s.max(start),
                power_kw: groups.get(k).map_or(0.0, |g| g.kw),
                ongoing: true,
            });
        }
        all.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.load.cmp(&b.load)));
        all
    }

    /// The IEEE 1366 indices at `now_s` over `groups`.
    fn indices(&self, groups: &[CustomerGroup], now_s: f64) -> kos_protection::Indices {
        let loads: Vec<Customers> = groups.iter().map(|g| g.customers.clone()).collect();
        let all = self.all_interruptions(groups, now_s);
        reliability::indices(&loads, &all, now_s, self.config.sustained_threshold_s)
    }

    /// The report's `protection` object at simulated time `now_s`.
    pub fn report(&self, scene: &Scene, now_s: f64) -> Value {
        let groups = customer_groups(scene);
        let all = self.all_interruptions(&groups, now_s);
        let mut out = json!({
            "events": self.events,
            "reliability": self.indices(&groups, now_s),
            "interruptions": all.len(),
            "out_of_supply_now": self.open.len(),
        });
        if let Some(b) = &self.black_start {
            out["black_start"] = b.report(&groups);
        }
        out
    }

    /// Whether the report should carry the `protection` object.
    pub fn in_report(&self) -> bool {
        self.engaged || !self.events.is_empty()
    }
}

/// Takes the items of `list` due before `end`, in time order.
fn due<T: Clone>(list: &mut Vec<T>, end: f64, at: impl Fn(&T) -> f64) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    list.retain(|x| {
        if at(x) < end {
            out.push(x.clone());
            false
        } else {
            true
        }
    });
    out.sort_by(|a, b| at(a).total_cmp(&at(b)));
    out
}

/// The Protection stage: commands from the overlay, scheduled faults and switching, FLISR
/// runs and black-start steps due in this tick, then the cascade check on this tick's flows.
fn protection_stage(world: &mut World) {
    let clock = world.resource::<SimClock>().clone();
    let (start, end) = (
        clock.elapsed_s as f64,
        (clock.elapsed_s + clock.tick_s) as f64,
    );
    let commands: Vec<ProtectionCommand> = world
        .resource_mut::<Messages<ProtectionCommand>>()
        .drain()
        .collect();
    let mut state = std::mem::take(&mut *world.resource_mut::<Protection>());
    let mut indicated: Vec<String> = Vec::new();
    for c in commands {
        state.engaged = true;
        match c {
            ProtectionCommand::Indicated { indicator } => indicated.push(indicator),
            ProtectionCommand::Fault { asset, permanent } => state.scheduled.push(ScheduledFault {
                at_s: start,
                asset,
                permanent,
                ..Default::default()
            }),
            ProtectionCommand::Switch { asset, close } => {
                state.switching.push(ScheduledSwitching {
                    at_s: start,
                    asset,
                    close,
                })
            }
            ProtectionCommand::BlackStart => state.black_start_at_s = Some(start),
            ProtectionCommand::Mode { id, on } => state.mode_switching.push(ScheduledMode {
                at_s: start,
                id,
                on,
            }),
        }
    }
    for m in due(&mut state.mode_switching, end, |m| m.at_s) {
        modes::switch_mode(world, &mut state, &m.id, m.on, m.at_s.max(start));
    }
    resilience::report_island(world, &mut state, start);
    if !indicated.is_empty() {
        locate_indicated(world, &mut state, &indicated, start);
    }
    for f in due(&mut state.scheduled, end, |f| f.at_s) {
        faults::handle_fault(world, &mut state, &f, f.at_s.max(start));
    }
    for s in due(&mut state.switching, end, |s| s.at_s) {
        operate(world, &mut state, &s, s.at_s.max(start));
    }
    for (at, location, cause) in due(&mut state.pending, end, |p| p.0) {
        faults::run_flisr(world, &mut state, at, &location, &cause);
    }
    if let Some(at) = state.black_start_at_s.filter(|&at| at < end) {
        state.black_start_at_s = None;
        resilience::begin_black_start(world, &mut state, at.max(start));
    }
    resilience::black_start_steps(world, &mut state, end);
    if let Some(rules) = state.config.cascade {
        cascade::check(world, &mut state, &rules, start);
    }
    follow_shedding(world, &mut state, start);
    if !state.groups.is_empty() {
        state.summary = Some((state.indices(&state.groups, end), state.open.len()));
    }
    *world.resource_mut::<Protection>() = state;
}

/// Customers whose load the dispatch sheds wholly are interrupted as much as those behind an
/// open breaker: their interruptions open and close with the shedding.
fn follow_shedding(world: &mut World, state: &mut Protection, t: f64) {
    let now: BTreeSet<String> = world
        .query::<(&AssetTag, &crate::model::Demand)>()
        .iter(world)
        .filter(|(_, d)| d.served && d.p_kw > 1e-9 && d.fraction <= 1e-9)
        .map(|(a, _)| a.0.clone())
        .collect();
    if now == state.shed {
        return;
    }
    let (off, on) = (
        now.difference(&state.shed).count(),
        state.shed.difference(&now).count(),
    );
    state.shed = now;
    let scene = current_scene(world, &state.switched);
    let change = state.switch(&scene, std::iter::empty(), true, t);
    if change != 0 {
        state.event(
            t,
            "dispatch",
            "shedding",
            &format!("load shedding: {off} loads off, {on} back"),
            change,
        );
    }
}

/// Fault passage indicators that fired in a tick place the fault beyond the farthest of
/// them; the twin then runs the fault there through its protection and FLISR.
fn locate_indicated(world: &mut World, state: &mut Protection, fired: &[String], t: f64) {
    let scene = current_scene(world, &state.switched);
    let ids: Vec<&str> = fired.iter().map(String::as_str).collect();
    let list = ids.join(", ");
    match kos_protection::check::locate_by_indicators(&scene, &ids) {
        Some((fpi, bus)) => {
            state.event(
                t,
                fpi,
                "fpi_located",
                &format!(
                    "fault current passed {list}: the fault lies beyond {fpi}, at {bus} or past it"
                ),
                0,
            );
            let f = ScheduledFault {
                at_s: t,
                asset: bus.to_string(),
                permanent: true,
                ..Default::default()
            };
            faults::handle_fault(world, state, &f, t);
        }
        None => state.event(
            t,
            &list,
            "rejected",
            "the reporting devices are no fault indicators on a fed branch",
            0,
        ),
    }
}

/// An operator's switching: opening always goes; closing is refused when it would join two
/// live islands, each held by its own source (they are not synchronised).
fn operate(world: &mut World, state: &mut Protection, s: &ScheduledSwitching, t: f64) {
    let scene = current_scene(world, &state.switched);
    let cause = if s.close {
        "operator closes"
    } else {
        "operator opens"
    };
    if !kos_protection::scene::branch_ids(&scene).any(|id| id == s.asset) {
        warn!("switching `{}`: no such branch", s.asset);
        state.event(
            t,
            &s.asset,
            "rejected",
            "no such line, transformer or switch",
            0,
        );
        return;
    }
    if s.close
        && let Err(e) = kos_protection::scene::check_closing(&scene, &s.asset)
    {
        warn!("closing `{}` refused: {e}", s.asset);
        state.event(t, &s.asset, "rejected", &e, 0);
        return;
    }
    let customers = state.switch(&scene, [s.asset.as_str()], s.close, t);
    if s.close {
        state.tripped.remove(&s.asset);
    }
    state.event(
        t,
        &s.asset,
        if s.close { "close" } else { "open" },
        cause,
        customers,
    );
    apply_to_world(world, &state.switched);
}
