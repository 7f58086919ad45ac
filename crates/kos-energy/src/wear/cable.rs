//! Power cable conductor temperature and insulation aging.
//!
//! Temperature: Joule losses scale with I², so the steady conductor rise over the soil is
//! (θ_max − θ_amb,rated)·I² in per unit of the ampacity (IEC 60287 defines the ampacity as
//! the current that reaches θ_max at the rated ambient). The approach to it is first order.
//!
//! Aging: Arrhenius law referred to continuous operation at θ_max = 90 °C (XLPE), where the
//! acceleration factor is 1 and the insulation lasts its design life.

use serde::{Deserialize, Serialize};

use crate::solar::finite_or;

/// Activation energy of XLPE thermo-oxidative aging over Boltzmann's constant, K.
/// 1.1 eV / 8.617e-5 eV/K = 12 765 K; published XLPE values span ≈ 0.9–1.3 eV (IEC 60216
/// thermal endurance tests), and 1.1 eV gives the familiar doubling of aging rate every
/// ≈ 7 K near 90 °C.
pub const XLPE_ACTIVATION_TEMPERATURE_K: f64 = 12_765.0;
/// Design life of a distribution cable at continuous rated temperature, h (40 years).
pub const CABLE_DESIGN_LIFE_H: f64 = 40.0 * 8766.0;

/// Thermal parameters of a buried XLPE cable.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CableThermal {
    /// Maximum continuous conductor temperature, °C (90 °C for XLPE, IEC 60502).
    pub max_conductor_c: f64,
    /// Ground temperature at which the ampacity is rated, °C (20 °C, IEC 60287 buried).
    pub rated_ambient_c: f64,
    /// First-order thermal time constant of conductor plus surrounding soil, min (30–60 min
    /// for distribution cables in the ground; 45 min default).
    pub time_constant_min: f64,
}

impl Default for CableThermal {
    /// A buried XLPE distribution cable.
    fn default() -> Self {
        Self {
            max_conductor_c: 90.0,
            rated_ambient_c: 20.0,
            time_constant_min: 45.0,
        }
    }
}

impl CableThermal {
    /// Steady conductor temperature at current `loading_pu` (per unit of ampacity) in soil at
    /// `ambient_c` (°C), °C: θ_amb + (θ_max − θ_amb,rated)·I².
    pub fn steady_conductor_c(&self, loading_pu: f64, ambient_c: f64) -> f64 {
        let i = finite_or(loading_pu, 0.0).abs().min(10.0);
        let amb = finite_or(ambient_c, self.rated_ambient_c);
        amb + (self.max_conductor_c - self.rated_ambient_c) * i * i
    }

    /// Conductor temperature after `dt_min` minutes at `loading_pu` from `conductor_c` (°C),
    /// °C (exact first-order update, stable for any step).
    pub fn step(&self, conductor_c: f64, loading_pu: f64, ambient_c: f64, dt_min: f64) -> f64 {
        let target = self.steady_conductor_c(loading_pu, ambient_c);
        let now = finite_or(conductor_c, target).clamp(-100.0, 2000.0);
        let tau = finite_or(self.time_constant_min, 45.0).max(1e-6);
        let dt = finite_or(dt_min, 0.0).max(0.0);
        target + (now - target) * (-dt / tau).exp()
    }

    /// Aging acceleration factor at conductor temperature `conductor_c` (°C), dimensionless:
    /// exp(B/(θ_max + 273.15) − B/(θ + 273.15)) with B = [`XLPE_ACTIVATION_TEMPERATURE_K`];
    /// 1.0 at `max_conductor_c`. Clamped to −50..=250 °C; NaN gives 0.
    pub fn aging_acceleration_factor(&self, conductor_c: f64) -> f64 {
        if conductor_c.is_nan() {
            return 0.0;
        }
        let t = conductor_c.clamp(-50.0, 250.0) + 273.15;
        let t_ref = finite_or(self.max_conductor_c, 90.0) + 273.15;
        let b = XLPE_ACTIVATION_TEMPERATURE_K;
        finite_or((b / t_ref - b / t).exp(), 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wear::LossOfLife;

    #[test]
    fn rated_current_reaches_max_temperature() {
        let c = CableThermal::default();
        assert_eq!(c.steady_conductor_c(1.0, 20.0), 90.0);
        // Half load: a quarter of the 70 K rise.
        assert_eq!(c.steady_conductor_c(0.5, 20.0), 37.5);
        let mut t = 20.0;
        for _ in 0..1000 {
            t = c.step(t, 1.0, 20.0, 1.0);
        }
        assert!((t - 90.0).abs() < 1e-6);
        // One time constant: 63.2 % of the step.
        let one = c.step(20.0, 1.0, 20.0, 45.0);
        assert!((one - (20.0 + 70.0 * (1.0 - (-1.0f64).exp()))).abs() < 1e-9);
    }

    #[test]
    fn aging_reference_and_doubling() {
        let c = CableThermal::default();
        assert!((c.aging_acceleration_factor(90.0) - 1.0).abs() < 1e-12);
        // d ln F / dθ = B/T² → doubling interval ln2·T²/B ≈ 7.2 K at 363 K.
        let dbl = std::f64::consts::LN_2 * 363.15f64.powi(2) / XLPE_ACTIVATION_TEMPERATURE_K;
        let f = c.aging_acceleration_factor(90.0 + dbl);
        assert!((f - 2.0).abs() < 0.05, "factor {f}");
        assert!(c.aging_acceleration_factor(20.0) < 0.01);
    }

    #[test]
    fn forty_years_at_rating_is_one_life() {
        let c = CableThermal::default();
        let mut l = LossOfLife::default();
        l.accumulate(c.aging_acceleration_factor(90.0), CABLE_DESIGN_LIFE_H);
        assert!((l.percent_of(CABLE_DESIGN_LIFE_H) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn non_finite_is_safe() {
        let c = CableThermal::default();
        assert!(
            c.step(f64::NAN, f64::INFINITY, f64::NAN, f64::NAN)
                .is_finite()
        );
        assert_eq!(c.aging_acceleration_factor(f64::NAN), 0.0);
        assert!(c.aging_acceleration_factor(f64::INFINITY).is_finite());
    }
}
