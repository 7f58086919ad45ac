//! Rooftop or ground-mounted photovoltaics: plane-of-array irradiance from the sun and the
//! clouds, cell temperature, and inverter clipping.

use crate::module::{Conditions, GenerationModule, ModuleError, Params, read_params};
use crate::solar::PvArray;
use crate::solar::irradiance::plane_of_array;

/// DC rating of an array over its inverter's AC rating, by default: arrays are oversized so
/// the inverter runs near its rating for more of the day.
pub const DEFAULT_DC_AC_RATIO: f64 = 1.2;

/// A PV array with its inverter.
#[derive(Debug, Clone, PartialEq)]
pub struct SolarModule {
    /// Array and inverter.
    pub array: PvArray,
    /// Tilt from horizontal, degrees.
    pub tilt_deg: f64,
    /// Azimuth, degrees clockwise from north.
    pub azimuth_deg: f64,
}

impl GenerationModule for SolarModule {
    fn kind(&self) -> &'static str {
        "solar"
    }

    fn available_kw(&self, c: &Conditions) -> f64 {
        let poa = plane_of_array(
            c.ghi_w_m2,
            &c.sun,
            self.tilt_deg,
            self.azimuth_deg,
            c.day_of_year,
        );
        self.array
            .ac_power_kw(poa, c.ambient_c, c.wind_m_s)
            .max(0.0)
    }
}

/// Builds a solar module of `rated_kw` AC; parameters `tilt_deg` (default 30),
/// `azimuth_deg` (180, south) and `dc_ac_ratio` (1.2).
pub fn build(rated_kw: f64, params: &Params) -> Result<Box<dyn GenerationModule>, ModuleError> {
    let [tilt_deg, azimuth_deg, ratio] = read_params(
        "solar",
        params,
        [
            ("tilt_deg", Some(30.0), 0.0, 90.0),
            ("azimuth_deg", Some(180.0), 0.0, 360.0),
            ("dc_ac_ratio", Some(DEFAULT_DC_AC_RATIO), 0.5, 3.0),
        ],
    )?;
    let ac = if rated_kw.is_finite() {
        rated_kw.max(0.0)
    } else {
        0.0
    };
    Ok(Box::new(SolarModule {
        array: PvArray::new(ac * ratio, ac),
        tilt_deg,
        azimuth_deg,
    }))
}
