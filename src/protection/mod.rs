//! Protection and resilience: faults in the tick with FLISR (`faults`), and the
//! `shortcircuit` and `protection check` commands (`cli`).

pub mod cli;
pub mod faults;

pub use faults::{Protection, ProtectionConfig, ProtectionEvent, ScheduledFault, attach};
