//! What arrives from the broker: measurements, births and deaths of modules, citizens'
//! reports; and the measured values that override the model before each power flow.

use super::*;
use crate::sim::grid::set_in_service;
use payload::Measurement;

/// Whether `asset` is within its message rate at `now_s`; a message over it is rejected under
/// the topic `topic` gives.
fn within_rate(world: &mut World, asset: &str, now_s: f64, topic: impl Fn() -> String) -> bool {
    let allowed = world.resource_mut::<Telemetry>().assets.allow(asset, now_s);
    if !allowed {
        reject(
            world,
            topic(),
            Rejected::new(RejectReason::RateLimited, "over the asset's message rate"),
        );
    }
    allowed
}

/// One message from the broker's thread, applied to the world.
pub(super) fn handle(world: &mut World, msg: Incoming) {
    let site = world.resource::<Telemetry>().site.clone();
    match msg {
        Incoming::Rejected { topic, why } => reject(world, topic, why),
        Incoming::Connected { .. } => connected(world),
        Incoming::Disconnected { error, retry_ms } => disconnected(world, error, retry_ms),
        Incoming::Telemetry { asset, m } => measurement(world, &site, asset, m),
        Incoming::Birth { asset, body } => birth(world, &site, asset, body),
        Incoming::Death { asset } => death(world, &site, asset),
        Incoming::Citizen(report) => citizen_report(world, &site, report),
    }
}

fn connected(world: &mut World) {
    let mut s = world.resource_mut::<TelemetryStats>();
    s.connected = true;
    s.connections += 1;
    info!(
        "telemetry: connected to {}",
        world.resource::<Telemetry>().broker
    );
}

fn disconnected(world: &mut World, error: String, retry_ms: u64) {
    let mut s = world.resource_mut::<TelemetryStats>();
    if s.connected || s.last_error.as_deref() != Some(error.as_str()) {
        warn!(
            "telemetry: broker unreachable ({error}); running on the model, retrying in {retry_ms} ms"
        );
    }
    s.connected = false;
    s.last_error = Some(error);
}

/// A measurement: checked (known asset, rate, ranges, newer than the last), then kept as the
/// asset's [`Measured`] values.
fn measurement(world: &mut World, site: &str, asset: String, m: Measurement) {
    let topic = || topic::telemetry(site, &asset);
    let now_s = world.resource::<Telemetry>().uptime_s();
    let Some(&(e, class)) = world.resource::<Telemetry>().index.get(&asset) else {
        return reject(
            world,
            topic(),
            Rejected::new(RejectReason::UnknownAsset, "no asset with this id"),
        );
    };
    if !within_rate(world, &asset, now_s, topic) {
        return;
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
        // A fault passage indicator: protection locates the fault from it.
        let indicator = world
            .get::<Spec<kos_scene::ProtectionSpec>>(e)
            .is_some_and(|p| matches!(p.device, kos_scene::DeviceSpec::FaultIndicator { .. }));
        if indicator {
            world.write_message(crate::protection::ProtectionCommand::Indicated {
                indicator: asset.clone(),
            });
        }
    }
    let now = now_ms();
    let mut s = world.resource_mut::<TelemetryStats>();
    s.applied += 1;
    s.first_applied_unix_ms.get_or_insert(now);
    s.last_applied_unix_ms = Some(now);
}

/// A death: the device went offline; the model takes over and it leaves service.
fn death(world: &mut World, site: &str, asset: String) {
    let Some(&(e, _)) = world.resource::<Telemetry>().index.get(&asset) else {
        return reject(
            world,
            topic::death(site, &asset),
            Rejected::new(RejectReason::UnknownAsset, "no asset with this id"),
        );
    };
    // The model takes over again.
    if let Some(m) = world.entity_mut(e).take::<Measured>() {
        if let (Some(p), Some(mut u)) = (m.saved.setpoint_kw, world.get_mut::<UnitOutput>(e)) {
            u.setpoint_kw = p;
        }
        if let (Some(x), Some(mut s)) = (m.saved.soc, world.get_mut::<StateOfCharge>(e)) {
            s.0 = x;
        }
    }
    world.entity_mut(e).insert(Offline);
    set_in_service(world, e, false);
    raise(
        world,
        Severity::Warning,
        &asset,
        "the device went offline".into(),
    );
    world.resource_mut::<TelemetryStats>().deaths += 1;
}

/// A citizen's report: rate-limited per reporter, its asset checked, then kept.
fn citizen_report(world: &mut World, site: &str, report: CitizenReport) {
    let topic = topic::citizen_report(site);
    let now_s = world.resource::<Telemetry>().uptime_s();
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
    let now_s = world.resource::<Telemetry>().uptime_s();
    if !within_rate(world, &asset, now_s, || topic.clone()) {
        return;
    }
    body.remove("ts");
    if let Some(&(e, _)) = world.resource::<Telemetry>().index.get(&asset) {
        world.entity_mut(e).remove::<Offline>();
        set_in_service(world, e, true);
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

pub(super) fn ingest(world: &mut World) {
    pump(world, None);
}

/// Fresh measurements override the model's values for this tick; stale ones give them back.
/// Runs after the demand profiles and before dispatch, which plans around measured units.
#[allow(clippy::type_complexity)]
pub(super) fn apply_measurements(
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
