//! `sc-case/1`: a network for short-circuit calculation in the units of pandapower's element
//! tables, so that one case can be solved by both.

use serde::{Deserialize, Serialize};

/// The interchange format's name.
pub const SC_CASE_FORMAT: &str = "sc-case/1";

/// A network for short-circuit calculation (`sc-case/1`: the data IEC 60909 needs, in the
/// units of pandapower's element tables, so that a case can be solved by both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScCase {
    /// `sc-case/1`.
    pub format: String,
    /// Name.
    pub name: String,
    /// System frequency, Hz (50 or 60).
    #[serde(default = "fifty")]
    pub frequency_hz: f64,
    /// Buses.
    pub buses: Vec<ScBus>,
    /// Network feeders.
    #[serde(default)]
    pub ext_grids: Vec<ExtGrid>,
    /// Lines and cables.
    #[serde(default)]
    pub lines: Vec<ScLine>,
    /// Two-winding transformers.
    #[serde(default)]
    pub trafos: Vec<ScTrafo>,
    /// Closed bus-bus switches.
    #[serde(default)]
    pub switches: Vec<ScSwitch>,
    /// Full-converter units (current sources).
    #[serde(default)]
    pub sgens: Vec<ScConverter>,
    /// Synchronous and grid-forming units (voltage sources behind X"d).
    #[serde(default)]
    pub gens: Vec<ScMachine>,
}

fn fifty() -> f64 {
    50.0
}

/// A bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScBus {
    /// Id.
    pub id: String,
    /// Nominal voltage Uₙ, kV.
    pub vn_kv: f64,
}

/// A network feeder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtGrid {
    /// Id.
    pub id: String,
    /// Bus id.
    pub bus: String,
    /// Maximum initial short-circuit power S"kQ max, MVA.
    pub s_sc_max_mva: f64,
    /// R/X of the feeder's impedance at maximum short-circuit power.
    pub rx_max: f64,
    /// Minimum initial short-circuit power S"kQ min, MVA (the minimum case needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s_sc_min_mva: Option<f64>,
    /// R/X at minimum short-circuit power (the minimum case needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rx_min: Option<f64>,
}

/// A line or cable: its whole series impedance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScLine {
    /// Id.
    pub id: String,
    /// From bus id.
    pub from: String,
    /// To bus id.
    pub to: String,
    /// Resistance, Ω.
    pub r_ohm: f64,
    /// Reactance, Ω.
    pub x_ohm: f64,
    /// Conductor temperature at the end of the short circuit, °C, for the minimum case's
    /// resistance ([`DEFAULT_END_TEMPERATURE_C`] when not given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endtemp_degree: Option<f64>,
}

/// Conductor temperature at the end of a short circuit where a line does not give one, °C.
pub const DEFAULT_END_TEMPERATURE_C: f64 = 80.0;

/// A two-winding transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScTrafo {
    /// Id.
    pub id: String,
    /// High-voltage bus id.
    pub hv_bus: String,
    /// Low-voltage bus id.
    pub lv_bus: String,
    /// Rated power, MVA.
    pub sn_mva: f64,
    /// Rated high voltage, kV.
    pub vn_hv_kv: f64,
    /// Rated low voltage, kV.
    pub vn_lv_kv: f64,
    /// Short-circuit voltage, %.
    pub vk_percent: f64,
    /// Its resistive part, %.
    pub vkr_percent: f64,
}

/// A closed bus-bus switch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScSwitch {
    /// Id.
    pub id: String,
    /// One bus id.
    pub from: String,
    /// The other bus id.
    pub to: String,
}

/// A full-converter unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScConverter {
    /// Id.
    pub id: String,
    /// Bus id.
    pub bus: String,
    /// Rated apparent power, MVA.
    pub sn_mva: f64,
    /// Short-circuit current over rated current.
    pub k: f64,
}

/// A synchronous or grid-forming unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScMachine {
    /// Id.
    pub id: String,
    /// Bus id.
    pub bus: String,
    /// Rated apparent power, MVA.
    pub sn_mva: f64,
    /// Rated voltage, kV.
    pub vn_kv: f64,
    /// Subtransient reactance, per unit of its rating.
    pub xdss_pu: f64,
    /// Stator resistance, Ω.
    pub rdss_ohm: f64,
    /// Rated power factor.
    pub cos_phi: f64,
}
