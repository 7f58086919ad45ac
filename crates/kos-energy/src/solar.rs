//! Sun position by the NREL Solar Position Algorithm (SPA).
//!
//! Reference: I. Reda and A. Andreas, "Solar Position Algorithm for Solar Radiation
//! Applications", NREL/TP-560-34302 (2003, revised 2008). The implementation follows the
//! paper step by step (section numbers in comments) with the full periodic-term tables,
//! so zenith and azimuth are good to about ±0.0003° for years -2000..6000.
//!
//! Irradiance and PV models live in the submodules and are re-exported here.

pub mod irradiance;
pub mod pv;
mod tables;

pub use irradiance::{
    EXTRATERRESTRIAL_IRRADIANCE_W_M2, GROUND_ALBEDO, clear_sky_ghi_haurwitz, cloud_attenuation,
    diffuse_fraction_erbs, extraterrestrial_normal_w_m2, plane_of_array,
};
pub use pv::PvArray;

use serde::{Deserialize, Serialize};

/// Refraction of the sun at sunrise/sunset used by SPA, degrees (the paper's 0.5667°).
const ATMOS_REFRACT_DEG: f64 = 0.5667;
/// Apparent angular radius of the sun, degrees.
const SUN_RADIUS_DEG: f64 = 0.26667;
/// Julian day of the Unix epoch 1970-01-01 00:00 UTC, days.
const UNIX_EPOCH_JD: f64 = 2_440_587.5;
/// Julian day of J2000.0, days.
const J2000_JD: f64 = 2_451_545.0;

/// Standard-atmosphere pressure used by [`sun_position_at`], mbar.
pub const STANDARD_PRESSURE_MBAR: f64 = 1013.25;
/// Annual mean temperature used by [`sun_position_at`] for refraction, °C.
pub const STANDARD_TEMPERATURE_C: f64 = 12.0;
/// TT − UT1 used by [`sun_position_at`], s (≈ 69 s for the 2020s).
pub const DEFAULT_DELTA_T_S: f64 = 69.0;

/// Inputs of the NREL SPA for one instant and observer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpaInput {
    /// Calendar year (Gregorian after 1582-10-15), years.
    pub year: i32,
    /// Month of year, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Local clock hour, 0..=24, h.
    pub hour: u32,
    /// Local clock minute, 0..=59, min.
    pub minute: u32,
    /// Local clock second, 0..60, s.
    pub second: f64,
    /// Offset of local clock time from UTC (west negative, e.g. -7 for MST), h.
    pub timezone_h: f64,
    /// UT1 − UTC, s (|value| < 1).
    pub delta_ut1: f64,
    /// TT − UT1 (ΔT), s.
    pub delta_t_s: f64,
    /// Observer longitude, east positive, degrees.
    pub longitude_deg: f64,
    /// Observer geodetic latitude, north positive, degrees.
    pub latitude_deg: f64,
    /// Observer elevation above sea level, m.
    pub elevation_m: f64,
    /// Annual mean local air pressure, mbar (hPa).
    pub pressure_mbar: f64,
    /// Annual mean local air temperature, °C.
    pub temperature_c: f64,
}

/// Topocentric position of the sun seen by an observer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SunPosition {
    /// Topocentric zenith angle including refraction, degrees (0 = overhead, > 90 = below horizon).
    pub zenith_deg: f64,
    /// Topocentric azimuth, clockwise from north (90 = east, 180 = south), degrees.
    pub azimuth_deg: f64,
    /// Topocentric elevation including refraction, degrees (= 90 − zenith).
    pub elevation_deg: f64,
    /// Topocentric declination of the sun, degrees.
    pub declination_deg: f64,
    /// Earth–sun distance, astronomical units (AU).
    pub earth_sun_distance_au: f64,
}

impl SunPosition {
    /// The placeholder returned when inputs are not finite: sun straight below the observer,
    /// so every irradiance model downstream yields 0 W/m2.
    pub const BELOW_HORIZON: SunPosition = SunPosition {
        zenith_deg: 180.0,
        azimuth_deg: 0.0,
        elevation_deg: -90.0,
        declination_deg: 0.0,
        earth_sun_distance_au: 1.0,
    };

    /// Whether the sun's centre is above the horizon (zenith < 90°).
    pub fn is_up(&self) -> bool {
        self.zenith_deg < 90.0
    }

    /// Cosine of the angle of incidence on a plane tilted `tilt_deg` from horizontal whose
    /// normal points at compass azimuth `surface_azimuth_deg` (clockwise from north),
    /// dimensionless; negative when the sun is behind the plane (SPA eq. 47).
    pub fn cos_incidence(&self, tilt_deg: f64, surface_azimuth_deg: f64) -> f64 {
        let z = self.zenith_deg.to_radians();
        let b = finite_or(tilt_deg, 0.0).to_radians();
        let daz = (self.azimuth_deg - finite_or(surface_azimuth_deg, 180.0)).to_radians();
        let c = z.cos() * b.cos() + z.sin() * b.sin() * daz.cos();
        finite_or(c, 0.0).clamp(-1.0, 1.0)
    }

    /// Angle of incidence on a tilted plane (see [`Self::cos_incidence`]), degrees 0..=180.
    pub fn incidence_deg(&self, tilt_deg: f64, surface_azimuth_deg: f64) -> f64 {
        self.cos_incidence(tilt_deg, surface_azimuth_deg)
            .acos()
            .to_degrees()
    }
}

/// `value` when finite, else `fallback`; keeps NaN/inf out of the models.
pub(crate) fn finite_or(value: f64, fallback: f64) -> f64 {
    if value.is_finite() { value } else { fallback }
}

/// Reduce an angle to [0, 360), degrees.
fn limit_degrees(deg: f64) -> f64 {
    let l = deg.rem_euclid(360.0);
    // rem_euclid can round up to exactly 360 for tiny negative inputs.
    if l >= 360.0 { 0.0 } else { l }
}

/// Julian day (UT) of a calendar date and clock time (SPA §3.1.1, eq. 4), days.
fn julian_day(input: &SpaInput) -> f64 {
    let mut year = f64::from(input.year);
    let mut month = f64::from(input.month);
    let day_decimal = f64::from(input.day)
        + (f64::from(input.hour) - input.timezone_h
            + (f64::from(input.minute) + (input.second + input.delta_ut1) / 60.0) / 60.0)
            / 24.0;
    if month < 3.0 {
        month += 12.0;
        year -= 1.0;
    }
    // The paper uses truncation (INT), identical to floor for all years after -4716.
    let mut jd =
        (365.25 * (year + 4716.0)).trunc() + (30.6001 * (month + 1.0)).trunc() + day_decimal
            - 1524.5;
    if jd > 2_299_160.0 {
        // Gregorian calendar correction.
        let a = (year / 100.0).trunc();
        jd += 2.0 - a + (a / 4.0).trunc();
    }
    jd
}

/// Σ A·cos(B + C·x) over one table (SPA eq. 9), table units.
fn periodic_sum(table: &[[f64; 3]], x: f64) -> f64 {
    table.iter().map(|t| t[0] * (t[1] + t[2] * x).cos()).sum()
}

/// Polynomial in JME of the series sums (SPA eq. 11), converted from 1e-8 units.
fn series(tables: &[&[[f64; 3]]], jme: f64) -> f64 {
    let mut acc = 0.0;
    let mut power = 1.0;
    for t in tables {
        acc += periodic_sum(t, jme) * power;
        power *= jme;
    }
    acc / 1e8
}

/// Nutation in longitude and obliquity, (Δψ, Δε) degrees (SPA §3.4).
fn nutation(jce: f64) -> (f64, f64) {
    let poly = |a: f64, b: f64, c: f64, d: f64| ((d * jce + c) * jce + b) * jce + a;
    let x = [
        poly(297.85036, 445_267.111_480, -0.001_914_2, 1.0 / 189_474.0),
        poly(357.52772, 35_999.050_340, -0.000_160_3, -1.0 / 300_000.0),
        poly(134.96298, 477_198.867_398, 0.008_697_2, 1.0 / 56_250.0),
        poly(93.27191, 483_202.017_538, -0.003_682_5, 1.0 / 327_270.0),
        poly(125.04452, -1_934.136_261, 0.002_070_8, 1.0 / 450_000.0),
    ];
    let mut dpsi = 0.0;
    let mut deps = 0.0;
    for (y, abcd) in tables::NUTATION_Y.iter().zip(tables::NUTATION_ABCD.iter()) {
        let arg: f64 = y
            .iter()
            .zip(x.iter())
            .map(|(&yi, &xi)| f64::from(yi) * xi)
            .sum::<f64>()
            .to_radians();
        dpsi += (abcd[0] + abcd[1] * jce) * arg.sin();
        deps += (abcd[2] + abcd[3] * jce) * arg.cos();
    }
    (dpsi / 36_000_000.0, deps / 36_000_000.0)
}

/// Everything of the SPA after the time conversion; all angles in degrees.
#[allow(clippy::too_many_arguments)]
fn spa_core(
    jd: f64,
    delta_t_s: f64,
    latitude_deg: f64,
    longitude_deg: f64,
    elevation_m: f64,
    pressure_mbar: f64,
    temperature_c: f64,
) -> SunPosition {
    // §3.1 Julian ephemeris day, century, millennium.
    let jc = (jd - J2000_JD) / 36_525.0;
    let jde = jd + delta_t_s / 86_400.0;
    let jce = (jde - J2000_JD) / 36_525.0;
    let jme = jce / 10.0;

    // §3.2 Earth heliocentric longitude L, latitude B, radius R.
    let l_deg = limit_degrees(
        series(
            &[
                &tables::L0,
                &tables::L1,
                &tables::L2,
                &tables::L3,
                &tables::L4,
                &tables::L5,
            ],
            jme,
        )
        .to_degrees(),
    );
    let b_deg = series(&[&tables::B0, &tables::B1], jme).to_degrees();
    let r_au = series(
        &[
            &tables::R0,
            &tables::R1,
            &tables::R2,
            &tables::R3,
            &tables::R4,
        ],
        jme,
    );

    // §3.3 Geocentric longitude Θ and latitude β.
    let theta = limit_degrees(l_deg + 180.0);
    let beta = -b_deg;

    // §3.4 Nutation; §3.5 true obliquity of the ecliptic ε.
    let (dpsi, deps) = nutation(jce);
    let u = jme / 10.0;
    let eps0_arcsec = 84_381.448
        + u * (-4_680.93
            + u * (-1.55
                + u * (1_999.25
                    + u * (-51.38
                        + u * (-249.67
                            + u * (-39.05 + u * (7.12 + u * (27.87 + u * (5.79 + u * 2.45)))))))));
    let eps = eps0_arcsec / 3600.0 + deps;

    // §3.6 Aberration; §3.7 apparent sun longitude λ.
    let dtau = -20.4898 / (3600.0 * r_au);
    let lambda = theta + dpsi + dtau;

    // §3.8 Apparent sidereal time at Greenwich ν.
    let nu0 = limit_degrees(
        280.460_618_37 + 360.985_647_366_29 * (jd - J2000_JD) + 0.000_387_933 * jc * jc
            - jc * jc * jc / 38_710_000.0,
    );
    let eps_r = eps.to_radians();
    let nu = nu0 + dpsi * eps_r.cos();

    // §3.9–3.10 Geocentric right ascension α and declination δ.
    let lambda_r = lambda.to_radians();
    let beta_r = beta.to_radians();
    let alpha = limit_degrees(
        (lambda_r.sin() * eps_r.cos() - beta_r.tan() * eps_r.sin())
            .atan2(lambda_r.cos())
            .to_degrees(),
    );
    let delta = (beta_r.sin() * eps_r.cos() + beta_r.cos() * eps_r.sin() * lambda_r.sin())
        .clamp(-1.0, 1.0)
        .asin()
        .to_degrees();

    // §3.11 Observer local hour angle H (westward from south).
    let h = limit_degrees(nu + longitude_deg - alpha);

    // §3.12 Topocentric right ascension and declination (parallax).
    let xi = (8.794 / (3600.0 * r_au)).to_radians();
    let lat_r = latitude_deg.to_radians();
    let u_r = (0.996_647_19 * lat_r.tan()).atan();
    let x = u_r.cos() + elevation_m / 6_378_140.0 * lat_r.cos();
    let y = 0.996_647_19 * u_r.sin() + elevation_m / 6_378_140.0 * lat_r.sin();
    let h_r = h.to_radians();
    let delta_r = delta.to_radians();
    let dalpha_r = (-x * xi.sin() * h_r.sin()).atan2(delta_r.cos() - x * xi.sin() * h_r.cos());
    let delta_prime_r = ((delta_r.sin() - y * xi.sin()) * dalpha_r.cos())
        .atan2(delta_r.cos() - x * xi.sin() * h_r.cos());

    // §3.13 Topocentric local hour angle H'.
    let h_prime_r = h_r - dalpha_r;

    // §3.14 Topocentric elevation, with refraction only while the sun is near or above
    // the horizon (the formula diverges far below it).
    let e0 = (lat_r.sin() * delta_prime_r.sin()
        + lat_r.cos() * delta_prime_r.cos() * h_prime_r.cos())
    .clamp(-1.0, 1.0)
    .asin()
    .to_degrees();
    let de = if e0 >= -(SUN_RADIUS_DEG + ATMOS_REFRACT_DEG) {
        (pressure_mbar / 1010.0) * (283.0 / (273.0 + temperature_c)) * 1.02
            / (60.0 * (e0 + 10.3 / (e0 + 5.11)).to_radians().tan())
    } else {
        0.0
    };
    let e = e0 + de;

    // §3.15 Topocentric azimuth, astronomers' (from south) then navigators' (from north).
    let gamma = h_prime_r
        .sin()
        .atan2(h_prime_r.cos() * lat_r.sin() - delta_prime_r.tan() * lat_r.cos())
        .to_degrees();
    let azimuth = limit_degrees(gamma + 180.0);

    SunPosition {
        zenith_deg: 90.0 - e,
        azimuth_deg: azimuth,
        elevation_deg: e,
        declination_deg: delta_prime_r.to_degrees(),
        earth_sun_distance_au: r_au,
    }
}

/// Sanitise the observer, run the SPA, and fall back to "below horizon" if anything is
/// still not finite (e.g. a NaN or infinite time).
#[allow(clippy::too_many_arguments)]
fn spa_checked(
    jd: f64,
    delta_t_s: f64,
    latitude_deg: f64,
    longitude_deg: f64,
    elevation_m: f64,
    pressure_mbar: f64,
    temperature_c: f64,
) -> SunPosition {
    if !jd.is_finite() {
        return SunPosition::BELOW_HORIZON;
    }
    let pos = spa_core(
        jd,
        finite_or(delta_t_s, DEFAULT_DELTA_T_S).clamp(-8000.0, 8000.0),
        finite_or(latitude_deg, 0.0).clamp(-90.0, 90.0),
        finite_or(longitude_deg, 0.0),
        // SPA accepts down to -6,500,000 m; beyond ±100 km the result is meaningless anyway.
        finite_or(elevation_m, 0.0).clamp(-6_500.0, 100_000.0),
        finite_or(pressure_mbar, STANDARD_PRESSURE_MBAR).clamp(0.0, 5000.0),
        // Keep 273 + T away from zero in the refraction formula.
        finite_or(temperature_c, STANDARD_TEMPERATURE_C).clamp(-100.0, 100.0),
    );
    let finite = pos.zenith_deg.is_finite()
        && pos.azimuth_deg.is_finite()
        && pos.declination_deg.is_finite()
        && pos.earth_sun_distance_au.is_finite();
    if finite {
        pos
    } else {
        SunPosition::BELOW_HORIZON
    }
}

/// Topocentric sun position for a local calendar time and observer by the full NREL SPA.
///
/// Never panics; non-finite observer values are replaced by neutral defaults and a
/// non-finite time gives [`SunPosition::BELOW_HORIZON`].
pub fn sun_position(input: &SpaInput) -> SunPosition {
    spa_checked(
        julian_day(input),
        input.delta_t_s,
        input.latitude_deg,
        input.longitude_deg,
        input.elevation_m,
        input.pressure_mbar,
        input.temperature_c,
    )
}

/// Sun position at a Unix time (seconds since 1970-01-01 UTC, UT1 ≈ UTC) for an observer at
/// `latitude_deg` (north +), `longitude_deg` (east +) in degrees and `elevation_m` in metres,
/// with a standard atmosphere (1013.25 mbar, 12 °C) and ΔT = 69 s.
pub fn sun_position_at(
    unix_utc_s: f64,
    latitude_deg: f64,
    longitude_deg: f64,
    elevation_m: f64,
) -> SunPosition {
    spa_checked(
        unix_utc_s / 86_400.0 + UNIX_EPOCH_JD,
        DEFAULT_DELTA_T_S,
        latitude_deg,
        longitude_deg,
        elevation_m,
        STANDARD_PRESSURE_MBAR,
        STANDARD_TEMPERATURE_C,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The worked example of Reda & Andreas (2008), Table A5.1.
    fn paper_example() -> SpaInput {
        SpaInput {
            year: 2003,
            month: 10,
            day: 17,
            hour: 12,
            minute: 30,
            second: 30.0,
            timezone_h: -7.0,
            delta_ut1: 0.0,
            delta_t_s: 67.0,
            longitude_deg: -105.1786,
            latitude_deg: 39.742476,
            elevation_m: 1830.14,
            pressure_mbar: 820.0,
            temperature_c: 11.0,
        }
    }

    #[test]
    fn paper_example_julian_day() {
        // Table A5.1: JD = 2452930.312847.
        assert!((julian_day(&paper_example()) - 2_452_930.312_847).abs() < 1e-6);
    }

    #[test]
    fn paper_example_intermediate_values() {
        // Published intermediate results of Table A5.1.
        let jd = julian_day(&paper_example());
        let jde = jd + 67.0 / 86_400.0;
        let jce = (jde - J2000_JD) / 36_525.0;
        let jme = jce / 10.0;
        let l = limit_degrees(
            series(
                &[
                    &tables::L0,
                    &tables::L1,
                    &tables::L2,
                    &tables::L3,
                    &tables::L4,
                    &tables::L5,
                ],
                jme,
            )
            .to_degrees(),
        );
        assert!((l - 24.018_261_691_7).abs() < 1e-6, "L = {l}");
        let b = series(&[&tables::B0, &tables::B1], jme).to_degrees();
        assert!((b - -0.000_101_121_9).abs() < 1e-9, "B = {b}");
        let r = series(
            &[
                &tables::R0,
                &tables::R1,
                &tables::R2,
                &tables::R3,
                &tables::R4,
            ],
            jme,
        );
        assert!((r - 0.996_542_297_4).abs() < 1e-9, "R = {r}");
        let (dpsi, deps) = nutation(jce);
        assert!((dpsi - -0.003_998_40).abs() < 1e-8, "dpsi = {dpsi}");
        assert!((deps - 0.001_666_57).abs() < 1e-8, "deps = {deps}");
    }

    #[test]
    fn paper_example_zenith_azimuth() {
        // Table A5.1: topocentric zenith 50.11162°, azimuth 194.34024°, declination -9.316179°.
        let p = sun_position(&paper_example());
        assert!(
            (p.zenith_deg - 50.111_62).abs() < 1e-4,
            "zenith {}",
            p.zenith_deg
        );
        assert!(
            (p.azimuth_deg - 194.340_24).abs() < 1e-4,
            "azimuth {}",
            p.azimuth_deg
        );
        assert!((p.elevation_deg - (90.0 - 50.111_62)).abs() < 1e-4);
        assert!((p.declination_deg - -9.316_179).abs() < 1e-5);
        assert!((p.earth_sun_distance_au - 0.996_542_297_4).abs() < 1e-8);
    }

    #[test]
    fn paper_example_incidence() {
        // spa_tester.c: slope 30°, azimuth rotation -10° from south (compass 170°)
        // gives incidence 25.187000°.
        let p = sun_position(&paper_example());
        let inc = p.incidence_deg(30.0, 170.0);
        assert!((inc - 25.187).abs() < 1e-3, "incidence {inc}");
    }

    #[test]
    fn unix_time_matches_calendar_form() {
        // 2003-10-17 19:30:30 UTC = 1066419030 s since the epoch (independent arithmetic:
        // 12342 days from 1970-01-01 to 2003-10-17, plus 70230 s).
        let unix = 12_342.0 * 86_400.0 + 19.0 * 3600.0 + 30.0 * 60.0 + 30.0;
        let a = sun_position_at(unix, 39.742476, -105.1786, 1830.14);
        let b = sun_position(&SpaInput {
            delta_t_s: DEFAULT_DELTA_T_S,
            pressure_mbar: STANDARD_PRESSURE_MBAR,
            temperature_c: STANDARD_TEMPERATURE_C,
            ..paper_example()
        });
        assert!((a.zenith_deg - b.zenith_deg).abs() < 1e-7);
        assert!((a.azimuth_deg - b.azimuth_deg).abs() < 1e-7);
    }

    #[test]
    fn equinox_noon_at_equator_is_near_overhead() {
        // 2024-03-20 03:06 UTC was the March equinox; at 12:00 UTC on the Greenwich meridian
        // the sun stands within ~1° of the zenith (declination ≈ 0.1°, equation of time ≈ -7.5 min).
        let unix = 1_710_936_000.0; // 2024-03-20 12:00:00 UTC
        let p = sun_position_at(unix, 0.0, 0.0, 0.0);
        assert!(p.zenith_deg < 2.5, "zenith {}", p.zenith_deg);
        assert!(p.declination_deg.abs() < 0.5);
    }

    #[test]
    fn non_finite_inputs_are_safe() {
        assert_eq!(
            sun_position_at(f64::NAN, 0.0, 0.0, 0.0),
            SunPosition::BELOW_HORIZON
        );
        let p = sun_position_at(1.0e9, f64::NAN, f64::INFINITY, f64::NEG_INFINITY);
        assert!(p.zenith_deg.is_finite() && p.azimuth_deg.is_finite());
    }

    proptest! {
        #[test]
        fn outputs_finite_and_in_range(
            t in -4.0e9f64..8.0e9,
            lat in -90.0f64..=90.0,
            lon in -180.0f64..=180.0,
            elev in -500.0f64..9000.0,
        ) {
            let p = sun_position_at(t, lat, lon, elev);
            prop_assert!((0.0..=180.0).contains(&p.zenith_deg));
            prop_assert!((0.0..360.0).contains(&p.azimuth_deg));
            prop_assert!(p.declination_deg.abs() <= 23.5);
            prop_assert!((0.98..=1.02).contains(&p.earth_sun_distance_au));
        }

        #[test]
        fn any_floats_never_panic(
            t in proptest::num::f64::ANY,
            lat in proptest::num::f64::ANY,
            lon in proptest::num::f64::ANY,
        ) {
            let p = sun_position_at(t, lat, lon, 0.0);
            prop_assert!(p.zenith_deg.is_finite() && p.azimuth_deg.is_finite());
        }
    }
}
