//! The grid's elements in a scene: buses, lines, transformers, switches, generators,
//! storage and loads.

use super::*;

/// A bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusSpec {
    /// Asset id, unique in the scene.
    pub id: String,
    /// Position east and north of the site origin, metres.
    pub position: (f64, f64),
    /// Nominal line-to-line voltage, kV.
    pub nominal_kv: f64,
    /// Neighbourhood it belongs to.
    #[serde(default)]
    pub neighbourhood: String,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// Construction of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LineKind {
    /// Underground cable.
    #[default]
    Cable,
    /// Overhead line on poles.
    Overhead,
}

/// Series impedance and shunt capacitance of a line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Impedance {
    /// Per kilometre, as cable data sheets give it.
    PerKm {
        /// Resistance, ohm/km.
        r_ohm: f64,
        /// Reactance, ohm/km.
        x_ohm: f64,
        /// Capacitance, nF/km.
        #[serde(default)]
        c_nf: f64,
    },
    /// Whole line, per unit on the system base.
    PerUnit {
        /// Resistance, pu.
        r: f64,
        /// Reactance, pu.
        x: f64,
        /// Total charging susceptance, pu.
        #[serde(default)]
        b: f64,
    },
}

/// A line or cable between two buses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// Asset id.
    pub id: String,
    /// From bus id.
    pub from: String,
    /// To bus id.
    pub to: String,
    /// Cable or overhead.
    #[serde(default)]
    pub kind: LineKind,
    /// Impedance.
    pub impedance: Impedance,
    /// Route length, km.
    pub length_km: f64,
    /// Thermal rating, A.
    pub rating_a: f64,
    /// Energised.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// A two-winding transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerSpec {
    /// Asset id.
    pub id: String,
    /// High-voltage bus id (tap side).
    pub hv_bus: String,
    /// Low-voltage bus id.
    pub lv_bus: String,
    /// Rated power, kVA.
    pub rating_kva: f64,
    /// Short-circuit voltage, percent of rated.
    pub vk_percent: f64,
    /// Resistive part of the short-circuit voltage, percent.
    pub vkr_percent: f64,
    /// Off-nominal tap position, percent of rated ratio (+ raises the HV-side turns).
    #[serde(default)]
    pub tap_percent: f64,
    /// Phase shift, degrees.
    #[serde(default)]
    pub phase_shift_deg: f64,
    /// Energised.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// A switch or breaker between two buses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchSpec {
    /// Asset id.
    pub id: String,
    /// One side's bus id.
    pub from: String,
    /// Other side's bus id.
    pub to: String,
    /// Open in normal operation (a tie between feeders).
    #[serde(default)]
    pub normally_open: bool,
    /// Present state; defaults to the normal one.
    #[serde(default)]
    pub closed: Option<bool>,
    /// Operable from the control room.
    #[serde(default)]
    pub remote: bool,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

impl SwitchSpec {
    /// Present state: the explicit one, else the normal one.
    pub fn is_closed(&self) -> bool {
        self.closed.unwrap_or(!self.normally_open)
    }
}

/// Kind of generation module, with its technology parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum GeneratorKind {
    /// Photovoltaic array with inverter.
    Solar {
        /// Panel tilt from horizontal, degrees.
        #[serde(default)]
        tilt_deg: f64,
        /// Panel azimuth, degrees clockwise from north.
        #[serde(default)]
        azimuth_deg: f64,
    },
    /// Wind turbine.
    Wind {
        /// Hub height, m.
        hub_height_m: f64,
        /// Cut-in wind speed, m/s.
        cut_in_m_s: f64,
        /// Rated wind speed, m/s.
        rated_m_s: f64,
        /// Cut-out wind speed, m/s.
        cut_out_m_s: f64,
    },
    /// Combined heat and power unit (gas or similar).
    Chp {
        /// Minimum stable load, fraction of rated.
        min_load: f64,
        /// Ramp limit, kW per minute.
        ramp_kw_per_min: f64,
    },
    /// Biogas or biomass unit with a fuel stock.
    Bio {
        /// Minimum stable load, fraction of rated.
        min_load: f64,
        /// Ramp limit, kW per minute.
        ramp_kw_per_min: f64,
        /// Fuel in stock, kWh of electrical output.
        fuel_kwh: f64,
    },
    /// A module of a kind from kos-energy's registry (for example `hydro`), with its
    /// parameters by name.
    Module {
        /// Registered kind name.
        module: String,
        /// Parameters, by name (units as the kind documents them).
        #[serde(default)]
        params: std::collections::BTreeMap<String, f64>,
    },
    /// Connection to the regional grid: the reference of the mesh while connected.
    GridTie {
        /// Largest import, kW.
        import_limit_kw: f64,
        /// Largest export, kW.
        export_limit_kw: f64,
        /// Initial short-circuit power of the regional grid at the tie, S"kQ max, MVA (the
        /// network feeder of IEC 60909).
        #[serde(default = "default_tie_short_circuit_mva")]
        short_circuit_mva: f64,
        /// R/X of the regional grid's impedance at that short-circuit power.
        #[serde(default = "default_tie_short_circuit_rx")]
        short_circuit_rx: f64,
        /// Minimum initial short-circuit power S"kQ min, MVA, for the minimum case (the
        /// maximum's when not given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        short_circuit_min_mva: Option<f64>,
        /// R/X at the minimum short-circuit power (the maximum's when not given).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        short_circuit_min_rx: Option<f64>,
    },
}

/// Fault level of a grid tie that does not give one, MVA: a typical 11 kV primary
/// substation's.
pub const DEFAULT_TIE_SHORT_CIRCUIT_MVA: f64 = 250.0;

/// R/X of a grid tie that does not give one.
pub const DEFAULT_TIE_SHORT_CIRCUIT_RX: f64 = 0.1;

fn default_tie_short_circuit_mva() -> f64 {
    DEFAULT_TIE_SHORT_CIRCUIT_MVA
}

fn default_tie_short_circuit_rx() -> f64 {
    DEFAULT_TIE_SHORT_CIRCUIT_RX
}

impl GeneratorKind {
    /// Short name for people.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Solar { .. } => "solar",
            Self::Wind { .. } => "wind",
            Self::Chp { .. } => "CHP",
            Self::Bio { .. } => "bio",
            Self::Module { .. } => "module",
            Self::GridTie { .. } => "grid tie",
        }
    }

    /// A small community turbine: 30 m hub, cut in at 3 m/s, rated at 11 m/s, cut out at 25.
    pub fn small_wind() -> Self {
        Self::Wind {
            hub_height_m: 30.0,
            cut_in_m_s: 3.0,
            rated_m_s: 11.0,
            cut_out_m_s: 25.0,
        }
    }

    /// Synchronous and grid-tie sources can hold an island's voltage and frequency.
    pub fn grid_forming(&self) -> bool {
        matches!(
            self,
            Self::Chp { .. } | Self::Bio { .. } | Self::GridTie { .. }
        )
    }
}

/// A generation module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratorSpec {
    /// Asset id.
    pub id: String,
    /// Connection bus id.
    pub bus: String,
    /// Technology.
    pub kind: GeneratorKind,
    /// Rated active power, kW.
    pub rated_kw: f64,
    /// Output scheduled at the start, kW.
    #[serde(default)]
    pub setpoint_kw: f64,
    /// Voltage setpoint when it regulates voltage, pu.
    #[serde(default = "one")]
    pub voltage_pu: f64,
    /// Connected.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Who owns it, for the commons' monopoly watch (`None`: the community).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

impl GeneratorSpec {
    /// A new unit of `kind` at `bus`, in service, owned by the community, its output from
    /// the weather (no setpoint).
    pub fn new_unit(id: String, bus: String, kind: GeneratorKind, rated_kw: f64, dna: Dna) -> Self {
        Self {
            id,
            bus,
            kind,
            rated_kw,
            setpoint_kw: 0.0,
            voltage_pu: 1.0,
            in_service: true,
            owner: None,
            dna,
        }
    }
}

/// A battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    /// Asset id.
    pub id: String,
    /// Connection bus id.
    pub bus: String,
    /// Usable energy capacity, kWh.
    pub energy_kwh: f64,
    /// Inverter power rating, kW.
    pub power_kw: f64,
    /// Charging efficiency, fraction.
    pub charge_efficiency: f64,
    /// Discharging efficiency, fraction.
    pub discharge_efficiency: f64,
    /// Lowest allowed state of charge, fraction.
    pub soc_min: f64,
    /// Highest allowed state of charge, fraction.
    pub soc_max: f64,
    /// State of charge now, fraction.
    pub soc: f64,
    /// Can hold an island alone (grid-forming inverter).
    #[serde(default)]
    pub grid_forming: bool,
    /// Voltage setpoint when grid-forming, pu.
    #[serde(default = "one")]
    pub voltage_pu: f64,
    /// Connected.
    #[serde(default = "yes")]
    pub in_service: bool,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

impl StorageSpec {
    /// A new battery at half charge, lithium-ion's usual efficiencies (95 % each way) and
    /// state-of-charge limits (10 to 95 %), following the grid.
    pub fn new_battery(id: String, bus: String, energy_kwh: f64, power_kw: f64, dna: Dna) -> Self {
        Self {
            id,
            bus,
            energy_kwh,
            power_kw,
            charge_efficiency: 0.95,
            discharge_efficiency: 0.95,
            soc_min: 0.1,
            soc_max: 0.95,
            soc: 0.5,
            grid_forming: false,
            voltage_pu: 1.0,
            in_service: true,
            dna,
        }
    }
}

/// Daily shape of a demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Profile {
    /// Homes: morning and evening peaks.
    Household,
    /// Shops and offices: daytime.
    Commercial,
    /// Emergency shelter: evening and night occupancy.
    Shelter,
    /// Clinic: daytime with a night base.
    Clinic,
    /// Data centre: nearly flat.
    DataCentre,
    /// Water pumping: off-peak and early-morning pumping.
    WaterPumping,
    /// Fabrication hub: working hours.
    Fabrication,
    /// Street lighting: dusk to dawn.
    Lighting,
    /// Hourly factors of peak, local time, 24 values.
    Custom(Vec<f64>),
}

/// Who is shed last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Priority {
    /// Life safety: shed last.
    Critical,
    /// Needed, can wait a little.
    Essential,
    /// Can move in time: shed first.
    Deferrable,
}

/// An electrical load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Asset id.
    pub id: String,
    /// Connection bus id.
    pub bus: String,
    /// Peak active demand, kW.
    pub peak_kw: f64,
    /// Power factor (lagging), fraction.
    #[serde(default = "default_pf")]
    pub power_factor: f64,
    /// Daily shape.
    pub profile: Profile,
    /// Shedding priority.
    pub priority: Priority,
    /// Households served (for per-household accounting).
    #[serde(default)]
    pub households: u32,
    /// The commons: weight, household size, needs, water and bandwidth, cap.
    #[serde(default, skip_serializing_if = "ConsumerCommons::is_default")]
    pub commons: ConsumerCommons,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// What a load or pod asks of the commons beyond its power, and how it shares: every field
/// may be left out (the defaults follow from its households, kind and the scene's
/// [`CommonsSpec`](crate::CommonsSpec)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerCommons {
    /// Weight in the fair share (default: a load's households, a pod's occupants over the
    /// household size, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// People per household (default: the scene's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_size: Option<f64>,
    /// Households with medical equipment that must keep running.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub medical: u32,
    /// Water asked, litres per hour (default: households times the scene's rate; a pod's
    /// `water_m3_per_day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub water_l_per_h: Option<f64>,
    /// Bandwidth of the community mesh asked, Mbit/s (default: households times the scene's
    /// rate; a pod's `bandwidth_mbps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_mbps: Option<f64>,
    /// Critical minimum, as a fraction of each demand (default: 1 for a critical load, the
    /// clinic and the water works; 0.5 for a shelter, 0.2 for a critical data centre's
    /// emergency communications; else 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// Cap on its power, kW: set by the community, changed only by governance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap_kw: Option<f64>,
    /// What its own storage behind the meter (a battery for a medical fridge, say) may
    /// charge from the commons during a shortage, kW: its stated need. More, metered
    /// (telemetry `charge_kw`), is hoarding.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub storage_need_kw: f64,
    /// The same for its own water tank, litres per hour (telemetry `tank_fill_l_s`).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub tank_need_l_per_h: f64,
}

impl ConsumerCommons {
    /// Whether every field is left at its default (not written out).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn is_zero(x: &u32) -> bool {
    *x == 0
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
}

fn default_pf() -> f64 {
    0.95
}
