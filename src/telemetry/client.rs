//! The MQTT client: rumqttc on its own thread with its own single-threaded tokio runtime.
//! Incoming messages are classified and checked here (topic, size, JSON, types, bounds) and
//! handed to the ECS through a bounded channel; a full channel slows the reads from the
//! broker instead of dropping messages. The ECS publishes through the [`AsyncClient`]'s
//! non-blocking `try_publish`. Losing the broker never stops the twin: the thread retries
//! with exponential backoff and the twin runs on its model meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rumqttc::{
    AsyncClient, Event, LastWill, MqttOptions, Packet, QoS, SubscribeFilter, TlsConfiguration,
    Transport,
};
use serde_json::{Map, Value};

use super::citizen::{CitizenReport, parse_report};
use super::config::Connection;
use super::payload::{Measurement, parse_measurement, parse_object};
use super::reject::Rejected;
use super::topic::{self, Inbound};

/// A message for the ECS.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// A checked measurement.
    Telemetry {
        /// Asset id from the topic.
        asset: String,
        /// The measurement.
        m: Measurement,
    },
    /// An asset announces itself; `body` describes it when it is new.
    Birth {
        /// Asset id from the topic.
        asset: String,
        /// The payload's object (empty for an empty payload).
        body: Map<String, Value>,
    },
    /// An asset goes offline.
    Death {
        /// Asset id from the topic.
        asset: String,
    },
    /// A person's report, validated (not yet rate-limited).
    Citizen(CitizenReport),
    /// A message refused before it reached the world.
    Rejected {
        /// Its topic, shortened to 200 bytes.
        topic: String,
        /// Why.
        why: Rejected,
    },
    /// The connection came up and the subscriptions are in place.
    Connected {
        /// The broker still had our session.
        session_present: bool,
    },
    /// The connection went down (or could not be made); the next try is in `retry_ms`.
    Disconnected {
        /// What happened (never contains credentials).
        error: String,
        /// Milliseconds until the next try.
        retry_ms: u64,
    },
}

/// Milliseconds since 1970-01-01T00:00Z on the wall clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A running connection: messages come out of `rx`; `client` publishes.
pub struct Link {
    /// Messages for the ECS.
    pub rx: flume::Receiver<Incoming>,
    /// Publishes (use `try_publish`: never blocks the tick).
    pub client: AsyncClient,
    stop: Arc<AtomicBool>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.client.try_disconnect();
    }
}

/// Capacity of the channel to the ECS, messages.
pub const CHANNEL_CAPACITY: usize = 65_536;

/// Largest packet rumqttc reads; larger payloads than the twin's own limit are rejected by the
/// twin with a reason, but a packet beyond this would drop the connection.
const MAX_PACKET: usize = 64 * 1024 * 1024;

/// rustls with the ring provider, trusting `ca_pem` or else the system's roots.
pub fn tls_config(ca_pem: Option<&[u8]>) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| format!("CA file: {e}"))?;
                roots.add(cert).map_err(|e| format!("CA file: {e}"))?;
            }
            if roots.is_empty() {
                return Err("the CA file holds no certificate".into());
            }
        }
        None => {
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// MQTT options for `conn`, under `client_id`.
pub fn options(conn: &Connection, client_id: &str, clean: bool) -> Result<MqttOptions, String> {
    let mut o = MqttOptions::new(client_id, conn.url.host.clone(), conn.url.port);
    o.set_keep_alive(Duration::from_secs(conn.config.keep_alive_s.max(1)))
        .set_clean_session(clean)
        .set_max_packet_size(MAX_PACKET, MAX_PACKET)
        .set_request_channel_capacity(16_384)
        .set_inflight(1000);
    if let Some(u) = &conn.username {
        o.set_credentials(u.clone(), conn.password.clone().unwrap_or_default());
    }
    if conn.url.tls {
        o.set_transport(Transport::Tls(TlsConfiguration::Rustls(tls_config(
            conn.ca_pem.as_deref(),
        )?)));
    }
    Ok(o)
}

/// Classifies one incoming message.
pub fn classify(
    topic_name: &str,
    payload: &[u8],
    site: &str,
    max_bytes: usize,
    now_ms: i64,
) -> Incoming {
    let rejected = |why: Rejected| Incoming::Rejected {
        topic: topic_name.chars().take(200).collect(),
        why,
    };
    match topic::parse_inbound(topic_name, site) {
        Err(why) => rejected(why),
        Ok(Inbound::Telemetry { asset }) => match parse_measurement(payload, max_bytes, now_ms) {
            Ok(m) => Incoming::Telemetry {
                asset: asset.to_string(),
                m,
            },
            Err(why) => rejected(why),
        },
        Ok(Inbound::Birth { asset }) => {
            let body = if payload.iter().all(|b| b.is_ascii_whitespace()) {
                Ok(Map::new())
            } else {
                parse_object(payload, max_bytes)
            };
            match body {
                Ok(body) => Incoming::Birth {
                    asset: asset.to_string(),
                    body,
                },
                Err(why) => rejected(why),
            }
        }
        // A death needs no payload: a last will may carry anything.
        Ok(Inbound::Death { asset }) => Incoming::Death {
            asset: asset.to_string(),
        },
        Ok(Inbound::CitizenReport) => match parse_report(payload, max_bytes, now_ms) {
            Ok(r) => Incoming::Citizen(r),
            Err(why) => rejected(why),
        },
    }
}

/// Connects (in the background) and starts the client thread.
pub fn start(conn: &Connection) -> Result<Link, String> {
    let mut o = options(conn, &conn.client_id, !conn.config.persistent_session)?;
    o.set_last_will(LastWill::new(
        topic::twin(&conn.site, "status"),
        "offline",
        QoS::AtLeastOnce,
        true,
    ));
    let (client, mut eventloop) = AsyncClient::new(o, 16_384);
    let (tx, rx) = flume::bounded(CHANNEL_CAPACITY);
    let stop = Arc::new(AtomicBool::new(false));
    let qos = if conn.config.qos == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let filters = topic::subscriptions(&conn.site, conn.config.share_group.as_deref());
    let site = conn.site.clone();
    let max_bytes = conn.config.max_payload_bytes;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let thread_client = client.clone();
    let thread_stop = stop.clone();
    std::thread::Builder::new()
        .name("kos-mqtt".into())
        .spawn(move || {
            runtime.block_on(async move {
                let mut backoff_ms = 100u64;
                let mut session_present = false;
                while !thread_stop.load(Ordering::Relaxed) {
                    let event = eventloop.poll().await;
                    let out = match event {
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            classify(&p.topic, &p.payload, &site, max_bytes, now_ms())
                        }
                        Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                            backoff_ms = 100;
                            session_present = ack.session_present;
                            // Subscribe on every connection (one packet for all filters):
                            // harmless when the session was kept, needed when it was lost.
                            let _ = thread_client.try_subscribe_many(
                                filters.iter().map(|f| SubscribeFilter::new(f.clone(), qos)),
                            );
                            let _ = thread_client.try_publish(
                                topic::twin(&site, "status"),
                                QoS::AtLeastOnce,
                                true,
                                "online",
                            );
                            continue;
                        }
                        // Connected once the subscriptions are in place.
                        Ok(Event::Incoming(Packet::SubAck(_))) => {
                            Incoming::Connected { session_present }
                        }
                        Ok(_) => continue,
                        Err(e) => {
                            if thread_stop.load(Ordering::Relaxed) {
                                break;
                            }
                            let retry_ms = backoff_ms;
                            backoff_ms = (backoff_ms * 2).min(5_000);
                            let _ = tx
                                .send_async(Incoming::Disconnected {
                                    error: e.to_string(),
                                    retry_ms,
                                })
                                .await;
                            tokio::time::sleep(Duration::from_millis(retry_ms)).await;
                            continue;
                        }
                    };
                    if tx.send_async(out).await.is_err() {
                        break;
                    }
                }
            });
        })
        .map_err(|e| format!("MQTT thread: {e}"))?;
    Ok(Link { rx, client, stop })
}
