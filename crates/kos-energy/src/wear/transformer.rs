//! Oil-immersed transformer temperatures and insulation aging, IEEE C57.91-2011 clause 7.
//!
//! Top-oil rise and hot-spot gradient each approach their ultimate value for the present
//! load exponentially (clause 7, eqs. 14–19). Each step uses the exact solution of the
//! first-order equation, so any step length is stable. Insulation aging uses the
//! Arrhenius aging acceleration factor of clause 5 (eq. 2) referred to a 110 °C hot spot.

use serde::{Deserialize, Serialize};

use crate::solar::finite_or;

/// Normal insulation life at a constant 110 °C hot spot, h (C57.91 Table 2: 180 000 h,
/// 50 % retained tensile strength of well-dried, oxygen-free insulation).
pub const NORMAL_INSULATION_LIFE_H: f64 = 180_000.0;
/// Reference hot-spot temperature of 65 °C-rise insulation where F_AA = 1, °C.
pub const REFERENCE_HOT_SPOT_C: f64 = 110.0;

/// Aging acceleration factor of thermally upgraded paper, exp(15000/383 − 15000/(θH + 273))
/// (C57.91 eq. 2), dimensionless; 1 at 110 °C, about doubling every 6–7 K. The hot spot is
/// clamped to −50..=300 °C; NaN gives 0 (no aging).
pub fn aging_acceleration_factor(hot_spot_c: f64) -> f64 {
    if hot_spot_c.is_nan() {
        return 0.0;
    }
    let t = hot_spot_c.clamp(-50.0, 300.0);
    (15_000.0 / 383.0 - 15_000.0 / (t + 273.0)).exp()
}

/// Thermal parameters of a transformer at rated load (C57.91 clause 7 symbols in brackets).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformerThermal {
    /// Top-oil rise over ambient at rated load [Δθ_TO,R], K. 55 K with a 25 K gradient gives
    /// the 80 K hot-spot rise of a 65 °C-rise distribution transformer (110 °C at 30 °C air).
    pub rated_top_oil_rise_c: f64,
    /// Hot-spot rise over top oil at rated load [Δθ_H,R], K.
    pub rated_hot_spot_gradient_c: f64,
    /// Ratio of load losses at rated load to no-load losses [R], dimensionless.
    pub ratio_load_loss_to_no_load: f64,
    /// Oil exponent [n], dimensionless (0.8 for ONAN).
    pub oil_exponent: f64,
    /// Winding exponent [m], dimensionless (0.8 for ONAN/ONAF).
    pub winding_exponent: f64,
    /// Oil time constant [τ_TO], min (≈ 3 h for ONAN distribution units).
    pub oil_time_constant_min: f64,
    /// Winding time constant [τ_w], min (3–7 min typical).
    pub winding_time_constant_min: f64,
}

impl Default for TransformerThermal {
    /// A 65 °C-rise ONAN distribution transformer with C57.91 typical values.
    fn default() -> Self {
        Self {
            rated_top_oil_rise_c: 55.0,
            rated_hot_spot_gradient_c: 25.0,
            ratio_load_loss_to_no_load: 5.0,
            oil_exponent: 0.8,
            winding_exponent: 0.8,
            oil_time_constant_min: 180.0,
            winding_time_constant_min: 4.0,
        }
    }
}

/// Thermal state of a transformer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformerTemperatures {
    /// Top-oil rise over ambient [Δθ_TO], K.
    pub top_oil_rise_c: f64,
    /// Winding hot-spot rise over top oil [Δθ_H], K.
    pub hot_spot_gradient_c: f64,
    /// Winding hot-spot temperature after the last step [θ_H], °C.
    pub hot_spot_c: f64,
}

impl TransformerTemperatures {
    /// Hot spot θ_H = θ_A + Δθ_TO + Δθ_H for air temperature `ambient_c` (°C), °C.
    pub fn hot_spot_at(&self, ambient_c: f64) -> f64 {
        finite_or(ambient_c, 20.0) + self.top_oil_rise_c + self.hot_spot_gradient_c
    }
}

impl TransformerThermal {
    /// Ultimate (steady-state) rises for per-unit load `k`: (Δθ_TO,U, Δθ_H,U), K.
    /// Δθ_TO,U = Δθ_TO,R·((K²R + 1)/(R + 1))^n and Δθ_H,U = Δθ_H,R·K^(2m).
    pub fn ultimate_rises(&self, loading_pu: f64) -> (f64, f64) {
        // Beyond 5 pu the model (and the transformer) has long failed; cap to stay finite.
        let k = finite_or(loading_pu, 0.0).abs().min(5.0);
        let r = finite_or(self.ratio_load_loss_to_no_load, 5.0).max(0.0);
        let n = finite_or(self.oil_exponent, 0.8).clamp(0.0, 2.0);
        let m = finite_or(self.winding_exponent, 0.8).clamp(0.0, 2.0);
        let to = finite_or(self.rated_top_oil_rise_c, 0.0).max(0.0)
            * ((k * k * r + 1.0) / (r + 1.0)).powf(n);
        let h = finite_or(self.rated_hot_spot_gradient_c, 0.0).max(0.0) * k.powf(2.0 * m);
        (to, h)
    }

    /// State after `dt_min` minutes at per-unit load `loading_pu` (load current / rated) and
    /// air temperature `ambient_c` (°C): each rise moves toward its ultimate value by
    /// 1 − exp(−dt/τ). Non-finite state values restart from the ultimate rises.
    pub fn step(
        &self,
        state: TransformerTemperatures,
        loading_pu: f64,
        ambient_c: f64,
        dt_min: f64,
    ) -> TransformerTemperatures {
        let (to_u, h_u) = self.ultimate_rises(loading_pu);
        let dt = finite_or(dt_min, 0.0).max(0.0);
        let approach = |now: f64, ult: f64, tau: f64| {
            let tau = finite_or(tau, 1.0).max(1e-6);
            // Rises are ≥ 0 and physically far below 1000 K; the bound keeps sums finite.
            let now = finite_or(now, ult).clamp(0.0, 1000.0);
            ult + (now - ult) * (-dt / tau).exp()
        };
        let top_oil = approach(state.top_oil_rise_c, to_u, self.oil_time_constant_min);
        let gradient = approach(
            state.hot_spot_gradient_c,
            h_u,
            self.winding_time_constant_min,
        );
        let next = TransformerTemperatures {
            top_oil_rise_c: top_oil,
            hot_spot_gradient_c: gradient,
            hot_spot_c: 0.0,
        };
        TransformerTemperatures {
            hot_spot_c: next.hot_spot_at(ambient_c),
            ..next
        }
    }
}

/// Accumulated insulation aging, in hours of aging at the reference temperature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossOfLife {
    /// Equivalent aged hours at the reference temperature [F_EQA·t], h.
    pub equivalent_aged_hours: f64,
}

impl LossOfLife {
    /// Add `dt_h` hours at aging acceleration factor `factor` (dimensionless).
    pub fn accumulate(&mut self, factor: f64, dt_h: f64) {
        let add = finite_or(factor, 0.0).max(0.0) * finite_or(dt_h, 0.0).max(0.0);
        self.equivalent_aged_hours =
            finite_or(self.equivalent_aged_hours + add, self.equivalent_aged_hours);
    }

    /// Add `dt_h` hours at transformer hot spot `hot_spot_c` (°C) via
    /// [`aging_acceleration_factor`].
    pub fn accumulate_hot_spot(&mut self, hot_spot_c: f64, dt_h: f64) {
        self.accumulate(aging_acceleration_factor(hot_spot_c), dt_h);
    }

    /// Loss of life as a percentage of a normal life `normal_life_h` (h), % (C57.91 eq. 6).
    pub fn percent_of(&self, normal_life_h: f64) -> f64 {
        if !(normal_life_h.is_finite() && normal_life_h > 0.0) {
            return 0.0;
        }
        self.equivalent_aged_hours * 100.0 / normal_life_h
    }

    /// Transformer loss of life against [`NORMAL_INSULATION_LIFE_H`], %.
    pub fn percent_loss_of_life(&self) -> f64 {
        self.percent_of(NORMAL_INSULATION_LIFE_H)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn aging_factor_reference_points() {
        assert!((aging_acceleration_factor(110.0) - 1.0).abs() < 1e-12);
        // exp(15000/383 − 15000/393) = exp(0.99654) = 2.7089 (closed form).
        let f120 = aging_acceleration_factor(120.0);
        assert!((f120 - (15_000.0f64 / 383.0 - 15_000.0 / 393.0).exp()).abs() < 1e-12);
        assert!((f120 - 2.709).abs() < 1e-3);
        // exp(39.1645 − 42.4929) = 0.0358 at 80 °C (C57.91 Fig. 2 curve ≈ 0.036).
        assert!((aging_acceleration_factor(80.0) - 0.0358).abs() < 5e-4);
        assert_eq!(aging_acceleration_factor(f64::NAN), 0.0);
    }

    #[test]
    fn rated_load_at_30c_gives_110c_hot_spot() {
        let t = TransformerThermal::default();
        let mut s = TransformerTemperatures::default();
        for _ in 0..2000 {
            s = t.step(s, 1.0, 30.0, 1.0);
        }
        assert!((s.top_oil_rise_c - 55.0).abs() < 1e-3);
        assert!((s.hot_spot_gradient_c - 25.0).abs() < 1e-9);
        assert!((s.hot_spot_c - 110.0).abs() < 1e-3);
    }

    #[test]
    fn first_order_response() {
        // After one oil time constant the rise covers 1 − e⁻¹ = 63.2 % of the step.
        let t = TransformerThermal::default();
        let s = t.step(TransformerTemperatures::default(), 1.0, 20.0, 180.0);
        assert!((s.top_oil_rise_c - 55.0 * (1.0 - (-1.0f64).exp())).abs() < 1e-9);
        // One long step equals many short ones (exact exponential update).
        let mut m = TransformerTemperatures::default();
        for _ in 0..180 {
            m = t.step(m, 1.0, 20.0, 1.0);
        }
        assert!((m.top_oil_rise_c - s.top_oil_rise_c).abs() < 1e-9);
    }

    #[test]
    fn no_load_rise() {
        // K = 0: Δθ_TO,U = 55·(1/6)^0.8 (only core losses heat the oil).
        let (to, h) = TransformerThermal::default().ultimate_rises(0.0);
        assert!((to - 55.0 * (1.0f64 / 6.0).powf(0.8)).abs() < 1e-12);
        assert_eq!(h, 0.0);
    }

    #[test]
    fn one_day_at_110c_costs_24_hours() {
        let mut l = LossOfLife::default();
        for _ in 0..1440 {
            l.accumulate_hot_spot(110.0, 1.0 / 60.0);
        }
        assert!((l.equivalent_aged_hours - 24.0).abs() < 1e-9);
        assert!((l.percent_loss_of_life() - 2400.0 / 180_000.0).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn step_finite(k in proptest::num::f64::ANY, a in proptest::num::f64::ANY,
                       dt in proptest::num::f64::ANY, to in proptest::num::f64::ANY) {
            let t = TransformerThermal::default();
            let s = TransformerTemperatures { top_oil_rise_c: to, ..Default::default() };
            let n = t.step(s, k, a, dt);
            prop_assert!(n.top_oil_rise_c.is_finite() && n.hot_spot_gradient_c.is_finite());
            prop_assert!(n.hot_spot_c.is_finite());
            prop_assert!(aging_acceleration_factor(n.hot_spot_c).is_finite());
        }
    }
}
