//! Wind turbines: shear of the wind profile to hub height and the power curve.

use serde::{Deserialize, Serialize};

use crate::solar::finite_or;

/// Power-law shear exponent α of neutral stability over open terrain (the "1/7 law"),
/// dimensionless.
pub const DEFAULT_SHEAR_EXPONENT: f64 = 1.0 / 7.0;

/// Wind speed at `hub_height_m` (m) from a speed `v_ref_m_s` (m/s) measured at
/// `reference_height_m` (m) by the power law v = v_ref·(h/h_ref)^α, m/s.
///
/// Negative or non-finite speeds give 0; non-positive heights leave the speed unchanged
/// (there is no profile to scale); α is clamped to 0..=1, non-finite → 1/7.
pub fn hub_height_wind(
    v_ref_m_s: f64,
    reference_height_m: f64,
    hub_height_m: f64,
    shear_exponent: f64,
) -> f64 {
    let v = finite_or(v_ref_m_s, 0.0).max(0.0);
    let alpha = finite_or(shear_exponent, DEFAULT_SHEAR_EXPONENT).clamp(0.0, 1.0);
    let (h0, h) = (reference_height_m, hub_height_m);
    if !(h0.is_finite() && h.is_finite() && h0 > 0.0 && h > 0.0) {
        return v;
    }
    finite_or(v * (h / h0).powf(alpha), 0.0)
}

/// A turbine power curve with cubic rise between cut-in and rated speed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PowerCurve {
    /// Rated electrical output, kW.
    pub rated_kw: f64,
    /// Wind speed at which generation starts, m/s.
    pub cut_in_m_s: f64,
    /// Wind speed at which rated output is reached, m/s.
    pub rated_m_s: f64,
    /// Wind speed at and above which the turbine shuts down for protection, m/s.
    pub cut_out_m_s: f64,
}

impl Default for PowerCurve {
    /// A small community turbine: 10 kW, cut-in 3 m/s, rated 11 m/s, cut-out 25 m/s.
    fn default() -> Self {
        Self {
            rated_kw: 10.0,
            cut_in_m_s: 3.0,
            rated_m_s: 11.0,
            cut_out_m_s: 25.0,
        }
    }
}

impl PowerCurve {
    /// Electrical output at hub-height wind speed `v_m_s` (m/s), kW:
    /// 0 below cut-in and at/above cut-out, `rated_kw` from rated speed to cut-out, and
    /// rated·(v³ − vin³)/(vr³ − vin³) in between (kinetic power ∝ v³).
    pub fn power_kw(&self, v_m_s: f64) -> f64 {
        let v = finite_or(v_m_s, 0.0);
        let rated = finite_or(self.rated_kw, 0.0).max(0.0);
        let vin = finite_or(self.cut_in_m_s, 0.0).max(0.0);
        let vr = finite_or(self.rated_m_s, vin).max(vin);
        let vout = finite_or(self.cut_out_m_s, f64::INFINITY);
        if v < vin || v >= vout {
            return 0.0;
        }
        if v >= vr {
            return rated;
        }
        let span = vr.powi(3) - vin.powi(3);
        if span <= 0.0 {
            return rated;
        }
        finite_or(rated * (v.powi(3) - vin.powi(3)) / span, 0.0).clamp(0.0, rated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubling_height_at_one_seventh() {
        // 2^(1/7) = 1.10409 (closed form).
        let v = hub_height_wind(5.0, 10.0, 20.0, DEFAULT_SHEAR_EXPONENT);
        assert!((v / 5.0 - 2f64.powf(1.0 / 7.0)).abs() < 1e-12);
        assert!((v / 5.0 - 1.104).abs() < 1e-3);
        assert_eq!(hub_height_wind(5.0, 10.0, 10.0, 0.3), 5.0);
        assert_eq!(hub_height_wind(f64::NAN, 10.0, 30.0, 0.2), 0.0);
    }

    #[test]
    fn curve_regions() {
        let c = PowerCurve::default();
        assert_eq!(c.power_kw(2.9), 0.0);
        assert_eq!(c.power_kw(3.0), 0.0);
        assert_eq!(c.power_kw(11.0), 10.0);
        assert_eq!(c.power_kw(24.9), 10.0);
        assert_eq!(c.power_kw(25.0), 0.0);
        assert_eq!(c.power_kw(f64::INFINITY), 0.0);
        // Midway in v³: v = ((3³ + 11³)/2)^(1/3) gives half of rated.
        let v_half = ((27.0 + 1331.0) / 2.0f64).cbrt();
        assert!((c.power_kw(v_half) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn continuous_at_rated() {
        let c = PowerCurve::default();
        assert!((c.power_kw(11.0 - 1e-9) - 10.0).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn monotone_up_to_rated(a in 0.0f64..11.0, b in 0.0f64..11.0) {
            let c = PowerCurve::default();
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(c.power_kw(lo) <= c.power_kw(hi));
        }

        #[test]
        fn bounded_for_any_speed(v in proptest::num::f64::ANY) {
            let p = PowerCurve::default().power_kw(v);
            prop_assert!((0.0..=10.0).contains(&p));
        }

        #[test]
        fn shear_finite(v in proptest::num::f64::ANY, h0 in proptest::num::f64::ANY,
                        h in proptest::num::f64::ANY, a in proptest::num::f64::ANY) {
            let s = hub_height_wind(v, h0, h, a);
            prop_assert!(s.is_finite() && s >= 0.0);
        }
    }
}
