//! Reports from people on `kos/v1/{site}/citizen/report`: validated, rate-limited per
//! reporter by the caller, kept and listed in the overlay. Plain Rust, no Bevy.
//!
//! The text is kept as data: control characters are replaced, its length is bounded, and it
//! is only ever shown as plain text or written as an escaped JSON string.

use serde::Serialize;

use super::payload::parse_object;
use super::reject::{RejectReason, Rejected};
use super::topic::valid_id;

/// Longest report text kept, characters.
pub const MAX_TEXT_CHARS: usize = 500;

/// What a person reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// No power (or water) where there should be.
    Outage,
    /// Something broken: a fallen line, a damaged cabinet.
    Damage,
    /// Someone misusing shared infrastructure.
    Misuse,
    /// Anything else.
    Other,
}

impl ReportKind {
    /// Name in messages and the overlay.
    pub fn key(self) -> &'static str {
        match self {
            ReportKind::Outage => "outage",
            ReportKind::Damage => "damage",
            ReportKind::Misuse => "misuse",
            ReportKind::Other => "other",
        }
    }
}

/// A validated citizen report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CitizenReport {
    /// When it was made, ms since 1970-01-01T00:00Z.
    pub ts_ms: i64,
    /// Pseudonymous id of the reporter (the rate-limit key).
    pub reporter: String,
    /// What kind of report.
    pub kind: ReportKind,
    /// Asset concerned, if the person named one.
    pub asset: Option<String>,
    /// Free text, sanitised.
    pub text: String,
}

fn invalid(why: impl Into<String>) -> Rejected {
    Rejected::new(RejectReason::InvalidReport, why)
}

/// Replaces control characters (except line breaks) and bounds the length.
pub fn sanitise_text(s: &str) -> String {
    s.chars()
        .take(MAX_TEXT_CHARS)
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}

/// Parses a report: `{"ts": ms, "reporter": id, "kind": "outage"|"damage"|"misuse"|"other",
/// "asset": id (optional), "text": string (optional)}`.
pub fn parse_report(
    bytes: &[u8],
    max_bytes: usize,
    now_ms: i64,
) -> Result<CitizenReport, Rejected> {
    let o = parse_object(bytes, max_bytes)?;
    for k in o.keys() {
        if !matches!(k.as_str(), "ts" | "reporter" | "kind" | "asset" | "text") {
            return Err(Rejected::new(
                RejectReason::UnknownField,
                format!(
                    "unknown field `{}`",
                    k.escape_debug().take(40).collect::<String>()
                ),
            ));
        }
    }
    let ts_ms = match o.get("ts") {
        None => now_ms,
        Some(v) => v
            .as_i64()
            .filter(|t| *t > 0 && *t <= now_ms + super::payload::MAX_FUTURE_SKEW_MS)
            .ok_or_else(|| invalid("`ts` must be a past time in ms since 1970"))?,
    };
    let reporter = o
        .get("reporter")
        .and_then(|v| v.as_str())
        .filter(|r| valid_id(r))
        .ok_or_else(|| invalid("`reporter` must be an id of 1-64 characters [A-Za-z0-9-_.:]"))?
        .to_string();
    let kind = match o.get("kind").and_then(|v| v.as_str()) {
        Some("outage") => ReportKind::Outage,
        Some("damage") => ReportKind::Damage,
        Some("misuse") => ReportKind::Misuse,
        Some("other") => ReportKind::Other,
        _ => return Err(invalid("`kind` must be outage, damage, misuse or other")),
    };
    let asset = match o.get("asset") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .filter(|a| valid_id(a))
                .ok_or_else(|| invalid("`asset` must be an asset id"))?
                .to_string(),
        ),
    };
    let text = match o.get("text") {
        None => String::new(),
        Some(v) => {
            let t = v
                .as_str()
                .ok_or_else(|| invalid("`text` must be a string"))?;
            if t.chars().count() > MAX_TEXT_CHARS {
                return Err(invalid(format!(
                    "`text` longer than {MAX_TEXT_CHARS} characters"
                )));
            }
            sanitise_text(t)
        }
    };
    Ok(CitizenReport {
        ts_ms,
        reporter,
        kind,
        asset,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    #[test]
    fn reports_are_validated_and_text_is_inert() {
        let r = parse_report(
            br#"{"reporter": "r-17", "kind": "damage", "asset": "ln-3", "text": "pole down <script>alert(1)</script>\u0007"}"#,
            4096,
            NOW,
        )
        .unwrap();
        assert_eq!(r.kind, ReportKind::Damage);
        assert_eq!(r.asset.as_deref(), Some("ln-3"));
        assert_eq!(r.ts_ms, NOW);
        assert!(r.text.ends_with("</script>\u{FFFD}"), "{:?}", r.text);
        let reason = |s: &str| parse_report(s.as_bytes(), 4096, NOW).unwrap_err().reason;
        assert_eq!(reason(r#"{"kind": "outage"}"#), RejectReason::InvalidReport);
        assert_eq!(
            reason(r#"{"reporter": "a b", "kind": "outage"}"#),
            RejectReason::InvalidReport
        );
        assert_eq!(
            reason(r#"{"reporter": "a", "kind": "fire"}"#),
            RejectReason::InvalidReport
        );
        assert_eq!(
            reason(r#"{"reporter": "a", "kind": "other", "x": 1}"#),
            RejectReason::UnknownField
        );
        assert_eq!(reason("not json"), RejectReason::NotJson);
        let long = format!(
            r#"{{"reporter": "a", "kind": "other", "text": "{}"}}"#,
            "x".repeat(501)
        );
        assert_eq!(reason(&long), RejectReason::InvalidReport);
    }
}
