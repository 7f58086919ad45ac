//! Generator duty counters: running hours and starts, the basis of service intervals.

use serde::{Deserialize, Serialize};

/// Running hours and number of starts of a generator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCounter {
    /// Total hours spent running, h.
    pub run_hours: f64,
    /// Number of off → on transitions, starts.
    pub starts: u64,
    /// Whether the unit was running after the last step.
    pub running: bool,
}

impl RunCounter {
    /// Advance by `dt_h` hours (non-finite or negative counts as 0) with the unit `running`
    /// during the step; an off → on transition counts one start.
    pub fn step(&mut self, running: bool, dt_h: f64) {
        if running && !self.running {
            self.starts = self.starts.saturating_add(1);
        }
        if running && dt_h.is_finite() && dt_h > 0.0 {
            self.run_hours += dt_h;
        }
        self.running = running;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_starts_and_hours() {
        let mut c = RunCounter::default();
        let pattern = [false, true, true, false, true, false, false, true];
        for on in pattern {
            c.step(on, 0.5);
        }
        assert_eq!(c.starts, 3);
        assert!((c.run_hours - 2.0).abs() < 1e-12);
        c.step(true, f64::NAN);
        assert!((c.run_hours - 2.0).abs() < 1e-12);
        assert_eq!(c.starts, 3);
    }
}
