//! The topic tree, `kos/v1/{site}/...`: what comes in, what goes out. Plain Rust, no Bevy.

use super::reject::{RejectReason, Rejected};

/// First two levels of every topic.
pub const PREFIX: &str = "kos/v1";

/// Longest asset id or site name accepted, bytes.
pub const MAX_ID_LEN: usize = 64;

/// What an incoming topic addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound<'a> {
    /// `kos/v1/{site}/{asset}/telemetry`: measurements of one asset.
    Telemetry {
        /// Asset id.
        asset: &'a str,
    },
    /// `kos/v1/{site}/{asset}/birth`: an asset comes online (and may be new).
    Birth {
        /// Asset id.
        asset: &'a str,
    },
    /// `kos/v1/{site}/{asset}/death`: an asset goes offline (also its last will).
    Death {
        /// Asset id.
        asset: &'a str,
    },
    /// `kos/v1/{site}/citizen/report`: a report from a person.
    CitizenReport,
}

/// Whether `s` may be a site name or asset id: 1 to [`MAX_ID_LEN`] bytes of ASCII letters,
/// digits, `-`, `_`, `.` and `:`.
pub fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Classifies an incoming topic for `site`.
pub fn parse_inbound<'a>(topic: &'a str, site: &str) -> Result<Inbound<'a>, Rejected> {
    let bad = |why: &str| Rejected::new(RejectReason::BadTopic, why);
    let rest = topic
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| bad("not under kos/v1/"))?;
    let mut levels = rest.split('/');
    let (Some(s), Some(a), Some(leaf), None) =
        (levels.next(), levels.next(), levels.next(), levels.next())
    else {
        return Err(bad(
            "expected kos/v1/{site}/{asset}/{telemetry|birth|death}",
        ));
    };
    if s != site {
        return Err(Rejected::new(
            RejectReason::WrongSite,
            "another site's topic",
        ));
    }
    if a == "citizen" && leaf == "report" {
        return Ok(Inbound::CitizenReport);
    }
    if !valid_id(a) {
        return Err(bad(
            "the asset id is empty, too long or has characters outside [A-Za-z0-9-_.:]",
        ));
    }
    match leaf {
        "telemetry" => Ok(Inbound::Telemetry { asset: a }),
        "birth" => Ok(Inbound::Birth { asset: a }),
        "death" => Ok(Inbound::Death { asset: a }),
        _ => Err(bad("the last level is not telemetry, birth or death")),
    }
}

/// `kos/v1/{site}/{asset}/telemetry`.
pub fn telemetry(site: &str, asset: &str) -> String {
    format!("{PREFIX}/{site}/{asset}/telemetry")
}

/// `kos/v1/{site}/{asset}/birth`.
pub fn birth(site: &str, asset: &str) -> String {
    format!("{PREFIX}/{site}/{asset}/birth")
}

/// `kos/v1/{site}/{asset}/death`.
pub fn death(site: &str, asset: &str) -> String {
    format!("{PREFIX}/{site}/{asset}/death")
}

/// `kos/v1/{site}/citizen/report`.
pub fn citizen_report(site: &str) -> String {
    format!("{PREFIX}/{site}/citizen/report")
}

/// `kos/v1/{site}/twin/state/{asset}`: solved values of one asset (retained).
pub fn state(site: &str, asset: &str) -> String {
    format!("{PREFIX}/{site}/twin/state/{asset}")
}

/// `kos/v1/{site}/twin/{leaf}` for `alarms`, `summary`, `rejected`, `status`, `citizen`.
pub fn twin(site: &str, leaf: &str) -> String {
    format!("{PREFIX}/{site}/twin/{leaf}")
}

/// The filters a twin of `site` subscribes to; under `$share/{group}/` when it shares the
/// load with other instances.
pub fn subscriptions(site: &str, share_group: Option<&str>) -> Vec<String> {
    let filters = [
        format!("{PREFIX}/{site}/+/telemetry"),
        format!("{PREFIX}/{site}/+/birth"),
        format!("{PREFIX}/{site}/+/death"),
        citizen_report(site),
    ];
    match share_group {
        Some(g) => filters.iter().map(|f| format!("$share/{g}/{f}")).collect(),
        None => filters.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_topics_are_classified() {
        assert_eq!(
            parse_inbound("kos/v1/a/pv-1/telemetry", "a"),
            Ok(Inbound::Telemetry { asset: "pv-1" })
        );
        assert_eq!(
            parse_inbound("kos/v1/a/pv-1/birth", "a"),
            Ok(Inbound::Birth { asset: "pv-1" })
        );
        assert_eq!(
            parse_inbound("kos/v1/a/pv-1/death", "a"),
            Ok(Inbound::Death { asset: "pv-1" })
        );
        assert_eq!(
            parse_inbound("kos/v1/a/citizen/report", "a"),
            Ok(Inbound::CitizenReport)
        );
        for bad in [
            "kos/v2/a/x/telemetry",
            "kos/v1/a/x/telemetry/extra",
            "kos/v1/a/x",
            "kos/v1/a//telemetry",
            "kos/v1/a/x/status",
            "kos/v1/a/x y/telemetry",
        ] {
            assert_eq!(
                parse_inbound(bad, "a").unwrap_err().reason,
                RejectReason::BadTopic,
                "{bad}"
            );
        }
        assert_eq!(
            parse_inbound("kos/v1/b/x/telemetry", "a")
                .unwrap_err()
                .reason,
            RejectReason::WrongSite
        );
    }

    #[test]
    fn slugs_and_subscriptions() {
        assert!(valid_id(&kos_scene::site_slug("Ünïcode  Town -- 2")));
        let s = subscriptions("a", Some("twins"));
        assert_eq!(s[0], "$share/twins/kos/v1/a/+/telemetry");
        assert_eq!(subscriptions("a", None)[3], "kos/v1/a/citizen/report");
        assert_eq!(state("a", "pv-1"), "kos/v1/a/twin/state/pv-1");
    }
}
