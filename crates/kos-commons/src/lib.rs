//! The commons of kos-twin, free of any engine: when the community is short, who gets how
//! much of each resource.
//!
//! - [`problem`]: resources, consumers (demand vectors, weights, critical minimums), network
//!   limits, read from JSON with line:column errors;
//! - [`drf`]: critical minimums first (by priority when even they do not fit), then weighted
//!   Dominant Resource Fairness (Ghodsi et al., NSDI 2011) with demands and network limits
//!   capping the shares, computed exactly by progressive filling;
//! - [`member`]: what a load or pod of a scene is to the commons (weights, critical minimums
//!   and their priorities, needs and caps);
//! - [`shelter`]: indivisible places, families kept together, shared by the same rule;
//! - [`equity`]: hoarding (above the share for several periods, private storage filled beyond
//!   need) and monopoly (a share of supply, with the Herfindahl-Hirschman index) in a
//!   shortage, raised as alarms with their evidence and enforced by caps;
//! - [`tokens`]: eco-tokens for verified savings in conservation events, against a
//!   weather-normalised baseline fitted before enrolment (CAISO's 10-in-10 as the reference),
//!   spent only on what the community lists.

pub mod drf;
pub mod equity;
pub mod member;
pub mod problem;
pub mod shelter;
pub mod tokens;

pub use drf::{Allocation, allocate, jain_index};
pub use equity::{
    Alarm, AlarmKind, Draw, EquityError, EquityRules, Evidence, Watch, hhi, monopolies, monopoly,
};
pub use member::{MEDICAL_KW, Member};
pub use problem::{Consumer, Group, Problem, ProblemError};
pub use tokens::{
    DayUse, Entry, Mint, Rate, Redeemable, TokenError, Tokens, Verification, Wallet,
    WeatherBaseline, Window, caiso_10_of_10, mint,
};
