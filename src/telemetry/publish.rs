//! What the twin publishes after each tick, and the report's `telemetry` object.

use super::*;

pub(super) fn publish(world: &mut World) {
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
