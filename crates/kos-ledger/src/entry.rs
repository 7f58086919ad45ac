//! The ledger's entries: one versioned schema (docs/ledger.md), encoded canonically as JSON
//! with a fixed field order and integer units, so the same tick gives the same bytes.

use serde::{Deserialize, Serialize};

/// The schema version written into every entry.
pub const VERSION: u32 = 1;

/// One entry: what happened, to which assets, at what simulated time.
// No `deny_unknown_fields` here (serde does not combine it with `flatten`): an unknown field
// fails the canonical re-encoding check of `from_bytes` instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Schema version ([`VERSION`]).
    pub v: u32,
    /// Simulated time at the end of the period or at the event: seconds since
    /// 1970-01-01T00:00 in the site's local time.
    pub t: i64,
    #[serde(flatten)]
    pub body: Body,
}

/// An energy supplier's part of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supply {
    pub asset: String,
    pub wh: i64,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Energy delivered to a consumer over a period, with the suppliers that flow tracing
    /// attributes it to (watt-hours).
    Energy {
        consumer: String,
        period_s: i64,
        wh: i64,
        suppliers: Vec<Supply>,
    },
    /// Energy a producer gave over a period (watt-hours).
    Production {
        asset: String,
        period_s: i64,
        wh: i64,
    },
    /// Water drawn by a consumer over a period (litres).
    Water {
        consumer: String,
        period_s: i64,
        litres: i64,
    },
    /// An allocation decision: a consumer's cap of a resource (resource units, thousandths).
    Allocation {
        resource: String,
        consumer: String,
        cap_milli: i64,
        reason: String,
    },
    /// Eco-tokens minted (positive) or spent (negative), in micro-tokens (millionths: the
    /// wallet's own unit, so every change is exact).
    Token {
        household: String,
        change_micro: i64,
        reason: String,
    },
    /// A governance decision or override.
    Governance {
        proposal: String,
        decision: String,
        assets: Vec<String>,
    },
    /// An event in an asset's history (its Infrastructure DNA).
    Dna {
        asset: String,
        event: DnaEvent,
        detail: String,
    },
    /// An asset came into service.
    Birth { asset: String, asset_kind: String },
    /// An asset left service.
    Death { asset: String, reason: String },
}

/// Kinds of events in an asset's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnaEvent {
    Commissioning,
    Maintenance,
    LimitChange,
    WearMilestone,
    Fault,
    Alarm,
}

impl Body {
    /// The entry's kind as written in the `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Energy { .. } => "energy",
            Body::Production { .. } => "production",
            Body::Water { .. } => "water",
            Body::Allocation { .. } => "allocation",
            Body::Token { .. } => "token",
            Body::Governance { .. } => "governance",
            Body::Dna { .. } => "dna",
            Body::Birth { .. } => "birth",
            Body::Death { .. } => "death",
        }
    }

    /// The asset ids the entry names.
    pub fn assets(&self) -> Vec<&str> {
        match self {
            Body::Energy {
                consumer,
                suppliers,
                ..
            } => std::iter::once(consumer.as_str())
                .chain(suppliers.iter().map(|s| s.asset.as_str()))
                .collect(),
            Body::Production { asset, .. }
            | Body::Dna { asset, .. }
            | Body::Birth { asset, .. }
            | Body::Death { asset, .. } => vec![asset],
            Body::Water { consumer, .. } | Body::Allocation { consumer, .. } => vec![consumer],
            Body::Token { household, .. } => vec![household],
            Body::Governance { assets, .. } => assets.iter().map(String::as_str).collect(),
        }
    }
}

impl Body {
    /// One line for people: what happened, to whom, how much.
    pub fn describe(&self) -> String {
        match self {
            Body::Energy {
                consumer,
                period_s,
                wh,
                suppliers,
            } => {
                let s: Vec<String> = suppliers
                    .iter()
                    .map(|s| format!("{} {} Wh", s.asset, s.wh))
                    .collect();
                format!(
                    "{consumer} used {wh} Wh in {period_s} s from {}",
                    s.join(", ")
                )
            }
            Body::Production {
                asset,
                period_s,
                wh,
            } => format!("{asset} gave {wh} Wh in {period_s} s"),
            Body::Water {
                consumer,
                period_s,
                litres,
            } => format!("{consumer} drew {litres} l in {period_s} s"),
            Body::Allocation {
                resource,
                consumer,
                cap_milli,
                reason,
            } => {
                format!(
                    "{consumer}: {resource} capped at {:.3} ({reason})",
                    *cap_milli as f64 / 1000.0
                )
            }
            Body::Token {
                household,
                change_micro,
                reason,
            } => {
                format!(
                    "{household}: {:+.6} tokens ({reason})",
                    *change_micro as f64 / 1e6
                )
            }
            Body::Governance {
                proposal,
                decision,
                assets,
            } => {
                format!("{proposal}: {decision} [{}]", assets.join(", "))
            }
            Body::Dna {
                asset,
                event,
                detail,
            } => format!("{asset}: {event:?}: {detail}"),
            Body::Birth { asset, asset_kind } => format!("{asset} ({asset_kind}) in service"),
            Body::Death { asset, reason } => format!("{asset} left service ({reason})"),
        }
    }
}

impl Entry {
    pub fn new(t: i64, body: Body) -> Self {
        Self {
            v: VERSION,
            t,
            body,
        }
    }

    /// The canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an entry always serialises")
    }

    /// Reads an entry; bytes that are not the canonical encoding of an entry are an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::Error> {
        let e: Entry =
            serde_json::from_slice(bytes).map_err(|err| crate::Error::Entry(err.to_string()))?;
        if e.v != VERSION {
            return Err(crate::Error::Entry(format!(
                "schema version {} is not {VERSION}",
                e.v
            )));
        }
        if e.to_bytes() != bytes {
            return Err(crate::Error::Entry("not the canonical encoding".into()));
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_has_one_encoding_and_reads_back() {
        let e = Entry::new(
            3600,
            Body::Energy {
                consumer: "house-3".into(),
                period_s: 3600,
                wh: 1250,
                suppliers: vec![
                    Supply {
                        asset: "pv-1".into(),
                        wh: 1000,
                    },
                    Supply {
                        asset: "bat-1".into(),
                        wh: 250,
                    },
                ],
            },
        );
        let b = e.to_bytes();
        assert_eq!(
            String::from_utf8(b.clone()).unwrap(),
            r#"{"v":1,"t":3600,"kind":"energy","consumer":"house-3","period_s":3600,"wh":1250,"suppliers":[{"asset":"pv-1","wh":1000},{"asset":"bat-1","wh":250}]}"#
        );
        assert_eq!(Entry::from_bytes(&b).unwrap(), e);
        assert_eq!(e.body.assets(), vec!["house-3", "pv-1", "bat-1"]);
        // Another spelling of the same data is not accepted as an entry.
        let spaced = br#"{"v":1, "t":3600,"kind":"birth","asset":"a","asset_kind":"pv"}"#;
        assert!(Entry::from_bytes(spaced).is_err());
        assert!(
            Entry::from_bytes(br#"{"v":2,"t":3600,"kind":"death","asset":"a","reason":""}"#)
                .is_err()
        );
        assert!(Entry::from_bytes(b"\xff").is_err());
        let extra = br#"{"v":1,"t":3600,"kind":"death","asset":"a","reason":"","x":1}"#;
        assert!(Entry::from_bytes(extra).is_err());
    }
}
