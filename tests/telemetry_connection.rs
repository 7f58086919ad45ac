//! The twin's connection to a real broker: running without one and connecting when it
//! appears, username and password, TLS under a private certificate authority, a broker
//! restart mid-stream, and two twins sharing one subscription. Each test starts Debian's
//! mosquitto on a free loopback port with its own configuration (plain, with a password
//! file, with TLS under certificates made here by `openssl`) and stops it by its PID; the
//! harness is in `tests/common`.

#![cfg(not(target_arch = "wasm32"))]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bevy::prelude::*;
use kos_twin::app::headless_app;
use kos_twin::sim::grid::Grid;
use kos_twin::sim::run_ticks;
use kos_twin::telemetry::{TelemetryStats, connect};
use serde_json::Value;

mod common;
use common::twin::*;
use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_kos-twin");

#[test]
fn without_a_broker_the_twin_runs_on_its_model_and_connects_when_one_appears() {
    let port = free_port();
    let scene = tiny();
    let mut app = headless_app(&scene);
    let cfg = config("");
    let conn = cfg
        .resolve(Some(&format!("mqtt://127.0.0.1:{port}")), "tiny")
        .unwrap();
    connect(&mut app, &conn).unwrap();
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .last_error
        .is_some()));
    run_ticks(&mut app, 3);
    assert!(
        app.world()
            .resource::<Grid>()
            .last
            .as_ref()
            .unwrap()
            .converged
    );
    assert!(!stats(&app).connected);
    // Now a broker on that port: the retries find it.
    let dir = Scratch::new("late");
    let conf = dir.path("m.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n{}",
            run_as()
        ),
    )
    .unwrap();
    let mut late = Broker {
        child: None,
        port,
        conf,
        dir,
    };
    late.launch();
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .connected));
    late.publish(
        &topic("homes1", "telemetry"),
        format!(r#"{{"ts": {}, "p_kw": 3}}"#, now_ms()).as_bytes(),
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
}

#[test]
fn username_and_password_are_required_and_never_shown() {
    let broker = Broker::start(Auth::Password);
    // Wrong password: refused, the twin keeps running, the error has no credentials.
    let scene = tiny();
    let mut app = headless_app(&scene);
    let bad = config(&format!(
        "username: Some(\"{USER}\"), password: Some(\"hunter2-wrong\")"
    ));
    connect(&mut app, &bad.resolve(Some(&broker.url()), "tiny").unwrap()).unwrap();
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .last_error
        .is_some()));
    let s = stats(&app);
    assert!(!s.connected);
    let shown = format!("{s:?} {bad:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    run_ticks(&mut app, 1);
    drop(app);
    // The right one, from a password file.
    let dir = Scratch::new("pw");
    std::fs::write(dir.path("pw"), format!("{PASSWORD}\n")).unwrap();
    let good = config(&format!(
        "username: Some(\"{USER}\"), password_file: Some(\"{}\")",
        dir.path("pw").display()
    ));
    let mut app = twin(&broker.url(), &good);
    let mut p = Command::new("mosquitto_pub");
    p.args([
        "-h",
        "127.0.0.1",
        "-p",
        &broker.port.to_string(),
        "-u",
        USER,
        "-P",
        PASSWORD,
        "-q",
        "1",
    ])
    .args([
        "-t",
        &topic("homes1", "telemetry"),
        "-m",
        &format!(r#"{{"ts": {}, "p_kw": 3}}"#, now_ms()),
    ]);
    assert!(p.status().unwrap().success());
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
}

#[test]
fn tls_with_a_private_certificate_authority() {
    let broker = Broker::start(Auth::Tls);
    let ca = broker.dir.path("ca.pem");
    let cfg = config(&format!("ca_file: Some(\"{}\")", ca.display()));
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let mut app = twin(&url, &cfg);
    let mut p = Command::new("mosquitto_pub");
    p.args([
        "-h",
        "127.0.0.1",
        "-p",
        &broker.port.to_string(),
        "--cafile",
    ])
    .arg(&ca)
    .args([
        "-q",
        "1",
        "-t",
        &topic("homes1", "telemetry"),
        "-m",
        &format!(r#"{{"ts": {}, "p_kw": 3}}"#, now_ms()),
    ]);
    assert!(p.status().unwrap().success());
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        == 1));
    run_ticks(&mut app, 1);
    // A twin that does not trust that authority never connects.
    let scene = tiny();
    let mut other = headless_app(&scene);
    connect(&mut other, &config("").resolve(Some(&url), "tiny").unwrap()).unwrap();
    assert!(pump_until(&mut other, LONG, |w| w
        .resource::<TelemetryStats>()
        .last_error
        .is_some()));
    assert!(!stats(&other).connected);
}

fn telemetry_sim(broker_url: &str, args: &[&str]) -> Child {
    Command::new(BIN)
        .args([
            "telemetry-sim",
            "--scene",
            "scenes/tiny.ron",
            "--site",
            SITE,
            "--broker",
            broker_url,
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn sim_result(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_broker_restart_mid_stream_loses_no_acknowledged_message() {
    let mut broker = Broker::start_with(Auth::Anonymous, true);
    let mut app = twin(&broker.url(), &config("client_id: Some(\"twin-restart\")"));
    let n: u64 = 3000;
    // 13 reporting assets at 60 Hz: about 780 messages per second, about 4 s.
    let sim = telemetry_sim(
        &broker.url(),
        &[
            "--qos",
            "1",
            "--rate",
            "60",
            "--count",
            &n.to_string(),
            "--client-id",
            "sim-restart",
        ],
    );
    assert!(pump_until(&mut app, LONG, |w| w
        .resource::<TelemetryStats>()
        .applied
        >= 600));
    broker.stop();
    // The twin runs on its model while the broker is away.
    run_ticks(&mut app, 2);
    pump_until(&mut app, Duration::from_millis(300), |_| false);
    broker.launch();
    let result = sim_result(sim);
    assert_eq!(result["published"], n);
    assert!(result["acked"].as_u64().unwrap() >= n, "{result}");
    assert!(
        pump_until(&mut app, Duration::from_secs(60), |w| w
            .resource::<TelemetryStats>()
            .applied
            >= n),
        "{:?}",
        stats(&app)
    );
    // Every message applied exactly once: redeliveries are recognised by sequence number.
    pump_until(&mut app, Duration::from_millis(300), |_| false);
    let s = stats(&app);
    assert_eq!(s.applied, n, "{s:?}");
    assert!(s.connections >= 2, "{s:?}");
    assert_eq!(
        s.rejected
            .iter()
            .filter(|(k, _)| **k != "duplicate")
            .count(),
        0,
        "{s:?}"
    );
}

#[test]
fn two_twins_in_a_shared_subscription_split_the_stream() {
    let broker = Broker::start(Auth::Anonymous);
    let dir = Scratch::new("share");
    let mut twins = Vec::new();
    for i in 0..2 {
        let cfg = dir.path(&format!("twin{i}.ron"));
        std::fs::write(
            &cfg,
            format!("(site: Some(\"{SITE}\"), client_id: Some(\"twin-{i}\"), share_group: Some(\"twins\"))"),
        )
        .unwrap();
        twins.push(
            Command::new(BIN)
                .args([
                    "headless",
                    "--scene",
                    "scenes/tiny.ron",
                    "--mqtt",
                    &broker.url(),
                    "--mqtt-config",
                ])
                .arg(&cfg)
                .args(["--wall-seconds", "120", "--until-idle", "1.5"])
                .arg("--report")
                .arg(dir.path(&format!("report{i}.json")))
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .spawn()
                .unwrap(),
        );
    }
    // Both subscribed: each says so in its summary.
    let out = Listener::start(&broker, &format!("kos/v1/{SITE}/twin/summary"));
    assert!(wait_until(Duration::from_secs(60), || {
        (0..2).all(|i| {
            out.find(|_, v| {
                v["instance"] == format!("twin-{i}") && v["telemetry"]["connected"] == true
            })
            .is_some()
        })
    }));
    let n = 2000u64;
    let result = sim_result(telemetry_sim(
        &broker.url(),
        &["--qos", "1", "--rate", "0", "--count", &n.to_string()],
    ));
    assert_eq!(result["published"], n);
    // Each twin ends once no telemetry came for a second, and writes its report.
    let mut applied = Vec::new();
    for (i, t) in twins.into_iter().enumerate() {
        let status = t.wait_with_output().unwrap().status;
        assert!(status.success());
        let report: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path(&format!("report{i}.json"))).unwrap(),
        )
        .unwrap();
        applied.push(report["telemetry"]["applied"].as_u64().unwrap());
    }
    assert_eq!(applied.iter().sum::<u64>(), n, "{applied:?}");
    assert!(
        applied.iter().all(|a| *a > n / 10),
        "each instance takes a share: {applied:?}"
    );
}
