//! Daily demand shapes: hourly factors of peak demand, local time.

use crate::format::Profile;

const HOUSEHOLD: [f64; 24] = [
    0.35, 0.30, 0.28, 0.27, 0.28, 0.35, 0.55, 0.75, 0.65, 0.50, 0.45, 0.45, 0.50, 0.45, 0.42, 0.45,
    0.55, 0.75, 0.95, 1.00, 0.90, 0.75, 0.60, 0.45,
];
const COMMERCIAL: [f64; 24] = [
    0.20, 0.20, 0.20, 0.20, 0.20, 0.25, 0.40, 0.70, 0.90, 0.95, 1.00, 1.00, 0.95, 1.00, 1.00, 0.95,
    0.90, 0.80, 0.60, 0.45, 0.35, 0.30, 0.25, 0.20,
];
const SHELTER: [f64; 24] = [
    0.70, 0.65, 0.60, 0.60, 0.60, 0.65, 0.80, 0.85, 0.60, 0.50, 0.50, 0.50, 0.55, 0.50, 0.50, 0.55,
    0.65, 0.85, 0.95, 1.00, 0.95, 0.90, 0.80, 0.75,
];
const CLINIC: [f64; 24] = [
    0.45, 0.45, 0.45, 0.45, 0.45, 0.50, 0.60, 0.80, 0.95, 1.00, 1.00, 1.00, 0.95, 1.00, 1.00, 0.95,
    0.90, 0.80, 0.65, 0.55, 0.50, 0.50, 0.45, 0.45,
];
const DATA_CENTRE: [f64; 24] = [
    0.88, 0.87, 0.86, 0.86, 0.86, 0.87, 0.89, 0.92, 0.95, 0.97, 0.98, 0.99, 1.00, 1.00, 1.00, 0.99,
    0.98, 0.97, 0.96, 0.95, 0.94, 0.92, 0.90, 0.89,
];
const WATER_PUMPING: [f64; 24] = [
    1.00, 1.00, 1.00, 1.00, 0.90, 0.80, 0.70, 0.60, 0.30, 0.20, 0.20, 0.20, 0.30, 0.30, 0.20, 0.20,
    0.30, 0.40, 0.40, 0.30, 0.30, 0.50, 0.80, 0.90,
];
const FABRICATION: [f64; 24] = [
    0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.20, 0.60, 0.90, 1.00, 1.00, 0.95, 0.80, 0.95, 1.00, 1.00,
    0.90, 0.60, 0.25, 0.15, 0.10, 0.10, 0.10, 0.10,
];
const LIGHTING: [f64; 24] = [
    1.00, 1.00, 1.00, 1.00, 1.00, 0.80, 0.30, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00,
    0.00, 0.20, 0.60, 1.00, 1.00, 1.00, 1.00, 1.00,
];

/// Hourly factors of a profile.
pub fn hourly(profile: &Profile) -> &[f64] {
    match profile {
        Profile::Household => &HOUSEHOLD,
        Profile::Commercial => &COMMERCIAL,
        Profile::Shelter => &SHELTER,
        Profile::Clinic => &CLINIC,
        Profile::DataCentre => &DATA_CENTRE,
        Profile::WaterPumping => &WATER_PUMPING,
        Profile::Fabrication => &FABRICATION,
        Profile::Lighting => &LIGHTING,
        Profile::Custom(v) => v,
    }
}

/// How much a consumer of this profile wanders around it from minute to minute, fraction
/// of its demand: households most, data centres least, street lighting not at all.
pub fn variability(profile: &Profile) -> f64 {
    match profile {
        Profile::Household => 0.15,
        Profile::Commercial => 0.08,
        Profile::Shelter => 0.10,
        Profile::Clinic => 0.06,
        Profile::DataCentre => 0.03,
        Profile::WaterPumping => 0.10,
        Profile::Fabrication => 0.12,
        Profile::Lighting => 0.0,
        Profile::Custom(_) => 0.10,
    }
}

/// Fraction of peak demand at `hour` (local, fractional, any value: wrapped to a day),
/// interpolated linearly between the hourly factors (each factor sits at the half hour).
pub fn factor(profile: &Profile, hour: f64) -> f64 {
    let h = hourly(profile);
    if h.is_empty() || !hour.is_finite() {
        return 0.0;
    }
    let n = h.len() as f64;
    let x = (hour - 0.5).rem_euclid(24.0) * n / 24.0;
    let i = x.floor() as usize % h.len();
    let j = (i + 1) % h.len();
    let t = x - x.floor();
    h[i] * (1.0 - t) + h[j] * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_fractions_and_peak_at_one() {
        for p in [
            Profile::Household,
            Profile::Commercial,
            Profile::Shelter,
            Profile::Clinic,
            Profile::DataCentre,
            Profile::WaterPumping,
            Profile::Fabrication,
            Profile::Lighting,
        ] {
            let h = hourly(&p);
            assert_eq!(h.len(), 24);
            assert!(h.iter().all(|&f| (0.0..=1.0).contains(&f)));
            assert_eq!(h.iter().cloned().fold(0.0, f64::max), 1.0);
        }
    }

    #[test]
    fn interpolation_hits_the_half_hours_and_wraps() {
        assert!((factor(&Profile::Household, 19.5) - 1.0).abs() < 1e-12);
        assert!((factor(&Profile::Household, 20.0) - 0.95).abs() < 1e-12);
        assert!(
            (factor(&Profile::Household, 24.5) - factor(&Profile::Household, 0.5)).abs() < 1e-12
        );
    }
}
