//! Emergency modes: named sets of rules that change limits and priorities while a mode is
//! on (a heat wave derates cables and transformers and raises the cooling shelters'
//! priority; a storm holds the batteries' charge for islanding).

use serde::{Deserialize, Serialize};

use super::{LineKind, Priority};

/// What kind of emergency a mode is for (how the overlay names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModeKind {
    /// Days of heat: hot ground and air derate conductors; cooling comes first.
    HeatWave,
    /// Wind, ice, lightning: faults on overhead lines, likely loss of the grid tie.
    Storm,
    /// Anything else.
    Other,
}

/// One rule of a mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ModeRule {
    /// Lines of a kind (every line when `kind` is left out) carry `factor` times their
    /// rating.
    DerateLines {
        /// Cable or overhead; all lines when `None`.
        #[serde(default)]
        kind: Option<LineKind>,
        /// Multiple of the rating, 0.1 to 1.5.
        factor: f64,
    },
    /// Transformers carry `factor` times their rating.
    DerateTransformers {
        /// Multiple of the rating, 0.1 to 1.5.
        factor: f64,
    },
    /// A load's or pod's priority while the mode is on.
    Priority {
        /// The load or pod.
        asset: String,
        /// Its priority then.
        priority: Priority,
    },
    /// Batteries keep at least this state of charge (for islanding), 0 to 1.
    BatteryReserve {
        /// Least state of charge, fraction.
        soc_min: f64,
    },
    /// This share of every load's households seek a place in the shelters, 0 to 1.
    Shelter {
        /// Share of households, fraction.
        households: f64,
    },
}

/// An emergency mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSpec {
    /// Id (`heat-wave`, `storm`).
    pub id: String,
    /// Kind.
    pub kind: ModeKind,
    /// Its rules, applied in order.
    pub rules: Vec<ModeRule>,
}
