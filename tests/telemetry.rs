//! Live telemetry into the twin against a real broker: measurements in and solved states
//! out, every class of bad input, stale data, births and deaths, citizen reports (also from
//! the browser pages). Each test starts Debian's mosquitto on a free loopback port and stops
//! it by its PID; the harness is in `tests/common` (connection, authentication, TLS and
//! restarts are in `tests/telemetry_connection.rs`).

#![cfg(not(target_arch = "wasm32"))]

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use bevy::prelude::*;
use kos_twin::model::*;
use kos_twin::sim::grid::Grid;
use kos_twin::sim::run_ticks;
use kos_twin::telemetry::{CitizenReports, Measured, Offline, TelemetryStats};
use kos_twin::ui::citizen_report::{CitizenReport, ReportKind};
use kos_twin::web_mqtt;
use serde_json::Value;

mod common;
use common::twin::*;
use common::*;

#[test]
fn a_measurement_goes_into_the_ecs_and_its_solved_state_comes_back_out() {
    let broker = Broker::start(Auth::Anonymous);
    let out = Listener::start(&broker, &format!("kos/v1/{SITE}/twin/#"));
    let mut app = twin(&broker.url(), &config(""));
    broker.publish(
        &topic("homes1", "telemetry"),
        format!(r#"{{"ts": {}, "p_kw": 33.5, "q_kvar": 4.0}}"#, now_ms()).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
    run_ticks(&mut app, 1);
    let e = entity(&mut app, "homes1");
    let d = *app.world().get::<Demand>(e).unwrap();
    assert_eq!((d.p_kw, d.q_kvar), (33.5, 4.0));
    assert!(d.served);
    assert!(wait_until(LONG, || out
        .find(|t, v| t.ends_with("/twin/state/homes1") && v["source"] == "measured")
        .is_some()));
    let (_, state) = out.find(|t, _| t.ends_with("/twin/state/homes1")).unwrap();
    assert_eq!(state["demand_kw"], 33.5);
    assert_eq!(state["measured"]["p_kw"], 33.5);
    assert_eq!(state["stale"], false);
    assert!(wait_until(LONG, || out
        .find(|t, v| t.ends_with("/twin/summary") && v["telemetry"]["applied"] == 1)
        .is_some()));
    // The state topic is retained: a late subscriber gets it at once.
    let late = broker
        .client_cmd("mosquitto_sub")
        .args([
            "-C",
            "1",
            "-W",
            "10",
            "-t",
            &format!("kos/v1/{SITE}/twin/state/homes1"),
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&late.stdout).unwrap();
    assert_eq!(v["demand_kw"], 33.5);
}

#[test]
fn every_class_of_bad_input_is_rejected_counted_and_reported() {
    let broker = Broker::start(Auth::Anonymous);
    let out = Listener::start(&broker, &format!("kos/v1/{SITE}/twin/rejected"));
    let mut app = twin(
        &broker.url(),
        &config("asset_rate_hz: 1.0, asset_burst: 5.0, max_payload_bytes: 1024"),
    );
    let ts = now_ms();
    let cases: Vec<(&str, String, &str)> = vec![
        ("homes1", "p_kw=3; rm -rf /".into(), "not_json"),
        (
            "homes1",
            r#"{"ts": 1, "p_kw": "many"}"#.into(),
            "wrong_type",
        ),
        (
            "homes1",
            format!(r#"{{"ts": {ts}, "p_kw": NaN}}"#),
            "non_finite",
        ),
        (
            "homes1",
            format!(r#"{{"ts": {ts}, "p_kw": 1e999}}"#),
            "non_finite",
        ),
        (
            "nowhere",
            format!(r#"{{"ts": {ts}, "p_kw": 1}}"#),
            "unknown_asset",
        ),
        (
            "homes2",
            format!(r#"{{"ts": {ts}, "p_kw": 4000}}"#),
            "implausible",
        ),
        (
            "lv1",
            format!(r#"{{"ts": {ts}, "v_pu": -1}}"#),
            "implausible",
        ),
        (
            "homes2",
            format!(r#"{{"ts": {ts}, "soc": 0.5}}"#),
            "not_applicable",
        ),
        (
            "homes2",
            format!(
                r#"{{"ts": {ts}, "p_kw": 1, "pad": "{}"}}"#,
                "x".repeat(2000)
            ),
            "oversized",
        ),
        (
            "homes2",
            format!(r#"{{"ts": {ts}, "watts": 1}}"#),
            "unknown_field",
        ),
        ("homes2", r#"{"p_kw": 1}"#.into(), "missing_timestamp"),
        (
            "homes2",
            format!(r#"{{"ts": {}, "p_kw": 1}}"#, ts + 3_600_000),
            "future_timestamp",
        ),
        (
            "bad$id",
            format!(r#"{{"ts": {ts}, "p_kw": 1}}"#),
            "bad_topic",
        ),
    ];
    for (asset, payload, _) in &cases {
        broker.publish(&topic(asset, "telemetry"), payload.as_bytes());
    }
    // A flood: 40 messages to one asset at once, 5 pass the burst allowance.
    let flood: Vec<String> = (0..40)
        .map(|i| format!(r#"{{"ts": {ts}, "seq": {}, "p_kw": 3}}"#, i + 1))
        .collect();
    broker.publish_lines(&topic("lights", "telemetry"), &flood);
    // A redelivered message (same sequence number).
    let n = cases.len() as u64 + 40;
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .handled()
        >= n));
    let s = stats(&app);
    for (_, _, reason) in &cases {
        assert!(
            s.rejected.get(reason).copied().unwrap_or(0) >= 1,
            "{reason}: {:?}",
            s.rejected
        );
    }
    assert_eq!(s.rejected["non_finite"], 2);
    assert!(s.rejected["rate_limited"] >= 30, "{:?}", s.rejected);
    assert_eq!(s.applied + s.rejected["rate_limited"], 40, "{s:?}");
    // Duplicates: a sequence number not newer than the last applied.
    broker.publish(
        &topic("lights", "telemetry"),
        format!(r#"{{"ts": {ts}, "seq": 1, "p_kw": 3}}"#).as_bytes(),
    );
    // Wait for the limiter to refill one token.
    std::thread::sleep(Duration::from_millis(1100));
    broker.publish(
        &topic("lights", "telemetry"),
        format!(r#"{{"ts": {ts}, "seq": 2, "p_kw": 3}}"#).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .rejected
        .get("duplicate")
        .is_some_and(|d| *d >= 1)));
    // The twin runs on.
    run_ticks(&mut app, 2);
    let grid = app.world().resource::<Grid>();
    assert!(grid.last.as_ref().unwrap().converged);
    // Each rejection is published with its reason, and the payload never echoed.
    assert!(
        wait_until(LONG, || {
            cases
                .iter()
                .all(|(_, _, r)| out.find(|_, v| v["reason"] == *r).is_some())
        }),
        "{:?}",
        out.got.lock().unwrap()
    );
    let all = out.got.lock().unwrap();
    assert!(!all.iter().any(|(_, v)| v.to_string().contains("rm -rf")));
}

#[test]
fn a_stale_measurement_falls_back_to_the_model_and_is_flagged() {
    let broker = Broker::start(Auth::Anonymous);
    let out = Listener::start(&broker, &format!("kos/v1/{SITE}/twin/state/pv1"));
    let mut app = twin(&broker.url(), &config("freshness_s: 0.5"));
    let e = entity(&mut app, "pv1");
    broker.publish(
        &topic("pv1", "telemetry"),
        format!(r#"{{"ts": {}, "p_kw": 7.25}}"#, now_ms()).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
    run_ticks(&mut app, 1);
    let u = *app.world().get::<UnitOutput>(e).unwrap();
    assert_eq!(u.setpoint_kw, 7.25);
    assert!((u.p_kw - 7.25).abs() < 1e-6, "{u:?}");
    // Past the window: the model again, flagged.
    std::thread::sleep(Duration::from_millis(600));
    run_ticks(&mut app, 1);
    let m = app.world().get::<Measured>(e).unwrap().clone();
    assert!(m.stale);
    // The model is back in charge: the unit gives what the weather allows, as dispatched.
    let u = *app.world().get::<UnitOutput>(e).unwrap();
    let a = *app.world().get::<Available>(e).unwrap();
    assert!(!u.measured);
    assert!(
        (u.setpoint_kw - (a.kw - a.curtailed_kw)).abs() < 1e-9,
        "{u:?} {a:?}"
    );
    assert_eq!(stats(&app).stale, 1);
    assert!(wait_until(LONG, || out
        .find(|_, v| v["stale"] == true && v["source"] == "model")
        .is_some()));
    // A new measurement makes it fresh again.
    broker.publish(
        &topic("pv1", "telemetry"),
        format!(r#"{{"ts": {}, "p_kw": 6.0}}"#, now_ms()).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 2));
    run_ticks(&mut app, 1);
    assert!(!app.world().get::<Measured>(e).unwrap().stale);
    assert_eq!(app.world().get::<UnitOutput>(e).unwrap().setpoint_kw, 6.0);
}

#[test]
fn a_birth_plugs_a_module_in_and_the_grid_solves_with_it_and_a_death_takes_it_out() {
    let broker = Broker::start(Auth::Anonymous);
    let mut app = twin(&broker.url(), &config(""));
    run_ticks(&mut app, 1);
    let units_before = app.world().resource::<Grid>().unit_entities.len();
    let supply_before = supply_kw(&mut app, "pv-new");
    broker.publish(
        &topic("pv-new", "birth"),
        br#"{"kind": {"Solar": {"tilt_deg": 30.0, "azimuth_deg": 180.0}}, "bus": "lv3", "rated_kw": 12.0,
             "setpoint_kw": 10.0, "dna": {"purpose": "rooftop array of the shelter", "commissioned": "2026-06-01"}}"#,
    );
    // Invalid births: an unknown bus; a new asset with no description.
    broker.publish(
        &topic("pv-bad", "birth"),
        br#"{"kind": {"Solar": {}}, "bus": "nowhere", "rated_kw": 5.0}"#,
    );
    broker.publish(&topic("pv-bare", "birth"), b"");
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .handled()
        >= 3));
    let s = stats(&app);
    assert_eq!(s.births, 1, "{s:?}");
    assert_eq!(s.rejected.get("invalid_birth"), Some(&1), "{s:?}");
    assert_eq!(s.rejected.get("unknown_asset"), Some(&1), "{s:?}");
    run_ticks(&mut app, 1);
    let e = entity(&mut app, "pv-new");
    let grid = app.world().resource::<Grid>();
    assert_eq!(grid.unit_entities.len(), units_before + 1);
    assert!(grid.unit_entities.contains(&e));
    // It produces what the weather allows it (the birth's setpoint is only a start value),
    // and the import falls by about as much.
    let u = *app.world().get::<UnitOutput>(e).unwrap();
    let a = *app.world().get::<Available>(e).unwrap();
    assert!(u.energised && u.p_kw > 1.0, "{u:?}");
    assert!(
        (u.p_kw - (a.kw - a.curtailed_kw)).abs() < 1e-6,
        "{u:?} {a:?}"
    );
    let supply_after = supply_kw(&mut app, "pv-new");
    assert!(
        supply_after < supply_before - 0.8 * u.p_kw,
        "other units {supply_before} -> {supply_after} kW with {} kW more solar",
        u.p_kw
    );
    assert_eq!(
        app.world()
            .get::<Spec<kos_scene::GeneratorSpec>>(e)
            .unwrap()
            .dna
            .purpose,
        "rooftop array of the shelter"
    );
    // Measurements for the new module are accepted.
    broker.publish(
        &topic("pv-new", "telemetry"),
        format!(r#"{{"ts": {}, "p_kw": 11.0}}"#, now_ms()).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
    // Death (as a last will would): out of service, the grid re-solves without it.
    broker.publish(&topic("pv-new", "death"), b"");
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .deaths
        == 1));
    run_ticks(&mut app, 1);
    assert!(app.world().get::<Offline>(e).is_some());
    let u = *app.world().get::<UnitOutput>(e).unwrap();
    assert!(!u.energised && u.p_kw == 0.0, "{u:?}");
    // Back online.
    broker.publish(&topic("pv-new", "birth"), b"{}");
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .births
        == 2));
    run_ticks(&mut app, 1);
    assert!(app.world().get::<UnitOutput>(e).unwrap().energised);
}

/// Output of every unit but `except` (the grid tie, batteries, generators), kW.
fn supply_kw(app: &mut App, except: &str) -> f64 {
    let world = app.world_mut();
    world
        .query::<(&AssetTag, &UnitOutput)>()
        .iter(world)
        .filter(|(t, _)| t.0 != except)
        .map(|(_, u)| u.p_kw)
        .sum()
}

#[test]
fn citizen_reports_are_validated_rate_limited_and_kept() {
    let broker = Broker::start(Auth::Anonymous);
    let mut app = twin(
        &broker.url(),
        &config("citizen_per_minute: 1.0, citizen_burst: 2.0"),
    );
    let t = format!("kos/v1/{SITE}/citizen/report");
    let lines: Vec<String> = vec![
        r#"{"reporter": "r1", "kind": "outage", "asset": "homes2", "text": "lights out on <b>Mill Lane</b>"}"#.into(),
        r#"{"reporter": "r1", "kind": "damage", "text": "cabinet door open"}"#.into(),
        r#"{"reporter": "r1", "kind": "misuse", "text": "third in a minute"}"#.into(),
        r#"{"reporter": "r2", "kind": "misuse", "text": "fence cut near the depot"}"#.into(),
        r#"{"reporter": "r3", "kind": "arson"}"#.into(),
        r#"{"reporter": "r4", "kind": "outage", "asset": "no-such-thing"}"#.into(),
    ];
    broker.publish_lines(&t, &lines);
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .handled()
        >= 6));
    let s = stats(&app);
    assert_eq!(s.citizen_reports, 3, "{s:?}");
    assert_eq!(s.rejected.get("rate_limited"), Some(&1));
    assert_eq!(s.rejected.get("invalid_report"), Some(&2));
    let kept = app.world().resource::<CitizenReports>();
    assert_eq!(kept.total, 3);
    assert_eq!(kept.recent[0].text, "lights out on <b>Mill Lane</b>");
    assert_eq!(kept.recent[0].asset.as_deref(), Some("homes2"));
}

#[test]
fn the_browser_pages_report_packets_reach_the_twin() {
    // The page's own packets (CONNECT, PUBLISH) and payload, sent to the broker over TCP
    // (the browser wraps the same bytes in WebSocket frames), on the topic the page derives
    // from the site's name; the twin, with no site configured, derives the same.
    let broker = Broker::start(Auth::Anonymous);
    let scene = tiny();
    let mut app = twin(&broker.url(), &ron::from_str("()").unwrap());
    let mut page = TcpStream::connect(("127.0.0.1", broker.port)).unwrap();
    page.set_read_timeout(Some(LONG)).unwrap();
    page.write_all(&web_mqtt::connect("kos-citizen-test"))
        .unwrap();
    let mut connack = [0u8; 4];
    std::io::Read::read_exact(&mut page, &mut connack).unwrap();
    assert_eq!(
        connack,
        [0x20, 0x02, 0x00, 0x00],
        "broker refused the page's CONNECT"
    );
    let report = CitizenReport {
        seq: 1,
        kind: ReportKind::Damage,
        asset: "homes2".into(),
        text: "cabinet door hanging open".into(),
        at: "12:05".into(),
    };
    let topic = web_mqtt::report_topic(&kos_scene::site_slug(&scene.site.name));
    let payload = web_mqtt::report_payload(&report, now_ms(), "page-1");
    page.write_all(&web_mqtt::publish(&topic, &payload))
        .unwrap();
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .citizen_reports
        >= 1));
    let kept = app.world().resource::<CitizenReports>();
    assert_eq!(kept.recent[0].text, "cabinet door hanging open");
    assert_eq!(kept.recent[0].asset.as_deref(), Some("homes2"));
}

/// Fault passage indicators on the default scene's west ring report fault current over
/// telemetry: the twin places the fault beyond the farthest of them (mv-03), and its
/// protection and FLISR follow as for any fault there.
#[test]
fn fault_indicators_over_telemetry_locate_a_fault_that_protection_then_clears() {
    let broker = Broker::start(Auth::Anonymous);
    let scene = kos_twin::scene::default_scene();
    let mut app = twin_of(&scene, &broker.url(), &config(""));
    for fpi in ["fpi-02", "fpi-03"] {
        broker.publish(
            &topic(fpi, "telemetry"),
            format!(r#"{{"ts": {}, "fault": true}}"#, now_ms()).as_bytes(),
        );
    }
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 2));
    run_ticks(&mut app, 2);
    let p = app.world().resource::<kos_twin::protection::Protection>();
    let ev: Vec<(&str, &str)> = p
        .events
        .iter()
        .map(|e| (e.asset.as_str(), e.action.as_str()))
        .collect();
    let located = p.events.iter().find(|e| e.action == "fpi_located").unwrap();
    assert_eq!(located.asset, "fpi-03", "{ev:?}");
    assert!(located.cause.contains("at mv-03"), "{}", located.cause);
    assert!(ev.contains(&("mv-03", "fault")), "{ev:?}");
    assert!(ev.contains(&("rly-west", "trip")), "{ev:?}");
    assert!(p.faulted.contains("mv-03"));
}
