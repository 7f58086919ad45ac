//! Protection and resilience: `kos-twin shortcircuit` (IEC 60909 fault levels at every bus).

pub mod cli;
