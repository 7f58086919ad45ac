//! Wear and aging of assets: transformer and cable insulation, battery capacity fade with
//! rainflow cycle counting, and generator duty counters.

pub mod battery_aging;
pub mod cable;
pub mod rainflow;
pub mod run_counter;
pub mod transformer;

pub use battery_aging::{BatteryAging, BatteryWear};
pub use cable::{CABLE_DESIGN_LIFE_H, CableThermal, XLPE_ACTIVATION_TEMPERATURE_K};
pub use rainflow::{Cycle, MAX_RESIDUE, RainflowCounter, rainflow};
pub use run_counter::RunCounter;
pub use transformer::{
    LossOfLife, NORMAL_INSULATION_LIFE_H, REFERENCE_HOT_SPOT_C, TransformerTemperatures,
    TransformerThermal, aging_acceleration_factor,
};
