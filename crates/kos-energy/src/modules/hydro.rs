//! Run-of-river micro-hydro: P = eta * rho * g * Q * H, with the river's flow following the
//! seasons (highest in late winter, lowest in late summer in the northern hemisphere).

use std::f64::consts::PI;

use crate::module::{Conditions, GenerationModule, ModuleError, Params, read_params};

/// Density of water, kg/m3.
const RHO_KG_M3: f64 = 1000.0;
/// Standard gravity, m/s2.
const G_M_S2: f64 = 9.806_65;

/// A run-of-river turbine.
#[derive(Debug, Clone, PartialEq)]
pub struct HydroModule {
    /// Generator rating, kW.
    pub rated_kw: f64,
    /// Mean flow through the turbine, m3/s.
    pub flow_m3_s: f64,
    /// Net head, m.
    pub head_m: f64,
    /// Water-to-wire efficiency, fraction.
    pub efficiency: f64,
    /// Seasonal swing of the flow, fraction of the mean.
    pub seasonal_swing: f64,
}

impl HydroModule {
    /// Flow on a day of the year, m3/s: the mean, swinging by `seasonal_swing` with a peak
    /// near day 45.
    pub fn flow_on(&self, day_of_year: f64) -> f64 {
        let d = if day_of_year.is_finite() {
            day_of_year
        } else {
            1.0
        };
        self.flow_m3_s * (1.0 + self.seasonal_swing * (2.0 * PI * (d - 45.0) / 365.25).cos())
    }
}

impl GenerationModule for HydroModule {
    fn kind(&self) -> &'static str {
        "hydro"
    }

    fn available_kw(&self, c: &Conditions) -> f64 {
        let p_kw = self.efficiency * RHO_KG_M3 * G_M_S2 * self.flow_on(c.day_of_year) * self.head_m
            / 1000.0;
        p_kw.clamp(0.0, self.rated_kw)
    }
}

/// Builds a turbine of `rated_kw`; parameters `flow_m3_s` and `head_m` (required),
/// `efficiency` (0.7), `seasonal_swing` (0.4).
pub fn build(rated_kw: f64, params: &Params) -> Result<Box<dyn GenerationModule>, ModuleError> {
    let [flow_m3_s, head_m, efficiency, seasonal_swing] = read_params(
        "hydro",
        params,
        [
            ("flow_m3_s", None, 0.0, 1000.0),
            ("head_m", None, 0.0, 2000.0),
            ("efficiency", Some(0.7), 0.0, 1.0),
            ("seasonal_swing", Some(0.4), 0.0, 1.0),
        ],
    )?;
    Ok(Box::new(HydroModule {
        rated_kw: if rated_kw.is_finite() {
            rated_kw.max(0.0)
        } else {
            0.0
        },
        flow_m3_s,
        head_m,
        efficiency,
        seasonal_swing,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_is_eta_rho_g_q_h() {
        // 0.5 m3/s through 10 m at 70 %: 0.7 * 1000 * 9.80665 * 0.5 * 10 = 34.32 kW.
        let m = HydroModule {
            rated_kw: 100.0,
            flow_m3_s: 0.5,
            head_m: 10.0,
            efficiency: 0.7,
            seasonal_swing: 0.0,
        };
        let c = Conditions {
            sun: crate::solar::sun_position_at(0.0, 0.0, 0.0, 0.0),
            ghi_w_m2: 0.0,
            day_of_year: 100.0,
            ambient_c: 10.0,
            wind_m_s: 0.0,
        };
        assert!((m.available_kw(&c) - 34.323_275).abs() < 1e-6);
        // The generator's rating caps it.
        let small = HydroModule {
            rated_kw: 20.0,
            ..m
        };
        assert_eq!(small.available_kw(&c), 20.0);
    }
}
