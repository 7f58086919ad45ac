//! Battery capacity fade: cycle aging from rainflow-counted depth of discharge on a Wöhler
//! (DoD–cycle life) curve, plus calendar aging, combined additively.

use serde::{Deserialize, Serialize};

use super::rainflow::Cycle;
use crate::solar::finite_or;

/// Hours per year (Julian year), h.
const HOURS_PER_YEAR: f64 = 8766.0;

/// Aging parameters of a Li-ion battery.
///
/// Defaults are typical of stationary LFP cells: 4000 full cycles at 100 % DoD to 80 %
/// capacity (datasheets quote 3000–6000 for LFP, 1000–2000 for NMC), Wöhler exponent 1.5
/// (fits of published DoD–life data fall between ≈ 1.1 and 2.2), and 2 %/year calendar
/// fade at 25 °C, doubling every 10 K (Arrhenius rule of thumb for SEI growth).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatteryAging {
    /// Cycle life at 100 % depth of discharge until end of life [N_100], cycles.
    pub cycles_at_full_dod: f64,
    /// Wöhler exponent k in N(DoD) = N_100·DoD^(−k), dimensionless.
    pub wohler_exponent: f64,
    /// Capacity lost at end of life, fraction (0.2: end of life at 80 % capacity).
    pub end_of_life_fade: f64,
    /// Calendar fade at `reference_temperature_c`, fraction per year.
    pub calendar_fade_per_year: f64,
    /// Temperature at which `calendar_fade_per_year` applies, °C.
    pub reference_temperature_c: f64,
    /// Temperature rise that doubles the calendar fade rate, K.
    pub doubling_interval_c: f64,
}

impl Default for BatteryAging {
    fn default() -> Self {
        Self {
            cycles_at_full_dod: 4000.0,
            wohler_exponent: 1.5,
            end_of_life_fade: 0.2,
            calendar_fade_per_year: 0.02,
            reference_temperature_c: 25.0,
            doubling_interval_c: 10.0,
        }
    }
}

impl BatteryAging {
    /// Cycles to end of life at depth of discharge `dod` (fraction 0..=1),
    /// N = N_100·DoD^(−k), cycles; infinite for DoD 0.
    pub fn cycles_to_end_of_life(&self, dod: f64) -> f64 {
        let d = finite_or(dod, 0.0).abs().min(1.0);
        if d <= 0.0 {
            return f64::INFINITY;
        }
        let n100 = finite_or(self.cycles_at_full_dod, 1.0).max(1.0);
        let k = finite_or(self.wohler_exponent, 1.5).clamp(0.0, 10.0);
        n100 * d.powf(-k)
    }

    /// Capacity fade caused by one counted cycle (its range is the DoD as a SoC fraction),
    /// fraction: count / N(range) × end-of-life fade (Palmgren–Miner linear damage).
    pub fn cycle_fade(&self, cycle: &Cycle) -> f64 {
        let n = self.cycles_to_end_of_life(cycle.range);
        let count = finite_or(cycle.count, 0.0).max(0.0);
        let eol = finite_or(self.end_of_life_fade, 0.2).clamp(0.0, 1.0);
        finite_or(count / n * eol, 0.0)
    }

    /// Calendar fade over `dt_h` hours at cell temperature `temperature_c` (°C), fraction.
    /// Linear in time (a simplification of the √t law that overstates early fade slightly).
    pub fn calendar_fade(&self, dt_h: f64, temperature_c: f64) -> f64 {
        let dt = finite_or(dt_h, 0.0).max(0.0);
        let t_ref = finite_or(self.reference_temperature_c, 25.0);
        let t = finite_or(temperature_c, t_ref).clamp(-40.0, 80.0);
        let doubling = finite_or(self.doubling_interval_c, 10.0).max(1.0);
        let rate = finite_or(self.calendar_fade_per_year, 0.0).max(0.0);
        finite_or(
            rate * dt / HOURS_PER_YEAR * 2f64.powf((t - t_ref) / doubling),
            0.0,
        )
    }
}

/// Accumulated capacity fade of one battery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BatteryWear {
    /// Fade from cycling, fraction of nameplate capacity.
    pub cycle_fade: f64,
    /// Fade from calendar aging, fraction of nameplate capacity.
    pub calendar_fade: f64,
}

impl BatteryWear {
    /// Remaining capacity as a fraction of new, 1 − cycle fade − calendar fade, clamped to
    /// 0..=1 (1.0 new, 0.8 at the default end of life).
    pub fn capacity_factor(&self) -> f64 {
        finite_or(1.0 - self.cycle_fade - self.calendar_fade, 0.0).clamp(0.0, 1.0)
    }

    /// Add the fade of rainflow-counted SoC cycles.
    pub fn add_cycles(&mut self, model: &BatteryAging, cycles: &[Cycle]) {
        let add: f64 = cycles.iter().map(|c| model.cycle_fade(c)).sum();
        self.cycle_fade = finite_or(self.cycle_fade + add, self.cycle_fade);
    }

    /// Add calendar fade for `dt_h` hours at `temperature_c` (°C).
    pub fn add_calendar(&mut self, model: &BatteryAging, dt_h: f64, temperature_c: f64) {
        let add = model.calendar_fade(dt_h, temperature_c);
        self.calendar_fade = finite_or(self.calendar_fade + add, self.calendar_fade);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wear::rainflow;

    #[test]
    fn wohler_curve_closed_form() {
        let m = BatteryAging::default();
        assert_eq!(m.cycles_to_end_of_life(1.0), 4000.0);
        // Half depth: 4000·0.5^−1.5 = 4000·2√2 = 11 313.7 cycles.
        assert!((m.cycles_to_end_of_life(0.5) - 4000.0 * 2.0 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(m.cycles_to_end_of_life(0.0), f64::INFINITY);
    }

    #[test]
    fn n100_full_cycles_reach_end_of_life() {
        // Rainflow on 4000 full 0 → 1 → 0 swings gives 4000 cycles of range 1: 80 % left.
        let m = BatteryAging {
            calendar_fade_per_year: 0.0,
            ..BatteryAging::default()
        };
        let mut series = vec![0.0];
        for _ in 0..4000 {
            series.extend([1.0, 0.0]);
        }
        let mut w = BatteryWear::default();
        w.add_cycles(&m, &rainflow(&series));
        assert!((w.capacity_factor() - 0.8).abs() < 1e-9);
    }

    #[test]
    fn calendar_aging_and_temperature() {
        let m = BatteryAging::default();
        let mut w = BatteryWear::default();
        w.add_calendar(&m, 8766.0, 25.0);
        assert!((w.capacity_factor() - 0.98).abs() < 1e-12);
        assert!((m.calendar_fade(8766.0, 35.0) - 0.04).abs() < 1e-12);
        assert_eq!(m.calendar_fade(f64::NAN, 25.0), 0.0);
    }

    #[test]
    fn capacity_factor_never_negative() {
        let w = BatteryWear {
            cycle_fade: 0.9,
            calendar_fade: 0.5,
        };
        assert_eq!(w.capacity_factor(), 0.0);
    }
}
