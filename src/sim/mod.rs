//! The simulation tick: one ordered chain of system sets in `FixedUpdate`, under a clock.

pub mod accounting;
pub mod alarms;
pub mod demand;
pub mod dispatch;
pub mod environment;
pub mod grid;
pub mod modules;
pub mod monitor;
pub mod plan;
pub mod storage;
pub mod wear;

use bevy::app::FixedMain;
use bevy::prelude::*;
use kos_scene::Site;
use kos_scene::time::{format_datetime, parse_local_datetime};

/// The stages of a tick, run in this order. Empty stages are placeholders for later work.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSet {
    /// Measurements and commands from outside (telemetry, operators).
    Ingest,
    /// Weather and demand.
    Environment,
    /// Unit setpoints.
    Dispatch,
    /// Network solution.
    PowerFlow,
    /// Energy stores: batteries, fuel and water.
    Stores,
    /// Protection devices.
    Protection,
    /// Ageing and depletion.
    Wear,
    /// Fair allocation of resources.
    Allocate,
    /// The resource ledger.
    Ledger,
    /// Reports and outgoing telemetry.
    Publish,
    /// Advance the clock (always last).
    Advance,
}

/// Simulated time and its controls.
#[derive(Resource, Debug, Clone, PartialEq)]
pub struct SimClock {
    /// Local start time, seconds since 1970-01-01T00:00 (site local time).
    pub start_s: i64,
    /// Simulated seconds since the start.
    pub elapsed_s: i64,
    /// Simulated seconds per tick.
    pub tick_s: i64,
    /// Simulated seconds per real second when running in a window.
    pub speed: f64,
    /// Stopped (single steps still run).
    pub paused: bool,
    /// Ticks still to run while paused.
    pub steps_pending: u32,
    /// Ticks done.
    pub ticks: u64,
    /// Seed of every random process.
    pub seed: u64,
}

impl SimClock {
    /// A clock at the site's start time, one-minute ticks, ten simulated minutes per second.
    pub fn from_site(site: &Site) -> Self {
        Self {
            start_s: parse_local_datetime(&site.start).unwrap_or(0),
            elapsed_s: 0,
            tick_s: 60,
            speed: 600.0,
            paused: false,
            steps_pending: 0,
            ticks: 0,
            seed: site.seed,
        }
    }

    /// Local time now, seconds since 1970-01-01T00:00.
    pub fn now_s(&self) -> i64 {
        self.start_s + self.elapsed_s
    }

    /// Local time now as `YYYY-MM-DDTHH:MM:SS`.
    pub fn now_text(&self) -> String {
        format_datetime(self.now_s())
    }

    /// Local hour of day, fractional.
    pub fn hour_of_day(&self) -> f64 {
        self.now_s().rem_euclid(86_400) as f64 / 3600.0
    }

    /// Whether a tick should run now.
    pub fn running(&self) -> bool {
        !self.paused || self.steps_pending > 0
    }

    /// Real seconds between ticks at the current speed.
    pub fn real_seconds_per_tick(&self) -> f64 {
        self.tick_s as f64 / self.speed.max(1e-3)
    }
}

/// An operator's command to the clock (from the overlay, telemetry or a drill).
#[derive(Message, Debug, Clone, Copy, PartialEq)]
pub enum ClockCommand {
    /// Stop ticking.
    Pause,
    /// Tick again.
    Resume,
    /// Run one tick while paused.
    Step,
    /// Set simulated seconds per real second.
    Speed(f64),
}

fn apply_clock_commands(
    mut commands: MessageReader<ClockCommand>,
    clock: Option<ResMut<SimClock>>,
) {
    let Some(mut clock) = clock else { return };
    for c in commands.read() {
        match *c {
            ClockCommand::Pause => clock.paused = true,
            ClockCommand::Resume => {
                clock.paused = false;
                clock.steps_pending = 0;
            }
            ClockCommand::Step => {
                clock.paused = true;
                clock.steps_pending += 1;
            }
            ClockCommand::Speed(s) if s.is_finite() && s > 0.0 => clock.speed = s,
            ClockCommand::Speed(_) => {}
        }
    }
}

fn clock_running(clock: Option<Res<SimClock>>) -> bool {
    clock.is_some_and(|c| c.running())
}

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.elapsed_s += clock.tick_s;
    clock.ticks += 1;
    if clock.paused {
        clock.steps_pending = clock.steps_pending.saturating_sub(1);
    }
}

/// Keeps the fixed timestep in step with the clock's speed.
fn follow_speed(clock: Option<Res<SimClock>>, time: Option<ResMut<Time<Fixed>>>) {
    if let (Some(clock), Some(mut time)) = (clock.filter(|c| c.is_changed()), time) {
        time.set_timestep_seconds(clock.real_seconds_per_tick());
    }
}

/// Orders the tick and registers the simulation plugins.
pub fn plugin(app: &mut App) {
    app.configure_sets(
        FixedUpdate,
        (
            SimSet::Ingest,
            SimSet::Environment,
            SimSet::Dispatch,
            SimSet::PowerFlow,
            SimSet::Stores,
            SimSet::Protection,
            SimSet::Wear,
            SimSet::Allocate,
            SimSet::Ledger,
            SimSet::Publish,
            SimSet::Advance,
        )
            .chain()
            .run_if(clock_running),
    );
    app.add_systems(FixedUpdate, advance_clock.in_set(SimSet::Advance));
    app.add_message::<ClockCommand>();
    app.add_systems(Update, (apply_clock_commands, follow_speed).chain());
    app.add_plugins((
        alarms::plugin,
        environment::plugin,
        demand::plugin,
        dispatch::plugin,
        grid::plugin,
        modules::plugin,
        monitor::plugin,
        storage::plugin,
        wear::plugin,
    ));
}

/// Runs `n` ticks now, whatever the wall clock (headless runs and tests).
pub fn run_ticks(app: &mut App, n: u64) {
    for _ in 0..n {
        app.world_mut().run_schedule(FixedMain);
    }
}
