//! The scene file: plain serde structs, written by hand in RON. Optional fields default;
//! unknown fields are errors (a typo must not pass silently).

use serde::{Deserialize, Serialize};

mod grid;
mod modes;
mod protection;

pub use grid::*;
pub use modes::*;
pub use protection::*;

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
    /// Protection devices: relays, fuses, reclosers, sectionalisers, fault indicators.
    #[serde(default)]
    pub protection: Vec<ProtectionSpec>,
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
    /// Emergency modes, off until switched on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modes: Vec<ModeSpec>,
    /// How the community shares power, water, shelter and bandwidth when it is short.
    #[serde(default)]
    pub commons: CommonsSpec,
}

/// The commons' settings for the whole community.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommonsSpec {
    /// Local hour at which an island on storage expects its sources back ("until morning").
    pub morning_hour: f64,
    /// People per household.
    pub household_size: f64,
    /// Water a household asks, litres per hour.
    pub water_l_per_household_h: f64,
    /// Water every person keeps even when rationed, litres per day (Sphere's 15).
    pub water_minimum_l_per_person_day: f64,
    /// How long the reservoir (and the depots' water) must last when the works are down, h.
    pub water_reserve_hours: f64,
    /// Mesh bandwidth a household asks, Mbit/s.
    pub mesh_mbps_per_household: f64,
    /// The community mesh's capacity while the data centre runs, Mbit/s.
    pub mesh_mbps: f64,
    /// What is left of it on the nodes' own batteries when the data centre is dark, Mbit/s.
    pub mesh_backup_mbps: f64,
    /// Eco-tokens minted per kWh saved during a conservation event.
    pub token_rate_per_kwh: f64,
    /// Tokens a household spends for priority when the surplus hours cannot yet serve every
    /// deferrable load that waits: its share of the load goes first until what the load is
    /// owed is paid (one slot). 0: the community does not sell slot priority.
    pub slot_priority_tokens: f64,
    /// Share of households that answer an announced conservation event.
    pub event_response: f64,
    /// How much of their demand those households save during an event, fraction.
    pub event_saving: f64,
    /// Drawing more than the share by this fraction counts as drawing above it.
    pub hoarding_tolerance: f64,
    /// Periods above the share before a hoarding alarm.
    pub hoarding_periods: u32,
    /// Share of an island's supply one owner may hold during a shortage before a monopoly
    /// alarm.
    pub monopoly_share: f64,
}

impl Default for CommonsSpec {
    fn default() -> Self {
        Self {
            morning_hour: 7.0,
            household_size: 2.4,
            water_l_per_household_h: 15.0,
            water_minimum_l_per_person_day: 15.0,
            water_reserve_hours: 24.0,
            mesh_mbps_per_household: 5.0,
            mesh_mbps: 1000.0,
            mesh_backup_mbps: 100.0,
            token_rate_per_kwh: 10.0,
            slot_priority_tokens: 1.0,
            event_response: 0.3,
            event_saving: 0.15,
            hoarding_tolerance: 0.1,
            hoarding_periods: 3,
            monopoly_share: 0.5,
        }
    }
}

impl Scene {
    /// Every asset's id and Infrastructure DNA, in the scene's order (buses, lines,
    /// transformers, switches, generators, storage, loads, pods, depots, routes).
    pub fn asset_dna(&self) -> Vec<(&str, &Dna)> {
        let mut out: Vec<(&str, &Dna)> = Vec::new();
        out.extend(self.buses.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.lines.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.transformers.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.switches.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.generators.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.storage.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.loads.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.pods.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.depots.iter().map(|x| (x.id.as_str(), &x.dna)));
        out.extend(self.routes.iter().map(|x| (x.id.as_str(), &x.dna)));
        out
    }
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
    /// Places for people sleeping over (a shelter; default: its occupants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub places: Option<u32>,
    /// Treated water held in the reservoir (a water works), m3.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub reservoir_m3: f64,
    /// The commons: weight, minimum, cap.
    #[serde(default, skip_serializing_if = "ConsumerCommons::is_default")]
    pub commons: ConsumerCommons,
    /// Infrastructure DNA.
    #[serde(default)]
    pub dna: Dna,
}

fn is_zero_f64(x: &f64) -> bool {
    *x == 0.0
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
