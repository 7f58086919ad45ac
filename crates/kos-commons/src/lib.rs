//! The commons of kos-twin, free of any engine: when the community is short, who gets how
//! much of each resource.
//!
//! - [`problem`]: resources, consumers (demand vectors, weights, critical minimums), network
//!   limits, read from JSON with line:column errors;
//! - [`drf`]: critical minimums first (by priority when even they do not fit), then weighted
//!   Dominant Resource Fairness (Ghodsi et al., NSDI 2011) with demands and network limits
//!   capping the shares, computed exactly by progressive filling;
//! - [`shelter`]: indivisible places, families kept together.

pub mod drf;
pub mod problem;
pub mod shelter;

pub use drf::{Allocation, allocate, jain_index};
pub use problem::{Consumer, Group, Problem, ProblemError};
