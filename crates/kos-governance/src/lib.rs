//! Governance of a kos-twin community, free of any engine: what the meeting decides and how.
//!
//! - [`proposal`]: typed proposals (add a module or battery, remove an asset, reconfigure a
//!   switch, deploy a pod, change the commons' weights, minimums and caps or the token rules,
//!   change a setting within its limits, a temporary override, words only), read from RON or
//!   JSON with the place of a syntax error, checked against the scene, fingerprinted;
//! - [`apply`]: the scene as it would be with a proposal enacted (for the comparison before
//!   the vote, and for enactment);
//! - [`comparison`]: a proposal against the baseline, measure by measure over the weather
//!   seeds, with verdicts and a fingerprint;
//! - [`roll`]: the members with their Ed25519 keys, stewards among them, and the signed
//!   supports and ballots;
//! - [`process`]: the way from draft through supports, simulation and the vote to enactment,
//!   with quorum and threshold rules; every support and ballot that does not count is refused
//!   with its reason and counted; overrides by the stewards lapse by themselves.

pub mod apply;
pub mod comparison;
pub mod process;
pub mod proposal;
pub mod roll;

pub use apply::apply;
pub use comparison::{Comparison, Measure, Row, Spread};
pub use process::{OutOfTurn, Process, Rejection, Rules, Stage, Tally, Threshold};
pub use proposal::{Change, Module, Proposal};
pub use roll::{Act, Member, Roll, Signed};

/// A proposal or roll that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{proposal}: {}", problems.join("; "))]
    Invalid {
        proposal: String,
        problems: Vec<String>,
    },
}
