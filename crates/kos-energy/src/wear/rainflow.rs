//! Rainflow cycle counting, ASTM E1049-85 (reapproved 2011) §5.4.4, three-point method.
//!
//! [`RainflowCounter`] is the incremental form: feed one sample per tick (e.g. battery SoC
//! each minute) and it returns the cycles each sample closes. Only the residue (the
//! reversals not yet paired) is kept, capped at [`MAX_RESIDUE`] points.

use serde::{Deserialize, Serialize};

/// Largest residue the incremental counter keeps, points. Real SoC histories keep a few
/// dozen; beyond the cap the oldest reversal is retired as a half cycle, which is what
/// the standard does with residue at the end of a record anyway.
pub const MAX_RESIDUE: usize = 512;

/// One counted cycle or half cycle.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    /// Range between the two reversals, in the unit of the series (SoC fraction for DoD).
    pub range: f64,
    /// Mean of the two reversals, in the unit of the series.
    pub mean: f64,
    /// 1.0 for a full cycle, 0.5 for a half cycle.
    pub count: f64,
}

impl Cycle {
    fn between(a: f64, b: f64, count: f64) -> Self {
        Self {
            range: (a - b).abs(),
            mean: 0.5 * (a + b),
            count,
        }
    }
}

/// Incremental rainflow counter (ASTM E1049 §5.4.4 applied as reversals arrive).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RainflowCounter {
    /// Confirmed reversals not yet paired; the first is the starting point S.
    residue: Vec<f64>,
    /// Latest sample, a reversal candidate until the direction changes.
    pending: Option<f64>,
}

impl RainflowCounter {
    /// An empty counter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next sample (series unit); returns the cycles it closes. Non-finite samples
    /// are skipped.
    pub fn push(&mut self, sample: f64) -> Vec<Cycle> {
        let mut out = Vec::new();
        if !sample.is_finite() {
            return out;
        }
        let Some(&last) = self.residue.last() else {
            self.residue.push(sample);
            return out;
        };
        match self.pending {
            None => {
                if sample != last {
                    self.pending = Some(sample);
                }
            }
            Some(p) => {
                let rising = p > last;
                let extends = if rising { sample >= p } else { sample <= p };
                if extends {
                    self.pending = Some(sample);
                } else {
                    // Direction changed: the pending point is a reversal.
                    self.confirm(p, &mut out);
                    self.pending = Some(sample);
                }
            }
        }
        out
    }

    /// Push a reversal and apply the three-point rule until it no longer fires.
    fn confirm(&mut self, reversal: f64, out: &mut Vec<Cycle>) {
        self.residue.push(reversal);
        while self.residue.len() >= 3 {
            let n = self.residue.len();
            let (a, b, c) = (
                self.residue[n - 3],
                self.residue[n - 2],
                self.residue[n - 1],
            );
            let x = (c - b).abs();
            let y = (b - a).abs();
            if x < y {
                break;
            }
            if n == 3 {
                // Y contains the starting point: half cycle, drop the start.
                out.push(Cycle::between(a, b, 0.5));
                self.residue.remove(0);
            } else {
                out.push(Cycle::between(a, b, 1.0));
                self.residue.truncate(n - 3);
                self.residue.push(c);
            }
        }
        if self.residue.len() > MAX_RESIDUE {
            let (a, b) = (self.residue[0], self.residue[1]);
            out.push(Cycle::between(a, b, 0.5));
            self.residue.remove(0);
        }
    }

    /// Half cycles still open (residue plus the latest sample), without changing the counter.
    pub fn residue(&self) -> Vec<Cycle> {
        let mut pts = self.residue.clone();
        if let Some(p) = self.pending {
            pts.push(p);
        }
        pts.windows(2)
            .map(|w| Cycle::between(w[0], w[1], 0.5))
            .collect()
    }

    /// Number of reversals held, points (bounded by [`MAX_RESIDUE`] + 1).
    pub fn residue_len(&self) -> usize {
        self.residue.len()
    }

    /// End of record: closes the last sample as a reversal and returns every remaining
    /// cycle, the residue counted as half cycles (ASTM E1049 §5.4.4.3).
    pub fn finish(mut self) -> Vec<Cycle> {
        let mut out = Vec::new();
        if let Some(p) = self.pending.take() {
            self.confirm(p, &mut out);
        }
        out.extend(self.residue());
        out
    }
}

/// All cycles and half cycles of a whole `series` by ASTM E1049 rainflow counting, in the
/// order they are counted. Non-finite samples are skipped.
pub fn rainflow(series: &[f64]) -> Vec<Cycle> {
    let mut counter = RainflowCounter::new();
    let mut out = Vec::new();
    for &x in series {
        out.extend(counter.push(x));
    }
    out.extend(counter.finish());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Sum of counts per range, sorted by range.
    fn histogram(cycles: &[Cycle]) -> Vec<(f64, f64)> {
        let mut h: Vec<(f64, f64)> = Vec::new();
        let mut sorted = cycles.to_vec();
        sorted.sort_by(|a, b| a.range.total_cmp(&b.range));
        for c in sorted {
            match h.last_mut() {
                Some(last) if last.0 == c.range => last.1 += c.count,
                _ => h.push((c.range, c.count)),
            }
        }
        h
    }

    #[test]
    fn astm_e1049_figure_6_example() {
        // ASTM E1049-85 Fig. 6 / Table 4: ranges 3 (½), 4 (1½), 6 (½), 8 (1), 9 (½).
        let cycles = rainflow(&[-2.0, 1.0, -3.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0]);
        assert_eq!(
            histogram(&cycles),
            vec![(3.0, 0.5), (4.0, 1.5), (6.0, 0.5), (8.0, 1.0), (9.0, 0.5)]
        );
        // The one full cycle runs between -1 and 3 (point D–E of the figure), mean 1.
        let full: Vec<_> = cycles.iter().filter(|c| c.count == 1.0).collect();
        assert_eq!(full.len(), 1);
        assert_eq!((full[0].range, full[0].mean), (4.0, 1.0));
    }

    #[test]
    fn plateaus_and_non_reversals_are_ignored() {
        let a = rainflow(&[
            -2.0, -1.0, 1.0, 1.0, -3.0, 0.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0,
        ]);
        let b = rainflow(&[-2.0, 1.0, -3.0, 5.0, -1.0, 3.0, -4.0, 4.0, -2.0]);
        assert_eq!(histogram(&a), histogram(&b));
        assert!(rainflow(&[]).is_empty());
        assert!(rainflow(&[0.5, 0.5, f64::NAN]).is_empty());
    }

    #[test]
    fn repeated_daily_cycle_counts_full_cycles() {
        // Ten days of 0.2 → 0.9 → 0.2: nine full cycles of range 0.7 plus two half cycles.
        let mut series = Vec::new();
        for _ in 0..10 {
            series.extend([0.2, 0.9]);
        }
        series.push(0.2);
        let h = histogram(&rainflow(&series));
        assert_eq!(h.len(), 1);
        assert!((h[0].0 - 0.7).abs() < 1e-12 && (h[0].1 - 10.0).abs() < 1e-12);
    }

    #[test]
    fn residue_stays_bounded() {
        // A converging oscillation never closes a cycle; the cap must hold.
        let mut c = RainflowCounter::new();
        for i in 0..5000 {
            let a = 0.5 / (1.0 + f64::from(i) * 0.001);
            c.push(if i % 2 == 0 { 0.5 + a } else { 0.5 - a });
            assert!(c.residue_len() <= MAX_RESIDUE + 1);
        }
    }

    proptest! {
        #[test]
        fn counts_consistent(series in proptest::collection::vec(-10.0f64..10.0, 0..300)) {
            let cycles = rainflow(&series);
            let (lo, hi) = series.iter().fold((f64::INFINITY, f64::NEG_INFINITY),
                |(l, h), &x| (l.min(x), h.max(x)));
            // Every reversal pair is counted exactly once: the number of half cycles
            // (full = 2) equals the number of reversals minus one.
            let mut rev: Vec<f64> = Vec::new();
            for &x in &series {
                match rev.len() {
                    0 => rev.push(x),
                    1 => if x != rev[0] { rev.push(x) },
                    n => {
                        let (a, b) = (rev[n - 2], rev[n - 1]);
                        if (b > a && x >= b) || (b < a && x <= b) { rev[n - 1] = x; }
                        else { rev.push(x); }
                    }
                }
            }
            let halves: f64 = cycles.iter().map(|c| c.count * 2.0).sum();
            prop_assert_eq!(halves as usize, rev.len().saturating_sub(1));
            for c in &cycles {
                prop_assert!(c.range >= 0.0 && c.range <= hi - lo + 1e-12);
                prop_assert!(c.count == 0.5 || c.count == 1.0);
            }
        }
    }
}
