//! Irradiance: clear-sky GHI, cloud attenuation, beam/diffuse split and plane-of-array.
//!
//! Models: Haurwitz (1945) clear sky, Kasten & Czeplak (1980) cloud attenuation, Erbs,
//! Klein & Duffie (1982) diffuse fraction, Spencer (1971) orbital eccentricity and the
//! isotropic-sky (Liu & Jordan) transposition with ground reflection.

use super::{SunPosition, finite_or};

/// Solar constant (total solar irradiance at 1 AU, Kopp & Lean 2011), W/m2.
pub const EXTRATERRESTRIAL_IRRADIANCE_W_M2: f64 = 1361.0;
/// Ground reflectance used for plane-of-array irradiance (grass/soil typical), dimensionless.
pub const GROUND_ALBEDO: f64 = 0.2;
/// Zenith beyond which the beam is ignored and all irradiance is treated as diffuse, degrees.
/// Near the horizon GHI/cos z amplifies any error into absurd beam values (pvlib uses 87°).
const MAX_BEAM_ZENITH_DEG: f64 = 87.0;

/// Clear-sky global horizontal irradiance by the Haurwitz model,
/// 1098·cos z·exp(−0.059 / cos z), W/m2; 0 with the sun at or below the horizon.
pub fn clear_sky_ghi_haurwitz(zenith_deg: f64) -> f64 {
    let cz = finite_or(zenith_deg, 180.0).to_radians().cos();
    if cz <= 0.0 {
        return 0.0;
    }
    1098.0 * cz * (-0.059 / cz).exp()
}

/// Fraction of clear-sky irradiance that reaches the ground under cloud cover
/// `cloud_cover` (0 = clear, 1 = overcast, clamped; NaN counts as clear),
/// Kasten–Czeplak 1 − 0.75·c^3.4, dimensionless 0.25..=1.
pub fn cloud_attenuation(cloud_cover: f64) -> f64 {
    let c = finite_or(cloud_cover, 0.0).clamp(0.0, 1.0);
    1.0 - 0.75 * c.powf(3.4)
}

/// Extraterrestrial irradiance on a plane normal to the sun on day `day_of_year` (1..=366),
/// corrected for orbital eccentricity by Spencer's (1971) series, W/m2.
pub fn extraterrestrial_normal_w_m2(day_of_year: f64) -> f64 {
    // Reduce to one year first: 2*pi times a huge day number would overflow to infinity.
    let day = (finite_or(day_of_year, 1.0) - 1.0).rem_euclid(365.0);
    let g = 2.0 * std::f64::consts::PI * day / 365.0;
    let e0 = 1.000_110
        + 0.034_221 * g.cos()
        + 0.001_280 * g.sin()
        + 0.000_719 * (2.0 * g).cos()
        + 0.000_077 * (2.0 * g).sin();
    EXTRATERRESTRIAL_IRRADIANCE_W_M2 * e0
}

/// Diffuse fraction DHI/GHI from the clearness index `kt` (GHI over horizontal
/// extraterrestrial irradiance) by the Erbs et al. (1982) correlation, dimensionless 0..=1.
pub fn diffuse_fraction_erbs(kt: f64) -> f64 {
    let kt = finite_or(kt, 0.0).max(0.0);
    if kt <= 0.22 {
        1.0 - 0.09 * kt
    } else if kt <= 0.80 {
        0.9511 - 0.1604 * kt + 4.388 * kt.powi(2) - 16.638 * kt.powi(3) + 12.336 * kt.powi(4)
    } else {
        0.165
    }
}

/// Irradiance on a panel tilted `tilt_deg` from horizontal facing compass azimuth
/// `panel_azimuth_deg` (clockwise from north), from global horizontal irradiance `ghi`
/// (W/m2), the sun position and the day of year (1..=366), W/m2.
///
/// GHI is split into beam and diffuse by Erbs, the diffuse sky is isotropic and the
/// ground reflects with albedo [`GROUND_ALBEDO`]. Returns 0 at night and for non-finite
/// or negative GHI.
pub fn plane_of_array(
    ghi: f64,
    sun: &SunPosition,
    tilt_deg: f64,
    panel_azimuth_deg: f64,
    day_of_year: f64,
) -> f64 {
    let ghi = finite_or(ghi, 0.0);
    if ghi <= 0.0 || !sun.is_up() {
        return 0.0;
    }
    let tilt = finite_or(tilt_deg, 0.0).clamp(0.0, 180.0).to_radians();
    let cz = sun.zenith_deg.to_radians().cos();
    let e0n = extraterrestrial_normal_w_m2(day_of_year);
    // Floor cos z as pvlib does (0.065 ≈ 86.3°) so kt stays meaningful at sunrise.
    let kt = (ghi / (e0n * cz.max(0.065))).clamp(0.0, 1.0);
    let (dni, dhi) = if sun.zenith_deg > MAX_BEAM_ZENITH_DEG {
        (0.0, ghi)
    } else {
        let dhi = ghi * diffuse_fraction_erbs(kt);
        // A beam stronger than outside the atmosphere is unphysical.
        let dni = ((ghi - dhi) / cz).clamp(0.0, e0n);
        (dni, dhi)
    };
    let cos_inc = sun
        .cos_incidence(tilt.to_degrees(), panel_azimuth_deg)
        .max(0.0);
    let beam = dni * cos_inc;
    let sky = dhi * (1.0 + tilt.cos()) / 2.0;
    let ground = ghi * GROUND_ALBEDO * (1.0 - tilt.cos()) / 2.0;
    finite_or(beam + sky + ground, 0.0).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sun(zenith_deg: f64, azimuth_deg: f64) -> SunPosition {
        SunPosition {
            zenith_deg,
            azimuth_deg,
            elevation_deg: 90.0 - zenith_deg,
            declination_deg: 0.0,
            earth_sun_distance_au: 1.0,
        }
    }

    #[test]
    fn haurwitz_published_form() {
        // Zenith 0: 1098·e^-0.059 = 1035.09 W/m2 (closed form).
        assert!((clear_sky_ghi_haurwitz(0.0) - 1098.0 * (-0.059f64).exp()).abs() < 1e-9);
        assert!((clear_sky_ghi_haurwitz(0.0) - 1035.09).abs() < 0.01);
        // Zenith 60°: cos = 0.5 → 549·e^-0.118 = 487.9 W/m2.
        assert!((clear_sky_ghi_haurwitz(60.0) - 549.0 * (-0.118f64).exp()).abs() < 1e-9);
        assert_eq!(clear_sky_ghi_haurwitz(90.0), 0.0);
        assert_eq!(clear_sky_ghi_haurwitz(120.0), 0.0);
        assert_eq!(clear_sky_ghi_haurwitz(f64::NAN), 0.0);
    }

    #[test]
    fn kasten_czeplak_end_points() {
        assert_eq!(cloud_attenuation(0.0), 1.0);
        assert!((cloud_attenuation(1.0) - 0.25).abs() < 1e-12);
        // c = 0.5: 1 − 0.75·0.5^3.4 = 0.92895.
        assert!((cloud_attenuation(0.5) - (1.0 - 0.75 * 0.5f64.powf(3.4))).abs() < 1e-12);
        assert!((cloud_attenuation(0.5) - 0.929).abs() < 1e-3);
    }

    #[test]
    fn erbs_break_points_are_nearly_continuous() {
        // The published correlation is continuous to about 0.01 at kt = 0.22 and 0.80.
        let lo = diffuse_fraction_erbs(0.22);
        let lo_poly = diffuse_fraction_erbs(0.220_000_1);
        assert!((lo - 0.9802).abs() < 1e-9);
        assert!((lo - lo_poly).abs() < 0.01);
        assert!((diffuse_fraction_erbs(0.80) - 0.165).abs() < 0.01);
        assert_eq!(diffuse_fraction_erbs(0.95), 0.165);
    }

    #[test]
    fn eccentricity_agrees_with_spa_distance() {
        // Independent physics: irradiance scales as 1/R². Compare Spencer with the SPA
        // radius vector on 2003-10-17 (day 290): R = 0.9965422974 AU (Reda & Andreas).
        let spencer = extraterrestrial_normal_w_m2(290.0);
        let inverse_square = EXTRATERRESTRIAL_IRRADIANCE_W_M2 / 0.996_542_297_4f64.powi(2);
        assert!((spencer / inverse_square - 1.0).abs() < 1e-3);
        // Perihelion (early January) ≈ +3.4 %, aphelion (early July) ≈ −3.3 %.
        assert!((extraterrestrial_normal_w_m2(3.0) / 1361.0 - 1.034).abs() < 0.002);
        assert!((extraterrestrial_normal_w_m2(185.0) / 1361.0 - 0.967).abs() < 0.002);
    }

    #[test]
    fn horizontal_panel_sees_ghi() {
        // Beam·cos z + diffuse = GHI identically on a horizontal plane.
        for &(ghi, z) in &[(800.0, 30.0), (300.0, 60.0), (100.0, 80.0), (50.0, 88.0)] {
            let poa = plane_of_array(ghi, &sun(z, 180.0), 0.0, 180.0, 172.0);
            assert!((poa - ghi).abs() < 1e-9, "ghi {ghi} z {z} poa {poa}");
        }
    }

    #[test]
    fn night_and_bad_input_give_zero() {
        assert_eq!(
            plane_of_array(500.0, &sun(95.0, 270.0), 30.0, 180.0, 100.0),
            0.0
        );
        assert_eq!(
            plane_of_array(f64::NAN, &sun(30.0, 180.0), 30.0, 180.0, 100.0),
            0.0
        );
        assert_eq!(
            plane_of_array(-5.0, &sun(30.0, 180.0), 30.0, 180.0, 100.0),
            0.0
        );
    }

    #[test]
    fn panel_facing_sun_beats_panel_facing_away() {
        let s = sun(40.0, 180.0);
        let toward = plane_of_array(800.0, &s, 40.0, 180.0, 172.0);
        let away = plane_of_array(800.0, &s, 40.0, 0.0, 172.0);
        assert!(toward > 800.0 && away < 800.0);
        // A vertical panel with its back to the sun gets half the sky and half the ground.
        let back = plane_of_array(800.0, &s, 90.0, 0.0, 172.0);
        let kt = 800.0 / (extraterrestrial_normal_w_m2(172.0) * 40f64.to_radians().cos());
        let dhi = 800.0 * diffuse_fraction_erbs(kt);
        assert!((back - (dhi / 2.0 + 800.0 * GROUND_ALBEDO / 2.0)).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn poa_finite_and_bounded(
            ghi in proptest::num::f64::ANY,
            z in 0.0f64..180.0,
            az in 0.0f64..360.0,
            tilt in proptest::num::f64::ANY,
            paz in proptest::num::f64::ANY,
            doy in proptest::num::f64::ANY,
        ) {
            let poa = plane_of_array(ghi, &sun(z, az), tilt, paz, doy);
            prop_assert!(poa.is_finite() && poa >= 0.0);
            // Never more than the beam at 1 AU minus 3.4 % plus all the sky and ground light.
            let g = if ghi.is_finite() { ghi.max(0.0) } else { 0.0 };
            prop_assert!(poa <= 1407.0 + g * (1.0 + GROUND_ALBEDO) + 1e-6);
        }

        #[test]
        fn attenuation_in_bounds(c in proptest::num::f64::ANY) {
            let a = cloud_attenuation(c);
            prop_assert!((0.25..=1.0).contains(&a));
        }
    }
}
