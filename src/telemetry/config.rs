//! Telemetry settings: the broker, the site, credentials, TLS, limits. From the command line
//! (`--mqtt URL`) and an optional RON file (`--mqtt-config FILE`). Plain Rust, no Bevy.
//!
//! Credentials never reach a log: `Debug` prints the password as `***`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A broker address: `mqtt://[user[:password]@]host[:port]` or `mqtts://...` (TLS).
#[derive(Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// TCP port (1883 plain, 8883 TLS by default).
    pub port: u16,
    /// TLS.
    pub tls: bool,
    /// User name from the URL.
    pub username: Option<String>,
    /// Password from the URL.
    pub password: Option<String>,
}

impl std::fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.redacted())
    }
}

impl BrokerUrl {
    /// Parses a broker URL.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("tcp://") {
            (false, r)
        } else if url.contains("://") {
            return Err("the broker URL must start with mqtt:// or mqtts://".into());
        } else {
            (false, url)
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (username, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
                None => (Some(a.to_string()), None),
            },
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || p.parse::<u16>().is_ok() => (
                h,
                p.parse::<u16>()
                    .map_err(|_| "the broker port is not a number from 0 to 65535".to_string())?,
            ),
            _ => (hostport, if tls { 8883 } else { 1883 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains('/') {
            return Err("the broker URL has no host".into());
        }
        Ok(Self {
            host: host.to_string(),
            port,
            tls,
            username,
            password,
        })
    }

    /// The URL with the password masked, for logs and reports.
    pub fn redacted(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        let user = match (&self.username, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        format!("{scheme}://{user}{}:{}", self.host, self.port)
    }
}

fn default_freshness() -> f64 {
    60.0
}
fn default_max_payload() -> usize {
    16 * 1024
}
fn default_asset_rate() -> f64 {
    1000.0
}
fn default_asset_burst() -> f64 {
    2000.0
}
fn default_citizen_per_minute() -> f64 {
    6.0
}
fn default_citizen_burst() -> f64 {
    3.0
}
fn default_qos() -> u8 {
    1
}
fn default_keep_alive() -> u64 {
    10
}

/// The settings file (RON). Every field is optional; the command line's `--mqtt URL` wins
/// over `broker`.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Broker URL, `mqtt://host:port` or `mqtts://host:port`.
    #[serde(default)]
    pub broker: Option<String>,
    /// Site name in topics; by default derived from the scene's site name.
    #[serde(default)]
    pub site: Option<String>,
    /// MQTT client id; by default `kos-twin-{site}`. With a persistent session it must stay
    /// the same across restarts.
    #[serde(default)]
    pub client_id: Option<String>,
    /// User name.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (prefer `password_file` or the `KOS_MQTT_PASSWORD` environment variable).
    #[serde(default)]
    pub password: Option<String>,
    /// File whose first line is the password.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// PEM file of the certificate authorities to trust for TLS (default: the system's).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Keep the session (subscriptions and queued QoS 1 messages) across reconnections.
    #[serde(default = "yes")]
    pub persistent_session: bool,
    /// QoS of the subscriptions (0 or 1).
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// Shared-subscription group: instances in one group split the messages.
    #[serde(default)]
    pub share_group: Option<String>,
    /// A measurement older than this falls back to the model, s.
    #[serde(default = "default_freshness")]
    pub freshness_s: f64,
    /// Largest payload accepted, bytes.
    #[serde(default = "default_max_payload")]
    pub max_payload_bytes: usize,
    /// Messages per second allowed per asset on average.
    #[serde(default = "default_asset_rate")]
    pub asset_rate_hz: f64,
    /// Burst of messages allowed per asset.
    #[serde(default = "default_asset_burst")]
    pub asset_burst: f64,
    /// Citizen reports per minute allowed per reporter.
    #[serde(default = "default_citizen_per_minute")]
    pub citizen_per_minute: f64,
    /// Burst of citizen reports allowed per reporter.
    #[serde(default = "default_citizen_burst")]
    pub citizen_burst: f64,
    /// Keep-alive interval, s.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u64,
    /// Publish each asset's state every this many ticks (1: every tick).
    #[serde(default = "one_tick")]
    pub state_every_ticks: u64,
}

fn yes() -> bool {
    true
}
fn one_tick() -> u64 {
    1
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        ron::from_str("()").expect("every field has a default")
    }
}

impl std::fmt::Debug for TelemetryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryConfig")
            .field(
                "broker",
                &self.broker.as_deref().map(|b| {
                    BrokerUrl::parse(b)
                        .map(|u| u.redacted())
                        .unwrap_or_else(|_| "(invalid)".into())
                }),
            )
            .field("site", &self.site)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("password_file", &self.password_file)
            .field("ca_file", &self.ca_file)
            .field("persistent_session", &self.persistent_session)
            .field("qos", &self.qos)
            .field("share_group", &self.share_group)
            .field("freshness_s", &self.freshness_s)
            .finish_non_exhaustive()
    }
}

/// Everything needed to connect, resolved from the URL, the file and the environment.
#[derive(Clone)]
pub struct Connection {
    /// Broker address.
    pub url: BrokerUrl,
    /// Site name in topics.
    pub site: String,
    /// MQTT client id.
    pub client_id: String,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Certificate authorities for TLS, PEM.
    pub ca_pem: Option<Vec<u8>>,
    /// The rest of the settings.
    pub config: TelemetryConfig,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .field("site", &self.site)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl TelemetryConfig {
    /// Reads a settings file.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        ron::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Resolves the connection: `url` (the command line's) over the file's broker; the
    /// site from the file or `site_name` (the scene's); the password from the URL, the
    /// file, `password_file` or `KOS_MQTT_PASSWORD`.
    pub fn resolve(&self, url: Option<&str>, site_name: &str) -> Result<Connection, String> {
        let url = url
            .or(self.broker.as_deref())
            .ok_or("no broker: give --mqtt URL or `broker` in the settings file")?;
        let url = BrokerUrl::parse(url)?;
        let site = match &self.site {
            Some(s) if super::topic::valid_id(s) => s.clone(),
            Some(_) => return Err("`site` must be 1-64 characters [A-Za-z0-9-_.:]".into()),
            None => kos_scene::site_slug(site_name),
        };
        if let Some(g) = &self.share_group
            && !super::topic::valid_id(g)
        {
            return Err("`share_group` must be 1-64 characters [A-Za-z0-9-_.:]".into());
        }
        if self.qos > 1 {
            return Err("`qos` must be 0 or 1".into());
        }
        if !(self.freshness_s.is_finite() && self.freshness_s > 0.0) {
            return Err("`freshness_s` must be a positive number".into());
        }
        let password = match (&url.password, &self.password, &self.password_file) {
            (Some(p), _, _) => Some(p.clone()),
            (None, Some(p), _) => Some(p.clone()),
            (None, None, Some(f)) => Some(
                std::fs::read_to_string(f)
                    .map_err(|e| format!("{}: {e}", f.display()))?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            ),
            (None, None, None) => std::env::var("KOS_MQTT_PASSWORD").ok(),
        };
        let ca_pem = match &self.ca_file {
            Some(f) => Some(std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?),
            None => None,
        };
        Ok(Connection {
            client_id: self
                .client_id
                .clone()
                .unwrap_or_else(|| format!("kos-twin-{site}")),
            username: url.username.clone().or(self.username.clone()),
            url,
            site,
            password,
            ca_pem,
            config: self.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_the_password() {
        let u = BrokerUrl::parse("mqtts://alice:s3cret@broker.example:8884").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("broker.example", 8884, true)
        );
        assert_eq!(u.password.as_deref(), Some("s3cret"));
        assert_eq!(u.redacted(), "mqtts://alice:***@broker.example:8884");
        assert!(!format!("{u:?}").contains("s3cret"));
        assert_eq!(BrokerUrl::parse("mqtt://127.0.0.1").unwrap().port, 1883);
        assert_eq!(BrokerUrl::parse("mqtts://h").unwrap().port, 8883);
        assert_eq!(BrokerUrl::parse("localhost:1999").unwrap().port, 1999);
        assert!(BrokerUrl::parse("http://x").is_err());
        assert!(BrokerUrl::parse("mqtt://h:99999").is_err());
        assert!(BrokerUrl::parse("mqtt://").is_err());
    }

    #[test]
    fn settings_resolve_with_defaults() {
        let c: TelemetryConfig = ron::from_str(
            r#"(broker: Some("mqtt://u:pw@h:1"), share_group: Some("twins"), freshness_s: 5.0)"#,
        )
        .unwrap();
        let conn = c.resolve(None, "Aldermoor Commons").unwrap();
        assert_eq!(conn.site, "aldermoor-commons");
        assert_eq!(conn.client_id, "kos-twin-aldermoor-commons");
        assert_eq!(conn.password.as_deref(), Some("pw"));
        let shown = format!("{conn:?} {c:?}");
        assert!(!shown.contains("pw\""), "{shown}");
        let c = TelemetryConfig::default();
        assert_eq!(c.qos, 1);
        assert!(c.persistent_session);
        assert!(c.resolve(None, "x").is_err());
        assert_eq!(c.resolve(Some("mqtt://h:2"), "x").unwrap().url.port, 2);
    }
}
