//! Battery energy storage: power limits from state of charge and the state-of-charge update.
//!
//! Sign convention: AC power at the battery terminals, positive when discharging into the
//! grid, negative when charging. State of charge (SoC) is a fraction of the present,
//! possibly faded, capacity `energy_kwh · capacity_factor`.

use serde::{Deserialize, Serialize};

use crate::solar::finite_or;

/// Typical Li-ion self-discharge including BMS standby draw, fraction of stored energy per
/// day (0.1 %/day ≈ 3 %/month; cells alone lose 1–2 %/month).
pub const DEFAULT_SELF_DISCHARGE_PER_DAY: f64 = 0.001;

/// A battery with its inverter, described by nameplate and efficiencies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Battery {
    /// Usable nameplate energy when new (SoC 0 → 1), kWh.
    pub energy_kwh: f64,
    /// Inverter power rating, both directions, kW (AC).
    pub power_kw: f64,
    /// AC-to-stored energy efficiency while charging, fraction 0..=1.
    pub charge_efficiency: f64,
    /// Stored-to-AC energy efficiency while discharging, fraction 0..=1.
    pub discharge_efficiency: f64,
    /// Lowest state of charge the controller allows, fraction 0..=1.
    pub soc_min: f64,
    /// Highest state of charge the controller allows, fraction 0..=1.
    pub soc_max: f64,
    /// Self-discharge, fraction of stored energy lost per day.
    pub self_discharge_per_day: f64,
}

impl Default for Battery {
    /// A 13.5 kWh / 5 kW home battery with 95 %/95 % efficiencies (≈ 90 % round trip).
    fn default() -> Self {
        Self::new(13.5, 5.0)
    }
}

/// Sanitised view of a battery: all fields finite and in range, so the arithmetic is safe.
struct Clean {
    capacity_kwh: f64,
    power_kw: f64,
    eta_c: f64,
    eta_d: f64,
    soc_min: f64,
    soc_max: f64,
    self_discharge: f64,
}

impl Battery {
    /// A battery of `energy_kwh` usable kWh and `power_kw` kW with 95 % charge and discharge
    /// efficiency, the full 0..1 SoC window (the nameplate is already the usable window) and
    /// [`DEFAULT_SELF_DISCHARGE_PER_DAY`].
    pub fn new(energy_kwh: f64, power_kw: f64) -> Self {
        Self {
            energy_kwh,
            power_kw,
            charge_efficiency: 0.95,
            discharge_efficiency: 0.95,
            soc_min: 0.0,
            soc_max: 1.0,
            self_discharge_per_day: DEFAULT_SELF_DISCHARGE_PER_DAY,
        }
    }

    /// Round-trip AC-to-AC efficiency ηc·ηd, fraction.
    pub fn round_trip_efficiency(&self) -> f64 {
        let c = self.clean(1.0);
        c.eta_c * c.eta_d
    }

    fn clean(&self, capacity_factor: f64) -> Clean {
        let soc_min = finite_or(self.soc_min, 0.0).clamp(0.0, 1.0);
        let soc_max = finite_or(self.soc_max, 1.0).clamp(soc_min, 1.0);
        // A non-finite fade factor most likely means "unknown": assume new.
        let cf = finite_or(capacity_factor, 1.0).clamp(0.0, 1.0);
        Clean {
            capacity_kwh: finite_or(self.energy_kwh, 0.0).max(0.0) * cf,
            power_kw: finite_or(self.power_kw, 0.0).max(0.0),
            eta_c: finite_or(self.charge_efficiency, 1.0).clamp(0.0, 1.0),
            eta_d: finite_or(self.discharge_efficiency, 1.0).clamp(0.0, 1.0),
            soc_min,
            soc_max,
            self_discharge: finite_or(self.self_discharge_per_day, 0.0).clamp(0.0, 1.0),
        }
    }

    /// Present capacity `energy_kwh · capacity_factor` (factor clamped to 0..=1), kWh.
    pub fn capacity_kwh(&self, capacity_factor: f64) -> f64 {
        self.clean(capacity_factor).capacity_kwh
    }

    /// Largest AC discharge power sustainable for `dt_h` hours from `soc` (fraction), kW:
    /// the power rating, or the energy above `soc_min` times ηd spread over `dt_h`.
    pub fn max_discharge_kw(&self, soc: f64, capacity_factor: f64, dt_h: f64) -> f64 {
        let c = self.clean(capacity_factor);
        let soc = finite_or(soc, c.soc_min);
        if !(dt_h.is_finite() && dt_h > 0.0) {
            return 0.0;
        }
        let energy_ac = (soc - c.soc_min).max(0.0) * c.capacity_kwh * c.eta_d;
        finite_or((energy_ac / dt_h).min(c.power_kw), 0.0)
    }

    /// Largest AC charge power (a positive number) acceptable for `dt_h` hours at `soc`, kW:
    /// the power rating, or the headroom below `soc_max` divided by ηc over `dt_h`.
    pub fn max_charge_kw(&self, soc: f64, capacity_factor: f64, dt_h: f64) -> f64 {
        let c = self.clean(capacity_factor);
        let soc = finite_or(soc, c.soc_max);
        if !(dt_h.is_finite() && dt_h > 0.0) || c.eta_c <= 0.0 {
            return 0.0;
        }
        let energy_ac = (c.soc_max - soc).max(0.0) * c.capacity_kwh / c.eta_c;
        finite_or((energy_ac / dt_h).min(c.power_kw), 0.0)
    }

    /// State of charge after `dt_h` hours at AC power `p_kw` (kW, + discharging, − charging),
    /// fraction. The power is first limited by [`Self::max_charge_kw`] and
    /// [`Self::max_discharge_kw`]; stored energy then changes by −p·dt/ηd or +|p|·dt·ηc and
    /// decays by self-discharge. The result stays in [`soc_min`, `soc_max`]: the controller
    /// floor also stops self-discharge from pulling it lower (a simplification worth
    /// < 0.1 %/day). A non-finite `soc` is read as `soc_min`.
    ///
    /// [`soc_min`]: Battery::soc_min
    /// [`soc_max`]: Battery::soc_max
    pub fn step(&self, soc: f64, capacity_factor: f64, p_kw: f64, dt_h: f64) -> f64 {
        let c = self.clean(capacity_factor);
        let soc0 = finite_or(soc, c.soc_min);
        if !(dt_h.is_finite() && dt_h > 0.0) || c.capacity_kwh <= 0.0 {
            return soc0.clamp(c.soc_min, c.soc_max);
        }
        let p = finite_or(p_kw, 0.0).clamp(
            -self.max_charge_kw(soc0, capacity_factor, dt_h),
            self.max_discharge_kw(soc0, capacity_factor, dt_h),
        );
        let stored_delta_kwh = if p >= 0.0 {
            if c.eta_d > 0.0 {
                -p * dt_h / c.eta_d
            } else {
                0.0
            }
        } else {
            -p * dt_h * c.eta_c
        };
        let soc1 = soc0 + stored_delta_kwh / c.capacity_kwh;
        let keep = (1.0 - c.self_discharge).powf(dt_h / 24.0);
        finite_or(soc1 * keep, c.soc_min).clamp(c.soc_min, c.soc_max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lossless_idle() -> Battery {
        Battery {
            self_discharge_per_day: 0.0,
            ..Battery::new(10.0, 5.0)
        }
    }

    #[test]
    fn round_trip_is_product_of_efficiencies() {
        let b = Battery {
            charge_efficiency: 0.96,
            discharge_efficiency: 0.94,
            ..lossless_idle()
        };
        // Charge 4 kWh AC from empty, then discharge until empty; count the AC out.
        let soc = b.step(0.0, 1.0, -4.0, 1.0);
        let mut soc2 = soc;
        let mut out_kwh = 0.0;
        let dt = 0.25;
        for _ in 0..40 {
            let p = b.max_discharge_kw(soc2, 1.0, dt);
            out_kwh += p * dt;
            soc2 = b.step(soc2, 1.0, p, dt);
        }
        assert!(soc2.abs() < 1e-12);
        assert!((out_kwh / 4.0 - 0.96 * 0.94).abs() < 1e-12);
        assert!((b.round_trip_efficiency() - 0.96 * 0.94).abs() < 1e-15);
    }

    #[test]
    fn charge_step_conserves_energy() {
        // ΔSoC·capacity = P·dt·ηc, with a faded capacity.
        let b = lossless_idle();
        let cf = 0.85;
        let soc1 = b.step(0.3, cf, -2.0, 0.5);
        let stored = (soc1 - 0.3) * 10.0 * cf;
        assert!((stored - 2.0 * 0.5 * 0.95).abs() < 1e-12);
    }

    #[test]
    fn limits_from_energy_and_power() {
        let b = Battery {
            soc_min: 0.1,
            soc_max: 0.9,
            ..lossless_idle()
        };
        // Energy-limited: (0.2 − 0.1)·10 kWh·0.95 over 1 h = 0.95 kW.
        assert!((b.max_discharge_kw(0.2, 1.0, 1.0) - 0.95).abs() < 1e-12);
        // Power-limited over a short step.
        assert_eq!(b.max_discharge_kw(0.8, 1.0, 1.0 / 60.0), 5.0);
        // Headroom (0.9 − 0.8)·10 / 0.95 over 1 h.
        assert!((b.max_charge_kw(0.8, 1.0, 1.0) - 1.0 / 0.95).abs() < 1e-12);
        assert_eq!(b.max_discharge_kw(0.05, 1.0, 1.0), 0.0);
        assert_eq!(b.max_charge_kw(0.95, 1.0, 1.0), 0.0);
    }

    #[test]
    fn self_discharge_rate() {
        let b = Battery::new(10.0, 5.0);
        let soc = b.step(0.8, 1.0, 0.0, 24.0);
        assert!((soc - 0.8 * (1.0 - DEFAULT_SELF_DISCHARGE_PER_DAY)).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn never_leaves_limits(
            soc in proptest::num::f64::ANY,
            cf in proptest::num::f64::ANY,
            p in proptest::num::f64::ANY,
            dt in proptest::num::f64::ANY,
        ) {
            let b = Battery { soc_min: 0.1, soc_max: 0.9, ..Battery::default() };
            let s = b.step(soc, cf, p, dt);
            prop_assert!((0.1..=0.9).contains(&s));
            let d = b.max_discharge_kw(soc, cf, dt);
            let c = b.max_charge_kw(soc, cf, dt);
            prop_assert!((0.0..=5.0).contains(&d) && (0.0..=5.0).contains(&c));
        }

        #[test]
        fn sequences_stay_in_window(powers in proptest::collection::vec(-20.0f64..20.0, 1..200)) {
            let b = Battery { soc_min: 0.2, soc_max: 0.8, ..Battery::default() };
            let mut soc = 0.5;
            for p in powers {
                soc = b.step(soc, 0.9, p, 1.0 / 60.0);
                prop_assert!((0.2..=0.8).contains(&soc));
            }
        }
    }
}
