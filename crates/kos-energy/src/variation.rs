//! Seeded variation of demand around its daily profile: every consumer wanders smoothly and
//! differently (people are not a profile), the same way for the same seed.

use noise::{NoiseFn, Perlin};

/// Time over which a consumer's variation changes noticeably, hours.
pub const CORRELATION_HOURS: f64 = 0.75;

/// Smooth, seeded, per-consumer multiplicative variation of demand.
#[derive(Debug, Clone)]
pub struct LoadVariation {
    noise: Perlin,
}

impl LoadVariation {
    /// The variation drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        // Fold the 64-bit seed into the noise crate's 32-bit one.
        Self {
            noise: Perlin::new((seed ^ (seed >> 32)) as u32),
        }
    }

    /// Factor on the profile's demand for consumer `key` at `t_h` hours: 1 plus up to
    /// about `amplitude` either way (a fraction; 0 gives exactly 1). Never negative; 1 for
    /// non-finite input.
    pub fn factor(&self, key: u64, t_h: f64, amplitude: f64) -> f64 {
        if !(t_h.is_finite() && amplitude.is_finite()) || amplitude <= 0.0 {
            return 1.0;
        }
        // Each consumer on its own line through the noise field, far from the others.
        let lane = (key % 100_003) as f64 * 7.31 + 0.5;
        // Perlin noise stays within about +-0.7: scale it to +-1.
        let n = (self.noise.get([t_h / CORRELATION_HOURS, lane]) / 0.7).clamp(-1.0, 1.0);
        (1.0 + amplitude * n).max(0.0)
    }
}

/// A stable 64-bit key of a consumer's id (FNV-1a), the same on every platform.
pub fn key_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_its_published_vectors() {
        // From the FNV reference test suite.
        assert_eq!(key_of(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(key_of("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(key_of("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn variation_is_seeded_bounded_smooth_and_differs_between_consumers() {
        let v = LoadVariation::new(7);
        let w = LoadVariation::new(8);
        let (a, b) = (key_of("homes-1"), key_of("homes-2"));
        let series = |var: &LoadVariation, k: u64| -> Vec<f64> {
            (0..24 * 60)
                .map(|m| var.factor(k, m as f64 / 60.0, 0.15))
                .collect()
        };
        let sa = series(&v, a);
        assert_eq!(sa, series(&LoadVariation::new(7), a));
        assert_ne!(sa, series(&w, a));
        assert_ne!(sa, series(&v, b));
        assert!(sa.iter().all(|f| (0.85..=1.15).contains(f)));
        // Minute to minute it moves little; over the day it moves.
        let step = sa
            .windows(2)
            .map(|p| (p[1] - p[0]).abs())
            .fold(0.0, f64::max);
        assert!(step < 0.02, "{step}");
        let (lo, hi) = sa
            .iter()
            .fold((2.0f64, 0.0f64), |(l, h), &f| (l.min(f), h.max(f)));
        assert!(hi - lo > 0.05, "{lo}..{hi}");
        // The mean stays near the profile.
        let mean = sa.iter().sum::<f64>() / sa.len() as f64;
        assert!((mean - 1.0).abs() < 0.05, "{mean}");
        assert_eq!(v.factor(a, f64::NAN, 0.15), 1.0);
        assert_eq!(v.factor(a, 3.0, 0.0), 1.0);
    }
}
