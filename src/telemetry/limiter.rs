//! Token buckets per source: a steady rate with a burst allowance. Plain Rust, no Bevy.

use std::collections::HashMap;

/// Rate limits for many sources (assets, citizen reporters), each its own token bucket.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate_per_s: f64,
    burst: f64,
    max_sources: usize,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_s: f64,
}

impl RateLimiter {
    /// A limiter allowing `rate_per_s` messages per second per source on average and bursts
    /// of `burst` messages; at most `max_sources` sources are remembered (the idlest are
    /// forgotten first, which only ever gives them a full bucket back).
    pub fn new(rate_per_s: f64, burst: f64, max_sources: usize) -> Self {
        Self {
            rate_per_s: rate_per_s.max(0.0),
            burst: burst.max(1.0),
            max_sources: max_sources.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Whether `source` may send one more message at `now_s` (seconds on any monotonic
    /// clock); takes a token when it may.
    pub fn allow(&mut self, source: &str, now_s: f64) -> bool {
        if let Some(b) = self.buckets.get_mut(source) {
            let dt = (now_s - b.at_s).max(0.0);
            b.tokens = (b.tokens + dt * self.rate_per_s).min(self.burst);
            b.at_s = now_s;
            if b.tokens >= 1.0 {
                b.tokens -= 1.0;
                return true;
            }
            return false;
        }
        if self.buckets.len() >= self.max_sources {
            self.forget_idlest(now_s);
        }
        self.buckets.insert(
            source.to_string(),
            Bucket {
                tokens: self.burst - 1.0,
                at_s: now_s,
            },
        );
        true
    }

    /// Sources remembered.
    pub fn sources(&self) -> usize {
        self.buckets.len()
    }

    fn forget_idlest(&mut self, now_s: f64) {
        // Buckets that have refilled hold no information: drop them; if none has, drop half.
        let full = self.burst;
        let rate = self.rate_per_s;
        self.buckets
            .retain(|_, b| b.tokens + (now_s - b.at_s).max(0.0) * rate < full);
        if self.buckets.len() >= self.max_sources {
            let mut ages: Vec<f64> = self.buckets.values().map(|b| b.at_s).collect();
            ages.sort_by(f64::total_cmp);
            let cut = ages[ages.len() / 2];
            self.buckets.retain(|_, b| b.at_s > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_steady_rate() {
        let mut l = RateLimiter::new(2.0, 3.0, 100);
        let allowed = (0..10).filter(|_| l.allow("a", 0.0)).count();
        assert_eq!(allowed, 3);
        assert!(l.allow("b", 0.0), "sources are independent");
        assert!(!l.allow("a", 0.2));
        assert!(l.allow("a", 0.5));
        assert!(!l.allow("a", 0.5));
        // A long pause refills to the burst, not beyond.
        let allowed = (0..10).filter(|_| l.allow("a", 100.0)).count();
        assert_eq!(allowed, 3);
    }

    #[test]
    fn memory_is_bounded() {
        let mut l = RateLimiter::new(1.0, 1.0, 50);
        for i in 0..10_000 {
            l.allow(&format!("s{i}"), i as f64 * 1e-4);
        }
        assert!(l.sources() <= 50);
    }
}
