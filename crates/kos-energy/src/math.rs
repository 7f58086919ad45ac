//! Special functions the models need: the gamma function and the normal CDF.

use std::f64::consts::PI;

/// Lanczos coefficients for g = 7, n = 9 (Numerical Recipes / Godfrey), dimensionless.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// Gamma function Γ(x) by the Lanczos approximation (relative error ≈ 1e-15 for x > 0),
/// dimensionless; reflection formula for x < 0.5. NaN at the poles (0, −1, −2, …).
pub fn gamma(x: f64) -> f64 {
    if x < 0.5 {
        PI / ((PI * x).sin() * gamma(1.0 - x))
    } else {
        let x = x - 1.0;
        let t = x + 7.5;
        let mut a = LANCZOS[0];
        for (i, c) in LANCZOS.iter().enumerate().skip(1) {
            a += c / (x + i as f64);
        }
        (2.0 * PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
    }
}

/// Error function erf(x) by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), dimensionless.
pub fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// Standard normal cumulative distribution Φ(z) = (1 + erf(z/√2))/2, probability 0..=1.
pub fn normal_cdf(z: f64) -> f64 {
    (0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_known_values() {
        // Γ(1/2) = √π, Γ(3/2) = √π/2, Γ(n) = (n−1)!.
        assert!((gamma(0.5) - PI.sqrt()).abs() < 1e-13);
        assert!((gamma(1.5) - PI.sqrt() / 2.0).abs() < 1e-13);
        assert!((gamma(5.0) - 24.0).abs() < 1e-11);
        assert!((gamma(1.0) - 1.0).abs() < 1e-14);
    }

    #[test]
    fn normal_cdf_table_values() {
        // Standard normal table: Φ(0) = 0.5, Φ(1) = 0.841345, Φ(1.96) = 0.975002.
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-9);
        assert!((normal_cdf(1.0) - 0.841_345).abs() < 1e-6);
        assert!((normal_cdf(1.96) - 0.975_002).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - (1.0 - 0.841_345)).abs() < 1e-6);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
    }
}
