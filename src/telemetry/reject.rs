//! Why an incoming message was refused. Every refusal is counted by reason and published on
//! `kos/v1/{site}/twin/rejected`.

use serde::Serialize;

/// The reason a message was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The topic is not one of ours.
    #[error("bad topic")]
    BadTopic,
    /// The topic names another site.
    #[error("wrong site")]
    WrongSite,
    /// The payload is larger than the limit.
    #[error("oversized payload")]
    Oversized,
    /// The payload is not UTF-8 JSON.
    #[error("not JSON")]
    NotJson,
    /// A field has the wrong JSON type, or the payload is not an object.
    #[error("wrong type")]
    WrongType,
    /// A number is NaN or infinite (or out of the range of a double).
    #[error("not a finite number")]
    NonFinite,
    /// A field that this format does not have.
    #[error("unknown field")]
    UnknownField,
    /// The timestamp is missing.
    #[error("missing timestamp")]
    MissingTimestamp,
    /// The timestamp lies in the future beyond the allowed clock skew.
    #[error("timestamp in the future")]
    FutureTimestamp,
    /// The message carries no measured value.
    #[error("no measured value")]
    Empty,
    /// No asset with that id in the twin.
    #[error("unknown asset")]
    UnknownAsset,
    /// The field does not apply to that kind of asset (a state of charge for a load).
    #[error("field not applicable to the asset")]
    NotApplicable,
    /// A value that cannot be true of the asset (negative irradiance, a load at ten times
    /// its peak).
    #[error("physically impossible value")]
    Implausible,
    /// Sequence number or timestamp not newer than the last one applied (a QoS 1 redelivery
    /// or a message overtaken by a newer one).
    #[error("duplicate or out of order")]
    Duplicate,
    /// More messages from this source than its rate limit allows.
    #[error("rate limited")]
    RateLimited,
    /// A birth message that does not describe a valid asset.
    #[error("invalid birth")]
    InvalidBirth,
    /// A citizen report that does not follow the format.
    #[error("invalid citizen report")]
    InvalidReport,
}

impl RejectReason {
    /// Every reason, in report order.
    pub const ALL: [RejectReason; 17] = [
        RejectReason::BadTopic,
        RejectReason::WrongSite,
        RejectReason::Oversized,
        RejectReason::NotJson,
        RejectReason::WrongType,
        RejectReason::NonFinite,
        RejectReason::UnknownField,
        RejectReason::MissingTimestamp,
        RejectReason::FutureTimestamp,
        RejectReason::Empty,
        RejectReason::UnknownAsset,
        RejectReason::NotApplicable,
        RejectReason::Implausible,
        RejectReason::Duplicate,
        RejectReason::RateLimited,
        RejectReason::InvalidBirth,
        RejectReason::InvalidReport,
    ];

    /// The reason's name in reports and on the rejected topic (`snake_case`).
    pub fn key(self) -> &'static str {
        match self {
            RejectReason::BadTopic => "bad_topic",
            RejectReason::WrongSite => "wrong_site",
            RejectReason::Oversized => "oversized",
            RejectReason::NotJson => "not_json",
            RejectReason::WrongType => "wrong_type",
            RejectReason::NonFinite => "non_finite",
            RejectReason::UnknownField => "unknown_field",
            RejectReason::MissingTimestamp => "missing_timestamp",
            RejectReason::FutureTimestamp => "future_timestamp",
            RejectReason::Empty => "empty",
            RejectReason::UnknownAsset => "unknown_asset",
            RejectReason::NotApplicable => "not_applicable",
            RejectReason::Implausible => "implausible",
            RejectReason::Duplicate => "duplicate",
            RejectReason::RateLimited => "rate_limited",
            RejectReason::InvalidBirth => "invalid_birth",
            RejectReason::InvalidReport => "invalid_report",
        }
    }
}

/// A rejection: the reason and a short explanation written by the twin (never the payload).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejected {
    /// Why.
    pub reason: RejectReason,
    /// Which field or limit, for people.
    pub detail: String,
}

impl Rejected {
    /// A rejection for `reason`.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_the_serde_names() {
        for r in RejectReason::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.key()));
        }
    }
}
