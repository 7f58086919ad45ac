//! Energy models of kos-twin, free of any engine: weather, the sun's position and PV output,
//! wind turbines, batteries, dispatchable units, and wear and depletion of assets.
//!
//! Every function is pure: the same inputs give the same outputs, bit for bit. No input,
//! finite or not, makes a function panic; non-finite inputs give finite, neutral results.

pub mod balance;
pub mod dispatchable;
pub mod math;
pub mod module;
pub mod modules;
pub mod relief;
pub mod series;
pub mod solar;
pub mod storage;
pub mod variation;
pub mod wear;
pub mod weather;
pub mod wind;

pub use dispatchable::{FuelStock, ThermalUnit};
pub use series::RollingSeries;
pub use solar::{
    PvArray, SpaInput, SunPosition, clear_sky_ghi_haurwitz, cloud_attenuation,
    diffuse_fraction_erbs, plane_of_array, sun_position, sun_position_at,
};
pub use storage::Battery;
pub use wear::{
    BatteryAging, BatteryWear, CableThermal, Cycle, LossOfLife, RainflowCounter, RunCounter,
    TransformerTemperatures, TransformerThermal, aging_acceleration_factor, rainflow,
};
pub use weather::{Weather, WeatherParams, WeatherSample};
pub use wind::{DEFAULT_SHEAR_EXPONENT, PowerCurve, hub_height_wind};
