//! Live telemetry over MQTT: measurements override the model for their assets, births plug
//! modules in, deaths take them out, citizens report, and the twin publishes what it
//! solved. Topics and payloads: `docs/telemetry.md`. Native builds only.
//!
//! Layers: [`topic`], [`payload`], [`reject`], [`limiter`], [`citizen`] and [`config`] are
//! plain Rust with no Bevy; [`client`] is the MQTT thread; this module bridges its channel to
//! the ECS (ingest in [`SimSet::Ingest`] and between frames, overrides just before the power
//! flow, publication in [`SimSet::Publish`]); [`simulator`] is `kos-twin telemetry-sim`.

pub mod citizen;
pub mod client;
pub mod config;
pub mod limiter;
pub mod payload;
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
use crate::sim::grid::GridDirty;
use crate::sim::{SimClock, SimSet};
use citizen::CitizenReport;
use client::{Incoming, Link, now_ms};
use config::Connection;
use limiter::RateLimiter;
use payload::{AssetClass, Values, check_asset, is_fresh, is_newer};
use reject::{RejectReason, Rejected};

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

fn handle(world: &mut World, msg: Incoming) {
    let site = world.resource::<Telemetry>().site.clone();
    match msg {
        Incoming::Rejected { topic, why } => reject(world, topic, why),
        Incoming::Connected { .. } => {
            let mut s = world.resource_mut::<TelemetryStats>();
            s.connected = true;
            s.connections += 1;
            info!(
                "telemetry: connected to {}",
                world.resource::<Telemetry>().broker
            );
        }
        Incoming::Disconnected { error, retry_ms } => {
            let mut s = world.resource_mut::<TelemetryStats>();
            if s.connected || s.last_error.as_deref() != Some(error.as_str()) {
                warn!(
                    "telemetry: broker unreachable ({error}); running on the model, retrying in {retry_ms} ms"
                );
            }
            s.connected = false;
            s.last_error = Some(error);
        }
        Incoming::Telemetry { asset, m } => {
            let topic = || topic::telemetry(&site, &asset);
            let now_s = world
                .resource::<Telemetry>()
                .started
                .elapsed()
                .as_secs_f64();
            let Some(&(e, class)) = world.resource::<Telemetry>().index.get(&asset) else {
                return reject(
                    world,
                    topic(),
                    Rejected::new(RejectReason::UnknownAsset, "no asset with this id"),
                );
            };
            if !world
                .resource_mut::<Telemetry>()
                .assets
                .allow(&asset, now_s)
            {
                return reject(
                    world,
                    topic(),
                    Rejected::new(RejectReason::RateLimited, "over the asset's message rate"),
                );
            }
            if let Err(why) = check_asset(&m.values, class) {
                return reject(world, topic(), why);
            }
            let mut newly_faulted = m.values.fault == Some(true);
            match world.get_mut::<Measured>(e) {
                Some(mut have) => {
                    if !is_newer(m.seq, m.ts_ms, have.seq, have.ts_ms) {
                        return reject(
                            world,
                            topic(),
                            Rejected::new(
                                RejectReason::Duplicate,
                                "not newer than the last measurement",
                            ),
                        );
                    }
                    newly_faulted &= have.values.fault != Some(true);
                    have.values = have.values.merged(&m.values);
                    have.ts_ms = m.ts_ms;
                    have.seq = m.seq;
                    have.count += 1;
                }
                None => {
                    world.entity_mut(e).insert(Measured {
                        values: m.values,
                        ts_ms: m.ts_ms,
                        seq: m.seq,
                        stale: false,
                        count: 1,
                        saved: SavedModel::default(),
                    });
                }
            }
            if newly_faulted {
                raise(
                    world,
                    Severity::Warning,
                    &asset,
                    "the device reports a fault".into(),
                );
            }
            let now = now_ms();
            let mut s = world.resource_mut::<TelemetryStats>();
            s.applied += 1;
            s.first_applied_unix_ms.get_or_insert(now);
            s.last_applied_unix_ms = Some(now);
        }
        Incoming::Birth { asset, body } => birth(world, &site, asset, body),
        Incoming::Death { asset } => {
            let Some(&(e, _)) = world.resource::<Telemetry>().index.get(&asset) else {
                return reject(
                    world,
                    topic::death(&site, &asset),
                    Rejected::new(RejectReason::UnknownAsset, "no asset with this id"),
                );
            };
            // The model takes over again.
            if let Some(m) = world.entity_mut(e).take::<Measured>() {
                if let (Some(p), Some(mut u)) =
                    (m.saved.setpoint_kw, world.get_mut::<UnitOutput>(e))
                {
                    u.setpoint_kw = p;
                }
                if let (Some(x), Some(mut s)) = (m.saved.soc, world.get_mut::<StateOfCharge>(e)) {
                    s.0 = x;
                }
            }
            world.entity_mut(e).insert(Offline);
            let mut dirty = false;
            if let Some(mut g) = world.get_mut::<Spec<kos_scene::GeneratorSpec>>(e) {
                dirty |= std::mem::replace(&mut g.in_service, false);
            }
            if let Some(mut s) = world.get_mut::<Spec<kos_scene::StorageSpec>>(e) {
                dirty |= std::mem::replace(&mut s.in_service, false);
            }
            if dirty {
                world.insert_resource(GridDirty(true));
            }
            raise(
                world,
                Severity::Warning,
                &asset,
                "the device went offline".into(),
            );
            world.resource_mut::<TelemetryStats>().deaths += 1;
        }
        Incoming::Citizen(report) => {
            let topic = topic::citizen_report(&site);
            let now_s = world
                .resource::<Telemetry>()
                .started
                .elapsed()
                .as_secs_f64();
            if !world
                .resource_mut::<Telemetry>()
                .citizens
                .allow(&report.reporter, now_s)
            {
                return reject(
                    world,
                    topic,
                    Rejected::new(RejectReason::RateLimited, "over the reporter's report rate"),
                );
            }
            if let Some(a) = &report.asset
                && !world.resource::<Telemetry>().index.contains_key(a)
            {
                return reject(
                    world,
                    topic,
                    Rejected::new(
                        RejectReason::InvalidReport,
                        "`asset` names no asset of this site",
                    ),
                );
            }
            let mut kept = world.resource_mut::<CitizenReports>();
            if kept.recent.len() == CitizenReports::CAPACITY {
                kept.recent.pop_front();
            }
            kept.recent.push_back(report);
            kept.total += 1;
            world.resource_mut::<TelemetryStats>().citizen_reports += 1;
        }
    }
}

/// A birth: a known asset comes back online (back in service); a new one is plugged in from
/// the scene form of its spec (generator: `kind`; battery: `energy_kwh`; load: `peak_kw`).
fn birth(world: &mut World, site: &str, asset: String, mut body: serde_json::Map<String, Value>) {
    let topic = topic::birth(site, &asset);
    let invalid = |why: String| {
        Rejected::new(
            RejectReason::InvalidBirth,
            why.chars().take(200).collect::<String>(),
        )
    };
    let now_s = world
        .resource::<Telemetry>()
        .started
        .elapsed()
        .as_secs_f64();
    if !world
        .resource_mut::<Telemetry>()
        .assets
        .allow(&asset, now_s)
    {
        return reject(
            world,
            topic,
            Rejected::new(RejectReason::RateLimited, "over the asset's message rate"),
        );
    }
    body.remove("ts");
    if let Some(&(e, _)) = world.resource::<Telemetry>().index.get(&asset) {
        world.entity_mut(e).remove::<Offline>();
        let mut dirty = false;
        if let Some(mut g) = world.get_mut::<Spec<kos_scene::GeneratorSpec>>(e) {
            dirty |= !std::mem::replace(&mut g.in_service, true);
        }
        if let Some(mut s) = world.get_mut::<Spec<kos_scene::StorageSpec>>(e) {
            dirty |= !std::mem::replace(&mut s.in_service, true);
        }
        if dirty {
            world.insert_resource(GridDirty(true));
        }
        world.resource_mut::<TelemetryStats>().births += 1;
        return;
    }
    if body.is_empty() {
        return reject(
            world,
            topic,
            Rejected::new(
                RejectReason::UnknownAsset,
                "a new asset's birth must describe it",
            ),
        );
    }
    match body.get("id") {
        None => {
            body.insert("id".into(), Value::String(asset.clone()));
        }
        Some(Value::String(id)) if *id == asset => {}
        Some(_) => {
            return reject(
                world,
                topic,
                invalid("`id` differs from the topic's asset id".into()),
            );
        }
    }
    let value = Value::Object(body);
    let parsed = if value.get("kind").is_some() {
        serde_json::from_value(value).map(PlugIn::Generator)
    } else if value.get("energy_kwh").is_some() {
        serde_json::from_value(value).map(PlugIn::Storage)
    } else if value.get("peak_kw").is_some() {
        serde_json::from_value(value).map(PlugIn::Load)
    } else {
        return reject(
            world,
            topic,
            invalid("not a generator (`kind`), battery (`energy_kwh`) or load (`peak_kw`)".into()),
        );
    };
    let spec = match parsed {
        Ok(s) => s,
        Err(e) => return reject(world, topic, invalid(e.to_string())),
    };
    match plug_in(world, spec) {
        Ok(_) => {
            refresh_index(world);
            raise(
                world,
                Severity::Warning,
                &asset,
                "a new asset was plugged in".into(),
            );
            world.resource_mut::<TelemetryStats>().births += 1;
        }
        Err(why) => reject(world, topic, invalid(why)),
    }
}

fn ingest(world: &mut World) {
    pump(world, None);
}

/// Fresh measurements override the model's values for this tick; stale ones give them back.
/// Runs after the demand profiles and before dispatch, which plans around measured units.
#[allow(clippy::type_complexity)]
fn apply_measurements(
    telemetry: Res<Telemetry>,
    mut stats: ResMut<TelemetryStats>,
    mut assets: Query<(
        &mut Measured,
        Option<&mut Demand>,
        Option<&mut UnitOutput>,
        Option<&mut StateOfCharge>,
        Option<&mut SwitchState>,
    )>,
) {
    let now = now_ms();
    for (mut m, demand, unit, soc, switch) in &mut assets {
        let fresh = is_fresh(m.ts_ms, now, telemetry.freshness_ms);
        if !fresh {
            if !m.stale {
                m.stale = true;
                stats.stale += 1;
                let saved = std::mem::take(&mut m.saved);
                if let Some(mut u) = unit {
                    u.measured = false;
                    if let Some(p) = saved.setpoint_kw {
                        u.setpoint_kw = p;
                    }
                }
                if let (Some(mut s), Some(x)) = (soc, saved.soc) {
                    s.0 = x;
                }
            }
            continue;
        }
        m.stale = false;
        let v = m.values;
        if let Some(mut d) = demand {
            if let Some(p) = v.p_kw {
                // Without a measured q, keep the model's power factor.
                let q = v.q_kvar.unwrap_or(if d.p_kw.abs() > 1e-9 {
                    d.q_kvar * p / d.p_kw
                } else {
                    0.0
                });
                d.p_kw = p;
                d.q_kvar = q;
            } else if let Some(q) = v.q_kvar {
                d.q_kvar = q;
            }
        }
        if let (Some(mut u), Some(p)) = (unit, v.p_kw) {
            m.saved.setpoint_kw.get_or_insert(u.setpoint_kw);
            u.setpoint_kw = p;
            u.measured = true;
        }
        if let (Some(mut s), Some(x)) = (soc, v.soc) {
            m.saved.soc.get_or_insert(s.0);
            s.0 = x;
        }
        if let (Some(mut sw), Some(closed)) = (switch, v.breaker_closed)
            && sw.closed != closed
        {
            sw.closed = closed;
        }
    }
}

fn publish(world: &mut World) {
    let Some(clock) = world.get_resource::<SimClock>().cloned() else {
        return;
    };
    let mut sent = 0u64;
    let mut dropped = 0u64;
    let (site, client, every, instance) = {
        let t = world.resource::<Telemetry>();
        (
            t.site.clone(),
            t.link.client.clone(),
            t.state_every_ticks,
            t.instance.clone(),
        )
    };
    let mut send = |topic: String, qos: QoS, retain: bool, payload: Vec<u8>| match client
        .try_publish(topic, qos, retain, payload)
    {
        Ok(()) => sent += 1,
        Err(_) => dropped += 1,
    };
    let now = now_ms();
    // States.
    if clock.ticks % every == 0 {
        let states = crate::report::asset_states(world);
        let mut extra: HashMap<Entity, (Option<Measured>, bool)> = HashMap::new();
        for (e, m, off) in world
            .query::<(Entity, Option<&Measured>, Has<Offline>)>()
            .iter(world)
        {
            if m.is_some() || off {
                extra.insert(e, (m.cloned(), off));
            }
        }
        let index: HashMap<String, Entity> = world
            .resource::<Telemetry>()
            .index
            .iter()
            .map(|(k, v)| (k.clone(), v.0))
            .collect();
        for (id, mut state) in states {
            let (measured, offline) = index
                .get(&id)
                .and_then(|e| extra.get(e))
                .cloned()
                .unwrap_or((None, false));
            if let Value::Object(o) = &mut state {
                o.insert("t".into(), json!(clock.now_text()));
                o.insert("ts".into(), json!(now));
                o.insert("offline".into(), json!(offline));
                match &measured {
                    Some(m) => {
                        o.insert(
                            "source".into(),
                            json!(if m.stale { "model" } else { "measured" }),
                        );
                        o.insert("stale".into(), json!(m.stale));
                        o.insert("measured".into(), json!(m.values));
                        o.insert("measured_ts".into(), json!(m.ts_ms));
                    }
                    None => {
                        o.insert("source".into(), json!("model"));
                        o.insert("stale".into(), json!(false));
                    }
                }
            }
            send(
                topic::state(&site, &id),
                QoS::AtMostOnce,
                true,
                state.to_string().into_bytes(),
            );
        }
    }
    // Summary.
    let stats = world.resource::<TelemetryStats>().clone();
    let last = world
        .get_resource::<crate::report::ReportLog>()
        .and_then(|l| l.ticks.last().cloned());
    let summary = json!({
        "instance": instance,
        "tick": clock.ticks,
        "t": clock.now_text(),
        "ts": now,
        "grid": last,
        "telemetry": stats,
    });
    send(
        topic::twin(&site, "summary"),
        QoS::AtMostOnce,
        false,
        summary.to_string().into_bytes(),
    );
    // New alarms.
    let (total, new): (u64, Vec<Alarm>) = {
        let alarms = world.resource::<Alarms>();
        let done = world.resource::<Telemetry>().alarms_published;
        let fresh = (alarms.total - done).min(alarms.recent.len() as u64) as usize;
        (
            alarms.total,
            alarms
                .recent
                .iter()
                .rev()
                .take(fresh)
                .rev()
                .cloned()
                .collect(),
        )
    };
    for a in new {
        send(
            topic::twin(&site, "alarms"),
            QoS::AtLeastOnce,
            false,
            json!(a).to_string().into_bytes(),
        );
    }
    // Rejections.
    let pending = std::mem::take(&mut world.resource_mut::<Telemetry>().pending_rejections);
    let mut rest: BTreeMap<&'static str, u64> = BTreeMap::new();
    for (i, (topic_name, why)) in pending.into_iter().enumerate() {
        if i < REJECTIONS_PER_TICK {
            let body = json!({"reason": why.reason.key(), "detail": why.detail, "topic": topic_name, "ts": now});
            send(
                topic::twin(&site, "rejected"),
                QoS::AtMostOnce,
                false,
                body.to_string().into_bytes(),
            );
        } else {
            *rest.entry(why.reason.key()).or_default() += 1;
        }
    }
    if !rest.is_empty() {
        let body = json!({"reason": "many", "counts": rest, "ts": now});
        send(
            topic::twin(&site, "rejected"),
            QoS::AtMostOnce,
            false,
            body.to_string().into_bytes(),
        );
    }
    world.resource_mut::<Telemetry>().alarms_published = total;
    let mut s = world.resource_mut::<TelemetryStats>();
    s.published += sent;
    s.publish_dropped += dropped;
}

/// The report's `telemetry` object, when the twin ran live.
pub fn report_section(world: &World) -> Option<Value> {
    let s = world.get_resource::<TelemetryStats>()?;
    let mut rejected = serde_json::Map::new();
    for (k, v) in &s.rejected {
        rejected.insert((*k).into(), json!(v));
    }
    Some(json!({
        "applied": s.applied,
        "stale": s.stale,
        "rejected": rejected,
        "births": s.births,
        "deaths": s.deaths,
        "citizen_reports": s.citizen_reports,
        "connections": s.connections,
        "published": s.published,
        "first_applied_unix_ms": s.first_applied_unix_ms,
        "last_applied_unix_ms": s.last_applied_unix_ms,
    }))
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
