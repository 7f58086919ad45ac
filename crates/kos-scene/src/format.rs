//! The scene file: plain serde structs, written by hand in RON. Optional fields default;
//! unknown fields are errors (a typo must not pass silently).

use serde::{Deserialize, Serialize};

/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

fn yes() -> bool {
    true
}
fn one() -> f64 {
    1.0
}
fn fifty() -> f64 {
    50.0
}

/// A whole community: its site, grid, pods and supply network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Version of this format; see [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Where and when.
    pub site: Site,
    /// Electrical nodes: substations, poles, cabinets.
    #[serde(default)]
    pub buses: Vec<BusSpec>,
    /// Overhead lines and cables.
    #[serde(default)]
    pub lines: Vec<LineSpec>,
    /// Two-winding transformers.
    #[serde(default)]
    pub transformers: Vec<TransformerSpec>,
    /// Switches and breakers between two buses.
    #[serde(default)]
    pub switches: Vec<SwitchSpec>,
    /// Generation modules.
    #[serde(default)]
    pub generators: Vec<GeneratorSpec>,
    /// Batteries.
    #[serde(default)]
    pub storage: Vec<StorageSpec>,
    /// Electrical loads (households, street lighting, ...).
    #[serde(default)]
    pub loads: Vec<LoadSpec>,
    /// Infrastructure pods.
    #[serde(default)]
    pub pods: Vec<PodSpec>,
    /// Supply depots.
    #[serde(default)]
    pub depots: Vec<DepotSpec>,
    /// Supply routes between depots and pods.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

/// The site: location, clock and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Community name.
    pub name: String,
    /// Latitude, degrees north.
    pub latitude_deg: f64,
    /// Longitude, degrees east.
    pub longitude_deg: f64,
    /// IANA time zone name, for people (the clock uses `utc_offset_hours`).
    #[serde(default)]
    pub time_zone: String,
    /// Offset of local standard time from UTC, hours.
    #[serde(default)]
    pub utc_offset_hours: f64,
    /// Local start time of the simulation, `YYYY-MM-DDTHH:MM[:SS]`.
    pub start: String,
    /// Seed of every random process.
    #[serde(default)]
    pub seed: u64,
    /// System base power for per-unit values, MVA.
    #[serde(default = "one")]
    pub base_mva: f64,
    /// Nominal frequency, Hz.
    #[serde(default = "fifty")]
    pub frequency_hz: f64,
    /// Climate and emission factors.
    #[serde(default)]
    pub energy: EnergySettings,
}

/// The climate the weather is drawn from, and the emission factors of the sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnergySettings {
    /// Height of the site above sea level, m.
    pub elevation_m: f64,
    /// Mean wind speed at 10 m, m/s.
    pub mean_wind_m_s: f64,
    /// Shape of the Weibull distribution of wind speeds (2 is the Rayleigh case).
    pub weibull_k: f64,
    /// Mean cloud cover, fraction of the sky.
    pub mean_cloud_cover: f64,
    /// Mean air temperature over the year, degrees C.
    pub mean_temperature_c: f64,
    /// Half the difference between the day's warmest and coldest hour, degrees C.
    pub daily_amplitude_c: f64,
    /// Half the difference between the warmest and coldest season, degrees C.
    pub seasonal_amplitude_c: f64,
    /// Life-cycle emissions per source, g CO2-eq per kWh.
    pub emissions: EmissionFactors,
}

impl Default for EnergySettings {
    fn default() -> Self {
        Self {
            elevation_m: 0.0,
            mean_wind_m_s: 6.0,
            weibull_k: 2.0,
            mean_cloud_cover: 0.5,
            mean_temperature_c: 11.0,
            daily_amplitude_c: 4.0,
            seasonal_amplitude_c: 7.0,
            emissions: EmissionFactors::default(),
        }
    }
}

/// Life-cycle emission factors, g CO2-eq per kWh delivered. Defaults are the medians of
/// IPCC AR5 WG3 Annex III (2014), table A.III.2; the regional grid's is a typical
/// European mix and should be set to the local one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmissionFactors {
    /// Rooftop photovoltaics.
    pub solar: f64,
    /// Onshore wind.
    pub wind: f64,
    /// Gas-fired combined heat and power.
    pub chp: f64,
    /// Biogas and biomass.
    pub bio: f64,
    /// Import from the regional grid.
    pub grid: f64,
    /// Modules from the registry (hydro and others).
    pub other: f64,
}

impl Default for EmissionFactors {
    fn default() -> Self {
        Self {
            solar: 41.0,
            wind: 11.0,
            chp: 490.0,
            bio: 230.0,
            grid: 300.0,
            other: 24.0,
        }
    }
}

/// Infrastructure DNA: what an asset is for, what it can take, and its history.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dna {
    /// Purpose in the community.
    #[serde(default)]
    pub purpose: String,
    /// Rated limits, as the nameplate says.
    #[serde(default)]
    pub rated_limits: String,
    /// Commissioning date, `YYYY-MM-DD`.
    #[serde(default)]
    pub commissioned: String,
    /// Maintenance history, oldest first.
    #[serde(default)]
    pub maintenance: Vec<MaintenanceRecord>,
}

/// One maintenance intervention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceRecord {
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// What was done.
    pub note: String,
}

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
    },
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
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
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
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

fn default_pf() -> f64 {
    0.95
}

/// Kind of infrastructure pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PodKind {
    /// Emergency and community shelter.
    Shelter,
    /// Data centre.
    DataCentre,
    /// Water pumping and treatment.
    WaterUtility,
    /// Clinic.
    Clinic,
    /// Fabrication and repair hub.
    FabricationHub,
}

impl PodKind {
    /// Demand shape of this kind of pod.
    pub fn profile(self) -> Profile {
        match self {
            Self::Shelter => Profile::Shelter,
            Self::DataCentre => Profile::DataCentre,
            Self::WaterUtility => Profile::WaterPumping,
            Self::Clinic => Profile::Clinic,
            Self::FabricationHub => Profile::Fabrication,
        }
    }
}

/// An infrastructure pod: a building that serves the community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodSpec {
    /// Asset id.
    pub id: String,
    /// What it is.
    pub kind: PodKind,
    /// Connection bus id.
    pub bus: String,
    /// Position east and north of the site origin, metres.
    pub position: (f64, f64),
    /// People it serves or houses at capacity.
    #[serde(default)]
    pub occupants: u32,
    /// Peak electrical demand, kW.
    pub power_kw: f64,
    /// Water need, m3 per day.
    #[serde(default)]
    pub water_m3_per_day: f64,
    /// Network bandwidth need, Mbit/s.
    #[serde(default)]
    pub bandwidth_mbps: f64,
    /// Shedding priority.
    pub priority: Priority,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// A stock held at a depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stock {
    /// Resource name.
    pub resource: String,
    /// Amount held.
    pub quantity: f64,
    /// Unit of `quantity`.
    pub unit: String,
}

/// A supply depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepotSpec {
    /// Asset id.
    pub id: String,
    /// Position east and north of the site origin, metres.
    pub position: (f64, f64),
    /// Stocks held.
    #[serde(default)]
    pub stocks: Vec<Stock>,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

/// How goods travel on a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RouteMode {
    /// Van or truck.
    #[default]
    Road,
    /// Cargo bike or hand cart.
    Path,
}

/// A supply route between two depots or pods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Asset id.
    pub id: String,
    /// Depot or pod id.
    pub from: String,
    /// Depot or pod id.
    pub to: String,
    /// Length, km.
    pub length_km: f64,
    /// Mode.
    #[serde(default)]
    pub mode: RouteMode,
    /// Capacity, tonnes per day.
    #[serde(default)]
    pub capacity_t_per_day: f64,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}
