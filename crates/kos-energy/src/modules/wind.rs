//! Wind turbines: the weather's 10 m wind brought to hub height by the power law, through
//! the turbine's power curve.

use crate::module::{Conditions, GenerationModule, ModuleError, Params, read_params};
use crate::wind::{DEFAULT_SHEAR_EXPONENT, PowerCurve, hub_height_wind};

/// Height of the weather's wind speed, m.
pub const REFERENCE_HEIGHT_M: f64 = 10.0;

/// A wind turbine.
#[derive(Debug, Clone, PartialEq)]
pub struct WindModule {
    /// Power curve.
    pub curve: PowerCurve,
    /// Hub height, m.
    pub hub_height_m: f64,
    /// Wind shear exponent of the site.
    pub shear_exponent: f64,
}

impl GenerationModule for WindModule {
    fn kind(&self) -> &'static str {
        "wind"
    }

    fn available_kw(&self, c: &Conditions) -> f64 {
        let v = hub_height_wind(
            c.wind_m_s,
            REFERENCE_HEIGHT_M,
            self.hub_height_m,
            self.shear_exponent,
        );
        self.curve.power_kw(v).max(0.0)
    }
}

/// Builds a turbine of `rated_kw`; parameters `hub_height_m` (30), `cut_in_m_s` (3),
/// `rated_m_s` (12), `cut_out_m_s` (25), `shear_exponent` (1/7).
pub fn build(rated_kw: f64, params: &Params) -> Result<Box<dyn GenerationModule>, ModuleError> {
    let [
        hub_height_m,
        cut_in_m_s,
        rated_m_s,
        cut_out_m_s,
        shear_exponent,
    ] = read_params(
        "wind",
        params,
        [
            ("hub_height_m", Some(30.0), 1.0, 250.0),
            ("cut_in_m_s", Some(3.0), 0.0, 10.0),
            ("rated_m_s", Some(12.0), 1.0, 30.0),
            ("cut_out_m_s", Some(25.0), 5.0, 40.0),
            ("shear_exponent", Some(DEFAULT_SHEAR_EXPONENT), 0.0, 0.6),
        ],
    )?;
    Ok(Box::new(WindModule {
        curve: PowerCurve {
            rated_kw: if rated_kw.is_finite() {
                rated_kw.max(0.0)
            } else {
                0.0
            },
            cut_in_m_s,
            rated_m_s,
            cut_out_m_s,
        },
        hub_height_m,
        shear_exponent,
    }))
}
