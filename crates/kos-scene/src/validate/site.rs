//! The site's settings: position, time zone, electrical base, start time, climate and
//! emission factors, each within its physical range.

use super::Problem;
use crate::format::Site;
use crate::time::parse_local_datetime;

pub(super) fn check_site(site: &Site, out: &mut Vec<Problem>) {
    let mut site_bad = |field: &'static str, message: String| {
        out.push(Problem {
            id: None,
            occurrence: 0,
            field: Some(field),
            message,
        });
    };
    if !(site.latitude_deg.is_finite() && site.latitude_deg.abs() <= 90.0) {
        site_bad(
            "latitude_deg",
            format!("must lie in -90..90, got {}", site.latitude_deg),
        );
    }
    if !(site.longitude_deg.is_finite() && site.longitude_deg.abs() <= 180.0) {
        site_bad(
            "longitude_deg",
            format!("must lie in -180..180, got {}", site.longitude_deg),
        );
    }
    if !(site.utc_offset_hours.is_finite() && site.utc_offset_hours.abs() <= 14.0) {
        site_bad(
            "utc_offset_hours",
            format!("must lie in -14..14, got {}", site.utc_offset_hours),
        );
    }
    if !(site.base_mva.is_finite() && site.base_mva > 0.0) {
        site_bad(
            "base_mva",
            format!("must be positive, got {}", site.base_mva),
        );
    }
    if !(site.frequency_hz.is_finite() && site.frequency_hz > 0.0) {
        site_bad(
            "frequency_hz",
            format!("must be positive, got {}", site.frequency_hz),
        );
    }
    if let Err(e) = parse_local_datetime(&site.start) {
        site_bad("start", e);
    }
    let e = &site.energy;
    let ranges: [(&'static str, f64, f64, f64); 7] = [
        ("elevation_m", e.elevation_m, -500.0, 9000.0),
        ("mean_wind_m_s", e.mean_wind_m_s, 0.0, 30.0),
        ("weibull_k", e.weibull_k, 0.5, 10.0),
        ("mean_cloud_cover", e.mean_cloud_cover, 0.0, 1.0),
        ("mean_temperature_c", e.mean_temperature_c, -60.0, 50.0),
        ("daily_amplitude_c", e.daily_amplitude_c, 0.0, 30.0),
        ("seasonal_amplitude_c", e.seasonal_amplitude_c, 0.0, 40.0),
    ];
    for (field, v, lo, hi) in ranges {
        if !(v.is_finite() && (lo..=hi).contains(&v)) {
            site_bad(field, format!("must lie in {lo}..{hi}, got {v}"));
        }
    }
    let f = &e.emissions;
    for (field, v) in [
        ("solar", f.solar),
        ("wind", f.wind),
        ("chp", f.chp),
        ("bio", f.bio),
        ("grid", f.grid),
        ("other", f.other),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            site_bad(
                field,
                format!("emission factor must be zero or positive, got {v}"),
            );
        }
    }
}
