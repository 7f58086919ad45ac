//! Bounded time series for charts: a ring buffer of recent samples, optionally with a coarser
//! level holding averages of every N samples, so memory stays fixed however long the twin
//! runs (e.g. 1-minute samples for a day plus 5-minute means for a week: 1 440 + 2 016).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Fixed-capacity FIFO of (time, value) points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Ring {
    capacity: usize,
    points: VecDeque<(f64, f64)>,
}

impl Ring {
    fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            points: VecDeque::with_capacity(capacity),
        }
    }

    fn push(&mut self, p: (f64, f64)) {
        if self.points.len() == self.capacity {
            self.points.pop_front();
        }
        self.points.push_back(p);
    }
}

/// The coarse level: averages of every `every_n` fine samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Coarse {
    ring: Ring,
    every_n: usize,
    sum_t: f64,
    sum_v: f64,
    count: usize,
}

/// A memory-bounded series of (time, value) samples, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollingSeries {
    fine: Ring,
    coarse: Option<Coarse>,
    last: Option<(f64, f64)>,
}

impl RollingSeries {
    /// A series keeping the latest `capacity` samples (at least 1), points.
    pub fn new(capacity: usize) -> Self {
        Self {
            fine: Ring::new(capacity),
            coarse: None,
            last: None,
        }
    }

    /// A series keeping the latest `capacity` samples plus a coarse level of
    /// `coarse_capacity` points, each the mean time and mean value of `every_n` consecutive
    /// samples (`every_n` at least 1).
    pub fn with_coarse(capacity: usize, every_n: usize, coarse_capacity: usize) -> Self {
        Self {
            fine: Ring::new(capacity),
            coarse: Some(Coarse {
                ring: Ring::new(coarse_capacity),
                every_n: every_n.max(1),
                sum_t: 0.0,
                sum_v: 0.0,
                count: 0,
            }),
            last: None,
        }
    }

    /// Append a sample at time `t` (caller's unit, e.g. s) with `value` (caller's unit).
    /// Samples with a non-finite time or value are dropped so charts never see NaN.
    pub fn push(&mut self, t: f64, value: f64) {
        if !(t.is_finite() && value.is_finite()) {
            return;
        }
        self.fine.push((t, value));
        self.last = Some((t, value));
        if let Some(c) = &mut self.coarse {
            c.sum_t += t;
            c.sum_v += value;
            c.count += 1;
            if c.count == c.every_n {
                let n = c.count as f64;
                c.ring.push((c.sum_t / n, c.sum_v / n));
                c.sum_t = 0.0;
                c.sum_v = 0.0;
                c.count = 0;
            }
        }
    }

    /// The retained fine samples, oldest first, as (time, value).
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.fine.points.iter().copied()
    }

    /// The coarse averages, oldest first, as (mean time, mean value); empty without a
    /// coarse level.
    pub fn coarse_iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.coarse
            .iter()
            .flat_map(|c| c.ring.points.iter().copied())
    }

    /// Number of retained fine samples, points.
    pub fn len(&self) -> usize {
        self.fine.points.len()
    }

    /// Whether no sample has been retained.
    pub fn is_empty(&self) -> bool {
        self.fine.points.is_empty()
    }

    /// Number of retained coarse points, points.
    pub fn coarse_len(&self) -> usize {
        self.coarse.as_ref().map_or(0, |c| c.ring.points.len())
    }

    /// Capacity of the fine level, points.
    pub fn capacity(&self) -> usize {
        self.fine.capacity
    }

    /// The most recent sample, (time, value).
    pub fn last(&self) -> Option<(f64, f64)> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_latest_in_order() {
        let mut s = RollingSeries::new(3);
        for i in 0..5 {
            s.push(f64::from(i), f64::from(i) * 10.0);
        }
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![(2.0, 20.0), (3.0, 30.0), (4.0, 40.0)]
        );
        assert_eq!(s.last(), Some((4.0, 40.0)));
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn coarse_averages() {
        let mut s = RollingSeries::with_coarse(4, 5, 2);
        for i in 1..=15 {
            s.push(f64::from(i), f64::from(i * i));
        }
        // Groups {1..5}, {6..10}, {11..15}; only the last two kept. Mean of i² over 6..10 =
        // (36+49+64+81+100)/5 = 66, over 11..15 = (121+144+169+196+225)/5 = 171.
        assert_eq!(
            s.coarse_iter().collect::<Vec<_>>(),
            vec![(8.0, 66.0), (13.0, 171.0)]
        );
    }

    #[test]
    fn week_of_minutes_fits() {
        let mut s = RollingSeries::with_coarse(1440, 5, 2016);
        for i in 0..7 * 1440 {
            s.push(f64::from(i) * 60.0, 1.0);
        }
        assert_eq!((s.len(), s.coarse_len()), (1440, 2016));
        assert!(s.coarse_iter().all(|(_, v)| v == 1.0));
    }

    #[test]
    fn non_finite_dropped() {
        let mut s = RollingSeries::new(2);
        s.push(f64::NAN, 1.0);
        s.push(1.0, f64::INFINITY);
        assert!(s.is_empty() && s.last().is_none());
    }

    proptest! {
        #[test]
        fn capacity_never_exceeded(cap in 0usize..50, n in 1usize..10, cc in 0usize..20,
                                   k in 0usize..500) {
            let mut s = RollingSeries::with_coarse(cap, n, cc);
            for i in 0..k {
                s.push(i as f64, i as f64);
                prop_assert!(s.len() <= cap.max(1));
                prop_assert!(s.coarse_len() <= cc.max(1));
            }
        }
    }
}
