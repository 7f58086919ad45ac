//! `kos-twin telemetry-sim`: publishes telemetry for a scene from the twin's own models
//! (demand profiles, unit setpoints, the solved power flow), optionally with injected
//! faults and bad messages. The demo feed and the load generator of the benchmark.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use bevy::prelude::*;
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS};
use serde_json::json;

use super::client::{now_ms, options};
use super::config::TelemetryConfig;
use super::topic;
use crate::app::headless_app;
use crate::model::*;
use crate::sim::{SimClock, run_ticks};

/// Arguments of `kos-twin telemetry-sim`.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetrySimArgs {
    /// Scene whose assets report (RON); the built-in default scene when left out.
    #[arg(long)]
    pub scene: Option<PathBuf>,
    /// Broker URL, `mqtt://[user:password@]host:port` or `mqtts://...`.
    #[arg(long)]
    pub broker: Option<String>,
    /// Messages per second per asset; 0 publishes as fast as the broker takes them.
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// Stop after this many wall seconds.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop after this many messages.
    #[arg(long)]
    pub count: Option<u64>,
    /// Inject faults and bad messages (about one message in 25).
    #[arg(long)]
    pub faults: bool,
    /// QoS of the telemetry (0 or 1). With 1 the simulator keeps its session and waits
    /// until every message is acknowledged.
    #[arg(long, default_value_t = 1)]
    pub qos: u8,
    /// Site name in topics (default: the settings file's, else from the scene's site name).
    #[arg(long)]
    pub site: Option<String>,
    /// Settings file (site, credentials, CA), as for the twin.
    #[arg(long)]
    pub mqtt_config: Option<PathBuf>,
    /// MQTT client id (default `kos-telemetry-sim-{pid}`).
    #[arg(long)]
    pub client_id: Option<String>,
}

/// What a reporting asset measures.
#[derive(Debug, Clone, Copy)]
enum Reading {
    Bus {
        v_pu: f64,
    },
    Switch {
        closed: bool,
    },
    Unit {
        p_kw: f64,
        q_kvar: f64,
        extra: Option<(&'static str, f64)>,
        soc: Option<f64>,
    },
    Load {
        p_kw: f64,
        q_kvar: f64,
    },
}

/// Deterministic noise (xorshift64*).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn readings(world: &mut World) -> Vec<(String, Reading)> {
    let mut out = Vec::new();
    let mut q = world.query::<(
        &AssetTag,
        &AssetKind,
        StateQuery,
        Option<&Spec<kos_scene::GeneratorSpec>>,
    )>();
    for (tag, kind, (v, _, sw, u, soc, d), g) in q.iter(world) {
        let r = match kind {
            AssetKind::Bus => v
                .filter(|v| v.energised)
                .map(|v| Reading::Bus { v_pu: v.vm_pu }),
            AssetKind::Switch => sw.map(|s| Reading::Switch { closed: s.closed }),
            AssetKind::Generator | AssetKind::Storage => u.map(|u| {
                let extra = g.and_then(|g| {
                    let frac = if g.rated_kw > 0.0 {
                        (u.p_kw / g.rated_kw).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    match g.kind {
                        kos_scene::GeneratorKind::Solar { .. } => {
                            Some(("irradiance_w_m2", 1000.0 * frac))
                        }
                        kos_scene::GeneratorKind::Wind {
                            cut_in_m_s,
                            rated_m_s,
                            ..
                        } => Some((
                            "wind_m_s",
                            cut_in_m_s + (rated_m_s - cut_in_m_s) * frac.cbrt(),
                        )),
                        _ => None,
                    }
                });
                Reading::Unit {
                    p_kw: u.p_kw,
                    q_kvar: u.q_kvar,
                    extra,
                    soc: soc.map(|s| s.0),
                }
            }),
            AssetKind::Load | AssetKind::Pod => d.map(|d| Reading::Load {
                p_kw: d.p_kw,
                q_kvar: d.q_kvar,
            }),
            _ => None,
        };
        if let Some(r) = r {
            out.push((tag.0.clone(), r));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn payload(r: Reading, ts: i64, seq: u64, noise: &mut Noise) -> String {
    let jitter = |x: f64, n: &mut Noise| x * (1.0 + 0.005 * n.unit());
    match r {
        Reading::Bus { v_pu } => format!(
            r#"{{"ts":{ts},"seq":{seq},"v_pu":{:.5}}}"#,
            jitter(v_pu, noise)
        ),
        Reading::Switch { closed } => format!(
            r#"{{"ts":{ts},"seq":{seq},"breaker":"{}"}}"#,
            if closed { "closed" } else { "open" }
        ),
        Reading::Unit {
            p_kw,
            q_kvar,
            extra,
            soc,
        } => {
            let mut s = format!(
                r#"{{"ts":{ts},"seq":{seq},"p_kw":{:.3},"q_kvar":{:.3}"#,
                jitter(p_kw, noise),
                jitter(q_kvar, noise)
            );
            if let Some((k, x)) = extra {
                s.push_str(&format!(r#","{k}":{:.2}"#, x.max(0.0)));
            }
            if let Some(x) = soc {
                s.push_str(&format!(r#","soc":{:.4}"#, x.clamp(0.0, 1.0)));
            }
            s.push('}');
            s
        }
        Reading::Load { p_kw, q_kvar } => format!(
            r#"{{"ts":{ts},"seq":{seq},"p_kw":{:.3},"q_kvar":{:.3}}}"#,
            jitter(p_kw, noise).max(0.0),
            jitter(q_kvar, noise)
        ),
    }
}

/// The bad messages `--faults` mixes in, in turn: (asset suffix, payload).
fn bad_message(k: u64, asset: &str, ts: i64) -> (String, Vec<u8>) {
    match k % 9 {
        0 => (asset.into(), b"p_kw=12;".to_vec()),
        1 => (
            asset.into(),
            format!(r#"{{"ts":{ts},"p_kw":NaN}}"#).into_bytes(),
        ),
        2 => (
            asset.into(),
            format!(r#"{{"ts":{ts},"p_kw":"high"}}"#).into_bytes(),
        ),
        3 => (
            "no-such-asset".into(),
            format!(r#"{{"ts":{ts},"p_kw":1}}"#).into_bytes(),
        ),
        4 => (
            asset.into(),
            format!(r#"{{"ts":{ts},"v_pu":9.5}}"#).into_bytes(),
        ),
        5 => (asset.into(), vec![b' '; 64 * 1024]),
        6 => (
            asset.into(),
            format!(r#"{{"ts":{ts},"p_watts":1}}"#).into_bytes(),
        ),
        7 => (asset.into(), br#"{"p_kw":1}"#.to_vec()),
        _ => (
            asset.into(),
            format!(r#"{{"ts":{ts},"fault":true}}"#).into_bytes(),
        ),
    }
}

/// Runs the simulator; returns its summary as one JSON line.
pub fn run(args: &TelemetrySimArgs) -> anyhow::Result<String> {
    let (scene, _) = crate::scene::load_scene(args.scene.as_deref())?;
    let mut config = match &args.mqtt_config {
        Some(p) => TelemetryConfig::load(p).map_err(|e| anyhow!(e))?,
        None => TelemetryConfig::default(),
    };
    if args.site.is_some() {
        config.site = args.site.clone();
    }
    let conn = config
        .resolve(args.broker.as_deref(), &scene.site.name)
        .map_err(|e| anyhow!(e))?;
    if args.qos > 1 {
        return Err(anyhow!("--qos must be 0 or 1"));
    }
    if !(args.rate.is_finite() && args.rate >= 0.0) {
        return Err(anyhow!("--rate must be a number >= 0"));
    }
    let qos = if args.qos == 1 {
        QoS::AtLeastOnce
    } else {
        QoS::AtMostOnce
    };
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| format!("kos-telemetry-sim-{}", std::process::id()));
    let mqtt = options(&conn, &client_id, qos == QoS::AtMostOnce).map_err(|e| anyhow!(e))?;
    let mut app = headless_app(&scene);
    run_ticks(&mut app, 1);
    let tick_every = Duration::from_secs_f64(
        app.world()
            .resource::<SimClock>()
            .real_seconds_per_tick()
            .max(0.01),
    );
    let mut noise = Noise(scene.site.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let site = conn.site.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let acked = Arc::new(AtomicU64::new(0));
    let connected = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let deadline = args
        .duration
        .map(|s| started + Duration::from_secs_f64(s.max(0.0)));
    let (published, bad) = runtime.block_on(async {
        let (client, mut eventloop) = AsyncClient::new(mqtt, 10_000);
        let (acked2, connected2) = (acked.clone(), connected.clone());
        let poller = tokio::spawn(async move {
            let mut backoff = 100u64;
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        acked2.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        backoff = 100;
                        connected2.store(true, Ordering::Relaxed);
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(e) => {
                        if connected2.swap(false, Ordering::Relaxed) {
                            eprintln!("telemetry-sim: connection lost ({e}); retrying");
                        }
                        tokio::time::sleep(Duration::from_millis(backoff)).await;
                        backoff = (backoff * 2).min(2_000);
                    }
                }
            }
        });
        let mut published = 0u64;
        let mut bad = 0u64;
        let mut seq: Vec<u64> = Vec::new();
        let mut next_tick = Instant::now() + tick_every;
        let mut round = 0u64;
        let mut values = readings(app.world_mut());
        'outer: loop {
            let round_start = Instant::now();
            if round_start >= next_tick {
                run_ticks(&mut app, 1);
                values = readings(app.world_mut());
                next_tick = round_start + tick_every;
            }
            seq.resize(values.len(), 0);
            let ts = now_ms();
            for (i, (asset, r)) in values.iter().enumerate() {
                if args.count.is_some_and(|c| published >= c)
                    || deadline.is_some_and(|d| Instant::now() >= d)
                {
                    break 'outer;
                }
                let (topic_name, body) = if args.faults && (published + 1).is_multiple_of(25) {
                    bad += 1;
                    let (a, p) = bad_message(bad, asset, ts);
                    (topic::telemetry(&site, &a), p)
                } else {
                    seq[i] += 1;
                    (
                        topic::telemetry(&site, asset),
                        payload(*r, ts, seq[i], &mut noise).into_bytes(),
                    )
                };
                if client.publish(topic_name, qos, false, body).await.is_err() {
                    break 'outer;
                }
                published += 1;
                if published.is_multiple_of(4096) {
                    tokio::task::yield_now().await;
                }
            }
            round += 1;
            if args.rate > 0.0 {
                let next = round_start + Duration::from_secs_f64(1.0 / args.rate);
                let now = Instant::now();
                if next > now {
                    let wait = deadline.map_or(next, |d| d.min(next));
                    tokio::time::sleep(wait.saturating_duration_since(now)).await;
                }
            }
        }
        let _ = round;
        // QoS 1: every message acknowledged (retransmitted after reconnections if need be).
        if qos == QoS::AtLeastOnce {
            let give_up = Instant::now() + Duration::from_secs(120);
            while acked.load(Ordering::Relaxed) < published && Instant::now() < give_up {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let _ = client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(30), poller).await;
        (published, bad)
    });
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "published": published,
        "bad": bad,
        "acked": acked.load(Ordering::Relaxed),
        "qos": args.qos,
        "seconds": seconds,
        "rate_per_s": published as f64 / seconds.max(1e-9),
    })
    .to_string())
}
