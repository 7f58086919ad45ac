//! Dispatchable thermal units (diesel/biogas gensets, CHP) and their fuel stock.
//!
//! Commitment rule used throughout:
//! * A unit that is **off** may stay off (0 kW) or start; a start synchronises and loads
//!   to at least minimum stable load within one step, then ramps from there, so the first
//!   step can reach `max(min load, ramp·dt)` (capped at rated).
//! * A unit that is **running** moves within its ramp limits but never below minimum
//!   stable load; the only way to 0 kW is to **stop** (asking for ≤ 0 kW), which is
//!   allowed from any load, as a real genset can open its breaker and shut down.

use serde::{Deserialize, Serialize};

use crate::solar::finite_or;

/// A dispatchable generator with minimum stable load and ramp limits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThermalUnit {
    /// Rated electrical output, kW.
    pub rated_kw: f64,
    /// Minimum stable load while running, fraction of rated 0..=1 (diesel ≈ 0.3).
    pub min_load: f64,
    /// Ramp limit up and down while running, kW per minute (non-finite = unlimited).
    pub ramp_kw_per_min: f64,
}

impl ThermalUnit {
    fn rated(&self) -> f64 {
        finite_or(self.rated_kw, 0.0).max(0.0)
    }

    /// Minimum stable output while running, kW.
    pub fn min_kw(&self) -> f64 {
        self.rated() * finite_or(self.min_load, 0.0).clamp(0.0, 1.0)
    }

    fn ramp_kw(&self, dt_min: f64) -> f64 {
        let dt = finite_or(dt_min, 0.0).max(0.0);
        if self.ramp_kw_per_min.is_finite() {
            self.ramp_kw_per_min.max(0.0) * dt
        } else {
            f64::INFINITY
        }
    }

    /// Lowest and highest output (kW) reachable in the next step of `dt_min` minutes from
    /// `previous_kw` (kW) while **running** (`running = true`), or on **starting**
    /// (`running = false`; the unit may also stay at 0, see the module rule). For a running
    /// unit the range excludes stopping to 0 kW.
    pub fn feasible(&self, previous_kw: f64, dt_min: f64, running: bool) -> (f64, f64) {
        let rated = self.rated();
        let min = self.min_kw();
        let ramp = self.ramp_kw(dt_min);
        if running {
            let prev = finite_or(previous_kw, min).clamp(min, rated);
            let lo = (prev - ramp).max(min);
            let hi = (prev + ramp).min(rated);
            (lo, hi.max(lo))
        } else {
            (min, ramp.max(min).min(rated))
        }
    }

    /// Output (kW) the unit actually delivers when `wanted_kw` (kW) is asked after running
    /// at `previous_kw` (kW; 0 = off) for one step of `dt_min` minutes. Asking ≤ 0 (or NaN)
    /// stops or keeps the unit off; a small positive request runs it at minimum load.
    pub fn clamp(&self, wanted_kw: f64, previous_kw: f64, dt_min: f64) -> f64 {
        let wanted = finite_or(wanted_kw, 0.0);
        if wanted <= 0.0 || self.rated() <= 0.0 {
            return 0.0;
        }
        let running = finite_or(previous_kw, 0.0) > 0.0;
        let (lo, hi) = self.feasible(previous_kw, dt_min, running);
        wanted.clamp(lo, hi)
    }
}

/// A fuel stock (diesel tank, biogas holder) measured in energy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FuelStock {
    /// Remaining energy, kWh (in whatever energy basis the caller draws in, usually kWh of
    /// electrical output, i.e. fuel energy × generator efficiency).
    pub kwh: f64,
}

impl FuelStock {
    /// Draw `kw` (kW) for `dt_h` hours; returns the energy actually supplied, kWh, which is
    /// less than asked when the stock runs out. The stock never goes below 0.
    pub fn draw(&mut self, kw: f64, dt_h: f64) -> f64 {
        let stock = finite_or(self.kwh, 0.0).max(0.0);
        let wanted = finite_or(kw * dt_h, 0.0).max(0.0);
        let got = wanted.min(stock);
        self.kwh = stock - got;
        got
    }

    /// Days the stock lasts at a mean draw of `mean_kw` (kW), days; `None` when nothing is
    /// drawn (it lasts forever) or the draw is not a finite positive number.
    pub fn days_remaining(&self, mean_kw: f64) -> Option<f64> {
        if !(mean_kw.is_finite() && mean_kw > 0.0) {
            return None;
        }
        Some(finite_or(self.kwh, 0.0).max(0.0) / mean_kw / 24.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn genset() -> ThermalUnit {
        ThermalUnit {
            rated_kw: 100.0,
            min_load: 0.3,
            ramp_kw_per_min: 10.0,
        }
    }

    #[test]
    fn running_ramp_window() {
        assert_eq!(genset().feasible(50.0, 1.0, true), (40.0, 60.0));
        // Ramp down stops at minimum stable load.
        assert_eq!(genset().feasible(35.0, 1.0, true), (30.0, 45.0));
        assert_eq!(genset().feasible(95.0, 1.0, true), (85.0, 100.0));
    }

    #[test]
    fn starting_reaches_min_load() {
        assert_eq!(genset().feasible(0.0, 1.0, false), (30.0, 30.0));
        assert_eq!(genset().feasible(0.0, 5.0, false), (30.0, 50.0));
    }

    #[test]
    fn clamp_rules() {
        let g = genset();
        assert_eq!(g.clamp(0.0, 50.0, 1.0), 0.0); // stop
        assert_eq!(g.clamp(10.0, 0.0, 1.0), 30.0); // start at min load
        assert_eq!(g.clamp(100.0, 50.0, 1.0), 60.0); // ramp-limited
        assert_eq!(g.clamp(f64::NAN, 50.0, 1.0), 0.0);
    }

    #[test]
    fn fuel_runs_out() {
        let mut f = FuelStock { kwh: 10.0 };
        assert_eq!(f.draw(4.0, 2.0), 8.0);
        assert_eq!(f.draw(4.0, 2.0), 2.0);
        assert_eq!(f.kwh, 0.0);
        assert_eq!(f.draw(4.0, 2.0), 0.0);
        assert_eq!(FuelStock { kwh: 480.0 }.days_remaining(10.0), Some(2.0));
        assert_eq!(FuelStock { kwh: 480.0 }.days_remaining(0.0), None);
    }

    proptest! {
        #[test]
        fn clamp_within_rating(w in proptest::num::f64::ANY, p in proptest::num::f64::ANY,
                               dt in proptest::num::f64::ANY) {
            let out = genset().clamp(w, p, dt);
            prop_assert!(out == 0.0 || (30.0..=100.0).contains(&out));
        }

        #[test]
        fn fuel_never_negative(draws in proptest::collection::vec((-10.0f64..50.0, 0.0f64..2.0), 0..50)) {
            let mut f = FuelStock { kwh: 100.0 };
            let mut total = 0.0;
            for (kw, dt) in draws {
                total += f.draw(kw, dt);
                prop_assert!(f.kwh >= 0.0);
            }
            prop_assert!((total + f.kwh - 100.0).abs() < 1e-9);
        }
    }
}
