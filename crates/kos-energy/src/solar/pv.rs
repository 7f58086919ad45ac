//! Photovoltaic array: NOCT cell temperature, temperature derating and inverter clipping.

use serde::{Deserialize, Serialize};

use super::finite_or;

/// Irradiance of standard test conditions (STC), W/m2.
const STC_IRRADIANCE_W_M2: f64 = 1000.0;
/// Cell temperature of standard test conditions, °C.
const STC_CELL_C: f64 = 25.0;
/// Irradiance of the NOCT test condition, W/m2.
const NOCT_IRRADIANCE_W_M2: f64 = 800.0;
/// Ambient temperature of the NOCT test condition, °C.
const NOCT_AMBIENT_C: f64 = 20.0;

/// A PV array with its inverter.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvArray {
    /// DC nameplate at standard test conditions (1000 W/m2, 25 °C cell), kW.
    pub dc_rating_kw: f64,
    /// Inverter AC output limit, kW.
    pub inverter_kw: f64,
    /// Power temperature coefficient γ, per °C (crystalline silicon ≈ −0.004 /°C).
    pub temp_coeff_per_c: f64,
    /// Nominal operating cell temperature (800 W/m2, 20 °C air, 1 m/s wind), °C.
    pub noct_c: f64,
    /// DC-to-AC inverter efficiency, fraction 0..=1.
    pub inverter_efficiency: f64,
}

impl Default for PvArray {
    /// A 10 kW residential-scale array on a 10 kW inverter with typical c-Si coefficients.
    fn default() -> Self {
        Self::new(10.0, 10.0)
    }
}

impl PvArray {
    /// An array of `dc_rating_kw` (kW DC at STC) on an inverter of `inverter_kw` (kW AC) with
    /// γ = −0.004 /°C, NOCT 45 °C and 96 % inverter efficiency.
    pub fn new(dc_rating_kw: f64, inverter_kw: f64) -> Self {
        Self {
            dc_rating_kw,
            inverter_kw,
            temp_coeff_per_c: -0.004,
            noct_c: 45.0,
            inverter_efficiency: 0.96,
        }
    }

    /// Cell temperature by the NOCT model, °C, from plane-of-array irradiance `poa_w_m2`
    /// (W/m2), air temperature `ambient_c` (°C) and wind speed `wind_m_s` (m/s):
    /// Tc = Ta + (NOCT − 20)/800 · POA · 9.5/(5.7 + 3.8·v).
    ///
    /// The wind factor is the convection coefficient ratio of Duffie & Beckman (§23.3,
    /// h_w = 5.7 + 3.8·v W/m2K) relative to the 1 m/s of the NOCT test, so it equals 1 at
    /// NOCT conditions. Non-finite wind is taken as that 1 m/s; non-finite air as 20 °C.
    pub fn cell_temperature_c(&self, poa_w_m2: f64, ambient_c: f64, wind_m_s: f64) -> f64 {
        let poa = finite_or(poa_w_m2, 0.0).clamp(0.0, 2000.0);
        let ta = finite_or(ambient_c, NOCT_AMBIENT_C).clamp(-90.0, 70.0);
        let v = finite_or(wind_m_s, 1.0).clamp(0.0, 100.0);
        let noct = finite_or(self.noct_c, 45.0);
        let wind_factor = 9.5 / (5.7 + 3.8 * v);
        ta + (noct - NOCT_AMBIENT_C) / NOCT_IRRADIANCE_W_M2 * poa * wind_factor
    }

    /// AC output at a known cell temperature `cell_c` (°C) and irradiance `poa_w_m2` (W/m2),
    /// kW: DC = rating·POA/1000·(1 + γ(Tc − 25)), then inverter efficiency and clipping.
    pub fn ac_power_at_cell_kw(&self, poa_w_m2: f64, cell_c: f64) -> f64 {
        let poa = finite_or(poa_w_m2, 0.0).clamp(0.0, 2000.0);
        if poa <= 0.0 {
            return 0.0;
        }
        let rating = finite_or(self.dc_rating_kw, 0.0).max(0.0);
        let gamma = finite_or(self.temp_coeff_per_c, 0.0);
        let tc = finite_or(cell_c, STC_CELL_C).clamp(-100.0, 150.0);
        let derate = (1.0 + gamma * (tc - STC_CELL_C)).max(0.0);
        let dc = rating * poa / STC_IRRADIANCE_W_M2 * derate;
        let eta = finite_or(self.inverter_efficiency, 0.0).clamp(0.0, 1.0);
        let limit = finite_or(self.inverter_kw, 0.0).max(0.0);
        (dc * eta).min(limit)
    }

    /// AC output, kW, from plane-of-array irradiance (W/m2), air temperature (°C) and wind
    /// speed (m/s) via [`Self::cell_temperature_c`]; 0 at night, never above `inverter_kw`.
    pub fn ac_power_kw(&self, poa_w_m2: f64, ambient_c: f64, wind_m_s: f64) -> f64 {
        let tc = self.cell_temperature_c(poa_w_m2, ambient_c, wind_m_s);
        self.ac_power_at_cell_kw(poa_w_m2, tc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stc_output_is_rating_times_efficiency() {
        let pv = PvArray::new(10.0, 12.0);
        // Cell at 25 °C: derating factor exactly 1.
        assert!((pv.ac_power_at_cell_kw(1000.0, 25.0) - 9.6).abs() < 1e-12);
        // NOCT model: 1000 W/m2 at 1 m/s heats the cell (45−20)/800·1000 = 31.25 K, so
        // ambient −6.25 °C gives a 25 °C cell.
        assert!((pv.cell_temperature_c(1000.0, -6.25, 1.0) - 25.0).abs() < 1e-12);
        assert!((pv.ac_power_kw(1000.0, -6.25, 1.0) - 9.6).abs() < 1e-12);
    }

    #[test]
    fn noct_condition_reproduces_noct() {
        let pv = PvArray::default();
        assert!((pv.cell_temperature_c(800.0, 20.0, 1.0) - 45.0).abs() < 1e-12);
        // More wind cools the cell.
        assert!(pv.cell_temperature_c(800.0, 20.0, 5.0) < 45.0);
    }

    #[test]
    fn inverter_clips() {
        let pv = PvArray::new(12.0, 10.0);
        assert_eq!(pv.ac_power_at_cell_kw(1000.0, 25.0), 10.0);
        assert!(pv.ac_power_at_cell_kw(500.0, 25.0) < 10.0);
    }

    #[test]
    fn hot_cells_derate() {
        let pv = PvArray::new(10.0, 20.0);
        // 50 °C cell: 1 − 0.004·25 = 0.9.
        assert!((pv.ac_power_at_cell_kw(1000.0, 50.0) - 10.0 * 0.96 * 0.9).abs() < 1e-12);
    }

    #[test]
    fn zero_at_night() {
        let pv = PvArray::default();
        assert_eq!(pv.ac_power_kw(0.0, 10.0, 3.0), 0.0);
        assert_eq!(pv.ac_power_kw(f64::NAN, 10.0, 3.0), 0.0);
    }

    proptest! {
        #[test]
        fn output_bounded(
            poa in proptest::num::f64::ANY,
            ta in proptest::num::f64::ANY,
            v in proptest::num::f64::ANY,
        ) {
            let pv = PvArray::new(8.0, 6.0);
            let p = pv.ac_power_kw(poa, ta, v);
            prop_assert!(p.is_finite() && (0.0..=6.0).contains(&p));
            prop_assert!(pv.cell_temperature_c(poa, ta, v).is_finite());
        }
    }
}
