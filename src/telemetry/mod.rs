//! Live telemetry over MQTT: measurements override the model for their assets, births plug
//! modules in, deaths take them out, citizens report, and the twin publishes what it
//! solved. Topics and payloads: `docs/telemetry.md`. Native builds only.
//!
//! Layers: [`topic`], [`payload`], [`reject`], [`limiter`], [`citizen`] and [`config`] are
//! plain Rust with no Bevy; [`client`] is the MQTT thread; this module bridges its channel to
//! the ECS: [`ingest`] applies what arrives (in [`SimSet::Ingest`] and between frames, the
//! overrides just before the power flow), [`publish`] sends what the twin solved (in
//! [`SimSet::Publish`]); [`simulator`] is `kos-twin telemetry-sim`.

pub mod citizen;
pub mod client;
pub mod config;
mod ingest;
pub mod limiter;
pub mod payload;
mod publish;
pub mod reject;
pub mod simulator;
pub mod topic;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use bevy::prelude::*;
use rumqttc::QoS;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::*;
use crate::scene::{PlugIn, plug_in};
use crate::sim::alarms::{Alarm, Alarms, Severity};
use crate::sim::{SimClock, SimSet};
use citizen::CitizenReport;
use client::{Incoming, Link, now_ms};
use config::Connection;
use limiter::RateLimiter;
use payload::{AssetClass, Values, check_asset, is_fresh, is_newer};
use reject::{RejectReason, Rejected};

use ingest::{apply_measurements, handle, ingest};
use publish::publish;
pub use publish::report_section;

/// The live connection and its settings (present only when the twin runs with `--mqtt`).
#[derive(Resource)]
pub struct Telemetry {
    link: Link,
    /// Site name in topics.
    pub site: String,
    /// Broker URL without the password.
    pub broker: String,
    /// This instance's MQTT client id.
    pub instance: String,
    /// Measurements older than this fall back to the model, ms.
    pub freshness_ms: i64,
    state_every_ticks: u64,
    assets: RateLimiter,
    citizens: RateLimiter,
    index: HashMap<String, (Entity, AssetClass)>,
    indexed_count: usize,
    started: Instant,
    pending_rejections: Vec<(String, Rejected)>,
    alarms_published: u64,
}

impl Telemetry {
    /// Seconds since the connection was made (the clock of the rate limiters).
    fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// Counts of what telemetry did, for the overlay, the summary topic and the report.
#[derive(Resource, Debug, Default, Clone, Serialize)]
pub struct TelemetryStats {
    /// Measurements applied to the world.
    pub applied: u64,
    /// Times a measurement went stale and its asset fell back to the model.
    pub stale: u64,
    /// Messages rejected, by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Birth messages accepted (new assets and assets back online).
    pub births: u64,
    /// Death messages accepted.
    pub deaths: u64,
    /// Citizen reports accepted.
    pub citizen_reports: u64,
    /// Connected to the broker now.
    pub connected: bool,
    /// Connections made (1 + reconnections).
    pub connections: u64,
    /// Last connection error (no credentials).
    pub last_error: Option<String>,
    /// Messages published by the twin.
    pub published: u64,
    /// Messages the twin could not hand to the client (queue full while disconnected).
    pub publish_dropped: u64,
    /// Wall-clock time the first measurement was applied, ms since 1970.
    pub first_applied_unix_ms: Option<i64>,
    /// Wall-clock time the latest measurement was applied, ms since 1970.
    pub last_applied_unix_ms: Option<i64>,
}

impl TelemetryStats {
    /// Messages rejected in all.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Messages handled: applied, accepted births, deaths and reports, and rejected.
    pub fn handled(&self) -> u64 {
        self.applied + self.births + self.deaths + self.citizen_reports + self.rejected_total()
    }

    fn reject(&mut self, reason: RejectReason) {
        *self.rejected.entry(reason.key()).or_default() += 1;
    }
}

/// The latest measured values of an asset. While fresh they override the model.
#[derive(Component, Debug, Clone, PartialEq)]
pub struct Measured {
    /// Latest value of every field measured so far.
    pub values: Values,
    /// Time of the latest measurement, ms since 1970.
    pub ts_ms: i64,
    /// Its sequence number, if the device counts.
    pub seq: Option<u64>,
    /// Older than the freshness window: the model is in charge.
    pub stale: bool,
    /// Measurements applied to this asset.
    pub count: u64,
    saved: SavedModel,
}

/// Model values replaced by measurements, put back when the measurements go stale.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct SavedModel {
    setpoint_kw: Option<f64>,
    soc: Option<f64>,
}

/// The asset's device announced its death (or its last will fired): it is offline.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offline;

/// Citizen reports kept, newest last.
#[derive(Resource, Debug, Default, Clone)]
pub struct CitizenReports {
    /// The latest reports, at most [`CitizenReports::CAPACITY`].
    pub recent: VecDeque<CitizenReport>,
    /// Reports accepted since the start.
    pub total: u64,
}

impl CitizenReports {
    /// How many reports are kept.
    pub const CAPACITY: usize = 200;
}

/// Rejections published on the rejected topic per tick; the rest are counted per reason
/// in one message.
const REJECTIONS_PER_TICK: usize = 100;

/// Opens the connection and inserts the resources that switch telemetry on.
pub fn connect(app: &mut App, conn: &Connection) -> Result<(), String> {
    let link = client::start(conn)?;
    let c = &conn.config;
    app.insert_resource(Telemetry {
        link,
        site: conn.site.clone(),
        broker: conn.url.redacted(),
        instance: conn.client_id.clone(),
        freshness_ms: (c.freshness_s * 1000.0) as i64,
        state_every_ticks: c.state_every_ticks.max(1),
        assets: RateLimiter::new(c.asset_rate_hz, c.asset_burst, 100_000),
        citizens: RateLimiter::new(c.citizen_per_minute / 60.0, c.citizen_burst, 100_000),
        index: HashMap::new(),
        indexed_count: usize::MAX,
        started: Instant::now(),
        pending_rejections: Vec::new(),
        alarms_published: 0,
    });
    app.insert_resource(TelemetryStats::default());
    app.init_resource::<CitizenReports>();
    Ok(())
}

fn class_of(world: &World, e: Entity) -> AssetClass {
    let Some(kind) = world.get::<AssetKind>(e) else {
        return AssetClass::Supply;
    };
    match kind {
        AssetKind::Bus => AssetClass::Bus,
        AssetKind::Line | AssetKind::Transformer => AssetClass::Branch,
        AssetKind::Switch => AssetClass::Switch,
        AssetKind::Generator => {
            let spec = world.get::<Spec<kos_scene::GeneratorSpec>>(e);
            match spec.map(|s| &s.kind) {
                Some(kos_scene::GeneratorKind::GridTie {
                    import_limit_kw,
                    export_limit_kw,
                    ..
                }) => AssetClass::Generator {
                    p_min_kw: -export_limit_kw,
                    p_max_kw: *import_limit_kw,
                },
                _ => AssetClass::Generator {
                    p_min_kw: 0.0,
                    p_max_kw: spec.map(|s| s.rated_kw).unwrap_or(0.0),
                },
            }
        }
        AssetKind::Storage => AssetClass::Storage {
            power_kw: world
                .get::<Spec<kos_scene::StorageSpec>>(e)
                .map(|s| s.power_kw)
                .unwrap_or(0.0),
        },
        AssetKind::Load => AssetClass::Load {
            max_kw: world
                .get::<Spec<kos_scene::LoadSpec>>(e)
                .map(|s| s.peak_kw)
                .unwrap_or(0.0),
        },
        AssetKind::Pod => AssetClass::Load {
            max_kw: world
                .get::<Spec<kos_scene::PodSpec>>(e)
                .map(|s| s.power_kw)
                .unwrap_or(0.0),
        },
        AssetKind::Depot | AssetKind::Route => AssetClass::Supply,
    }
}

/// Rebuilds the id index when assets were added or removed.
fn refresh_index(world: &mut World) {
    let count = world.query::<&AssetTag>().iter(world).count();
    if world.resource::<Telemetry>().indexed_count == count {
        return;
    }
    let tags: Vec<(Entity, String)> = world
        .query::<(Entity, &AssetTag)>()
        .iter(world)
        .map(|(e, t)| (e, t.0.clone()))
        .collect();
    let index: HashMap<String, (Entity, AssetClass)> = tags
        .into_iter()
        .map(|(e, id)| {
            let class = class_of(world, e);
            (id, (e, class))
        })
        .collect();
    let mut t = world.resource_mut::<Telemetry>();
    t.index = index;
    t.indexed_count = count;
}

/// Applies whatever the client thread has delivered. With `deadline`, waits for messages
/// until then (headless live runs sleep here between ticks). Returns messages handled.
pub fn pump(world: &mut World, deadline: Option<Instant>) -> usize {
    if !world.contains_resource::<Telemetry>() {
        if let Some(d) = deadline {
            std::thread::sleep(d.saturating_duration_since(Instant::now()));
        }
        return 0;
    }
    refresh_index(world);
    let rx = world.resource::<Telemetry>().link.rx.clone();
    let mut n = 0;
    loop {
        let msg = match rx.try_recv() {
            Ok(m) => m,
            Err(flume::TryRecvError::Empty) => match deadline {
                Some(d) => match rx.recv_deadline(d) {
                    Ok(m) => m,
                    Err(_) => break,
                },
                None => break,
            },
            Err(flume::TryRecvError::Disconnected) => {
                if let Some(d) = deadline {
                    std::thread::sleep(d.saturating_duration_since(Instant::now()));
                }
                break;
            }
        };
        handle(world, msg);
        n += 1;
    }
    n
}

fn reject(world: &mut World, topic: String, why: Rejected) {
    world.resource_mut::<TelemetryStats>().reject(why.reason);
    let mut t = world.resource_mut::<Telemetry>();
    if t.pending_rejections.len() < 100_000 {
        t.pending_rejections.push((topic, why));
    }
}

fn raise(world: &mut World, severity: Severity, asset: &str, message: String) {
    let t = world
        .get_resource::<SimClock>()
        .map(|c| c.now_text())
        .unwrap_or_default();
    if let Some(mut alarms) = world.get_resource_mut::<Alarms>() {
        alarms.raise(Alarm {
            t,
            severity,
            asset: Some(asset.to_string()),
            message,
        });
    }
}

fn live(t: Option<Res<Telemetry>>) -> bool {
    t.is_some()
}

/// Registers the telemetry systems; they do nothing until [`connect`] inserts [`Telemetry`].
pub fn plugin(app: &mut App) {
    app.add_systems(Update, ingest.run_if(live));
    app.add_systems(FixedUpdate, ingest.run_if(live).in_set(SimSet::Ingest));
    app.add_systems(
        FixedUpdate,
        apply_measurements
            .run_if(live)
            .in_set(SimSet::Dispatch)
            .before(crate::sim::dispatch::plan_dispatch),
    );
    app.add_systems(
        FixedUpdate,
        publish
            .run_if(live)
            .in_set(SimSet::Publish)
            .after(crate::report::summarise),
    );
}
