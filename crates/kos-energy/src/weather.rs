//! Seeded synthetic weather: wind with a Weibull distribution, gusts, air temperature and
//! cloud cover, all smooth in time and reproducible from a `u64` seed.
//!
//! Every random quantity starts as a sum of Perlin noise channels sampled along a line in
//! the noise plane (time → position), which is close to normal by the central limit
//! theorem. It is standardised, mapped through the normal CDF to a uniform variate, and then
//! through the inverse CDF of the wanted distribution (probability integral transform).
//! This keeps the time correlation of the noise and gives the wanted marginal distribution.

use noise::{NoiseFn, Perlin};
use serde::{Deserialize, Serialize};

use crate::math::{gamma, normal_cdf};
use crate::solar::finite_or;

/// Standard deviation of one `Perlin` 2-D channel sampled along [`DIRECTION`], measured
/// once over 20 seeds × 3 channels × 10⁵ points (a calibration constant of the noise crate,
/// not a physical value; the sum of 3 channels standardised by it maps to deciles within
/// ±0.3 % of uniform). Used to standardise sums of channels.
const PERLIN_STD: f64 = 0.4298;
/// Direction of the sampling line in the noise plane: slope 1/φ (golden ratio), so the line
/// never retraces the lattice and the statistics do not depend on the start point.
const DIRECTION: [f64; 2] = [1.0, 0.618_033_988_749_895];
/// Perlin noise in the `noise` crate repeats every 256 lattice units; coordinates are
/// reduced modulo this to stay exact (and inside `isize`) for any time.
const NOISE_PERIOD: f64 = 256.0;
/// Independent channels summed per octave; 3 makes the sum near-normal.
const CHANNELS: usize = 3;
/// Correlation time of synoptic (weather-system) wind variations, h per noise unit.
const WIND_SLOW_H: f64 = 8.0;
/// Correlation time of sub-hourly wind variations (the minute means), h per noise unit.
const WIND_FAST_H: f64 = 0.5;
/// Weights of the slow and sub-hourly wind octaves (sum of squares = 1 keeps variance).
const WIND_WEIGHTS: [f64; 2] = [0.95, 0.312_249_899_919_919_8];
/// Time scale of gust (peak-factor) variation, h per noise unit (≈ 3 minutes).
const GUST_H: f64 = 0.05;
/// Turbulence intensity σ_u/ū for gusts (IEC 61400-1 class B reference 0.14, rounded), -.
const TURBULENCE_INTENSITY: f64 = 0.15;
/// Mean peak factor of the 3-s gust within a minute-scale record, in standard deviations.
const GUST_PEAK_FACTOR: f64 = 2.5;
/// Correlation time of cloud fields, h per noise unit (fronts and cloud decks).
const CLOUD_SLOW_H: f64 = 18.0;
/// Correlation time of passing cumulus, h per noise unit.
const CLOUD_FAST_H: f64 = 1.5;
/// Weights of slow and fast cloud octaves (sum of squares = 1).
const CLOUD_WEIGHTS: [f64; 2] = [0.9, 0.435_889_894_354_067_4];
/// Correlation time of synoptic temperature anomalies, h per noise unit.
const TEMP_ANOMALY_H: f64 = 36.0;
/// Standard deviation of the synoptic temperature anomaly, °C.
const TEMP_ANOMALY_STD_C: f64 = 2.5;
/// Day of year of the seasonal temperature maximum in the northern hemisphere (late July:
/// air temperature lags the June solstice by about a month), day.
const SUMMER_PEAK_DOY: f64 = 200.0;
/// Local solar hour of the daily temperature maximum, h.
const DAILY_PEAK_HOUR: f64 = 15.0;

/// Climate of a site, from which [`Weather`] draws its samples.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeatherParams {
    /// Long-term mean wind speed at `reference_height_m`, m/s.
    pub mean_wind_m_s: f64,
    /// Weibull shape factor k of the wind speed distribution, dimensionless (2 = Rayleigh).
    pub weibull_k: f64,
    /// Height the wind statistics refer to, m (10 m is the meteorological standard).
    pub reference_height_m: f64,
    /// Annual mean air temperature, °C.
    pub mean_temperature_c: f64,
    /// Half the typical day–night swing of air temperature, °C.
    pub daily_amplitude_c: f64,
    /// Half the summer–winter swing of daily mean air temperature, °C.
    pub seasonal_amplitude_c: f64,
    /// Site latitude (north +), degrees; its sign picks the hemisphere of the seasons.
    pub latitude_deg: f64,
    /// Long-term mean cloud cover, fraction 0..=1.
    pub cloudiness: f64,
}

impl Default for WeatherParams {
    /// A temperate, windy mid-latitude site (≈ 50° N).
    fn default() -> Self {
        Self {
            mean_wind_m_s: 6.0,
            weibull_k: 2.0,
            reference_height_m: 10.0,
            mean_temperature_c: 12.0,
            daily_amplitude_c: 5.0,
            seasonal_amplitude_c: 8.0,
            latitude_deg: 50.0,
            cloudiness: 0.5,
        }
    }
}

/// The weather at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeatherSample {
    /// Fraction of the sky covered by cloud, 0..=1.
    pub cloud_cover: f64,
    /// Wind speed at the reference height, mean over the minute, m/s.
    pub wind_m_s: f64,
    /// Peak 3-second gust at the reference height within the minute, m/s (≥ `wind_m_s`).
    pub gust_m_s: f64,
    /// Air temperature near the ground, °C.
    pub ambient_c: f64,
}

/// A reproducible weather generator: the same seed and time always give the same sample.
#[derive(Clone, Debug)]
pub struct Weather {
    params: WeatherParams,
    /// Weibull scale factor c = mean / Γ(1 + 1/k), m/s.
    weibull_scale: f64,
    /// Weibull shape k actually used (sanitised), dimensionless.
    weibull_k: f64,
    /// Exponent p with E[U^p] = 1/(p+1) = cloudiness, dimensionless.
    cloud_exponent: f64,
    wind_slow: Octave,
    wind_fast: Octave,
    gust: Octave,
    cloud_slow: Octave,
    cloud_fast: Octave,
    temperature: Octave,
}

/// A few independent Perlin channels sampled at one time scale.
#[derive(Clone, Debug)]
struct Octave {
    channels: [Perlin; CHANNELS],
    /// Start offsets of each channel's line in the noise plane.
    offsets: [[f64; 2]; CHANNELS],
    /// Hours per noise lattice unit.
    hours_per_unit: f64,
}

impl Octave {
    fn new(seed: u64, stream: u64, hours_per_unit: f64) -> Self {
        let mut state = seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        let mut next = || splitmix64(&mut state);
        let mut make = || {
            let s = next();
            // Offsets spread channels over the 256-periodic plane; the seed goes to Perlin.
            let ox = (s >> 40) as f64 / (1u64 << 24) as f64 * NOISE_PERIOD;
            let oy = ((s >> 16) & 0xFF_FFFF) as f64 / (1u64 << 24) as f64 * NOISE_PERIOD;
            (Perlin::new((s & 0xFFFF_FFFF) as u32), [ox, oy])
        };
        let (p0, o0) = make();
        let (p1, o1) = make();
        let (p2, o2) = make();
        Self {
            channels: [p0, p1, p2],
            offsets: [o0, o1, o2],
            hours_per_unit,
        }
    }

    /// Standard-normal-like value at time `hours` (finite), dimensionless.
    fn z(&self, hours: f64) -> f64 {
        let u = (hours / self.hours_per_unit).rem_euclid(NOISE_PERIOD * 1_000_000.0);
        let mut sum = 0.0;
        for (p, o) in self.channels.iter().zip(self.offsets.iter()) {
            let x = (o[0] + u * DIRECTION[0]).rem_euclid(NOISE_PERIOD);
            let y = (o[1] + u * DIRECTION[1]).rem_euclid(NOISE_PERIOD);
            sum += p.get([x, y]);
        }
        let z = sum / (PERLIN_STD * (CHANNELS as f64).sqrt());
        finite_or(z, 0.0)
    }
}

/// SplitMix64 step (Steele et al. 2014): decorrelates the user's seed into channel seeds.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Weather {
    /// A generator for the climate `params`, reproducible from `seed`.
    pub fn new(seed: u64, params: WeatherParams) -> Self {
        let k = finite_or(params.weibull_k, 2.0).clamp(0.5, 20.0);
        let mean = finite_or(params.mean_wind_m_s, 0.0).clamp(0.0, 100.0);
        let cloudiness = finite_or(params.cloudiness, 0.5).clamp(0.01, 0.99);
        Self {
            params,
            weibull_scale: mean / gamma(1.0 + 1.0 / k),
            weibull_k: k,
            cloud_exponent: 1.0 / cloudiness - 1.0,
            wind_slow: Octave::new(seed, 1, WIND_SLOW_H),
            wind_fast: Octave::new(seed, 2, WIND_FAST_H),
            gust: Octave::new(seed, 3, GUST_H),
            cloud_slow: Octave::new(seed, 4, CLOUD_SLOW_H),
            cloud_fast: Octave::new(seed, 5, CLOUD_FAST_H),
            temperature: Octave::new(seed, 6, TEMP_ANOMALY_H),
        }
    }

    /// The climate this generator draws from.
    pub fn params(&self) -> &WeatherParams {
        &self.params
    }

    /// Weibull scale factor c = mean / Γ(1 + 1/k) of the wind distribution, m/s.
    pub fn weibull_scale_m_s(&self) -> f64 {
        self.weibull_scale
    }

    /// Weather at Unix time `unix_s` (s), local solar hour `local_hour` (h, 0..24) and
    /// `day_of_year` (1..=366). Non-finite inputs are read as 0 / noon / day 1.
    pub fn at(&self, unix_s: f64, local_hour: f64, day_of_year: f64) -> WeatherSample {
        let hours = finite_or(unix_s, 0.0) / 3600.0;
        // Both are periodic; reducing them keeps the cosine arguments small for any input.
        let hour = finite_or(local_hour, 12.0).rem_euclid(24.0);
        let doy = finite_or(day_of_year, 1.0).rem_euclid(365.25);

        // Wind: near-normal z → uniform → Weibull inverse CDF v = c·(−ln(1−u))^(1/k).
        let z =
            WIND_WEIGHTS[0] * self.wind_slow.z(hours) + WIND_WEIGHTS[1] * self.wind_fast.z(hours);
        let u = normal_cdf(z).clamp(1e-12, 1.0 - 1e-12);
        let wind = self.weibull_scale * (-(1.0 - u).ln()).powf(1.0 / self.weibull_k);
        let wind = finite_or(wind, 0.0).max(0.0);

        // Gust: mean + peak factor × σ_u, the peak factor varying from minute to minute and
        // never below the mean.
        let peak = (GUST_PEAK_FACTOR + 0.8 * self.gust.z(hours)).max(0.0);
        let gust = wind * (1.0 + TURBULENCE_INTENSITY * peak);

        // Clouds: uniform variate raised to p gives mean 1/(p+1) = cloudiness exactly.
        let zc = CLOUD_WEIGHTS[0] * self.cloud_slow.z(hours)
            + CLOUD_WEIGHTS[1] * self.cloud_fast.z(hours);
        let cloud = normal_cdf(zc).powf(self.cloud_exponent).clamp(0.0, 1.0);

        WeatherSample {
            cloud_cover: cloud,
            wind_m_s: wind,
            gust_m_s: finite_or(gust, wind).max(wind),
            ambient_c: self.temperature_c(hours, hour, doy, cloud),
        }
    }

    /// Air temperature, °C: annual mean + seasonal cosine (hemisphere from latitude) +
    /// daily cosine peaking at 15:00, damped under cloud + a synoptic anomaly.
    fn temperature_c(&self, hours: f64, hour: f64, doy: f64, cloud: f64) -> f64 {
        let p = &self.params;
        let mean = finite_or(p.mean_temperature_c, 12.0).clamp(-80.0, 60.0);
        let seasonal_amp = finite_or(p.seasonal_amplitude_c, 0.0).clamp(0.0, 50.0);
        let daily_amp = finite_or(p.daily_amplitude_c, 0.0).clamp(0.0, 30.0);
        let south = finite_or(p.latitude_deg, 0.0) < 0.0;
        let peak_doy = if south {
            SUMMER_PEAK_DOY - 182.625
        } else {
            SUMMER_PEAK_DOY
        };
        let tau = std::f64::consts::TAU;
        let seasonal = seasonal_amp * (tau * (doy - peak_doy) / 365.25).cos();
        // Clouds cut both daytime heating and night-time radiative cooling; centring the
        // factor on the mean cloudiness keeps the average amplitude at `daily_amplitude_c`.
        let mean_cloud = 1.0 / (self.cloud_exponent + 1.0);
        let damping = (1.0 + 0.6 * (mean_cloud - cloud)).max(0.2);
        let daily = daily_amp * damping * (tau * (hour - DAILY_PEAK_HOUR) / 24.0).cos();
        let anomaly = TEMP_ANOMALY_STD_C * self.temperature.z(hours);
        mean + seasonal + daily + anomaly
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A year sampled every 10 minutes, with local hour and day of year.
    fn year(w: &Weather) -> Vec<(f64, WeatherSample)> {
        let start = 1_704_067_200.0; // 2024-01-01 00:00 UTC
        (0..365 * 144)
            .map(|i| {
                let t = start + f64::from(i) * 600.0;
                let hour = (f64::from(i % 144)) / 6.0;
                let doy = f64::from(i / 144) + 1.0;
                (hour, w.at(t, hour, doy))
            })
            .collect()
    }

    #[test]
    fn deterministic() {
        let a = Weather::new(42, WeatherParams::default());
        let b = Weather::new(42, WeatherParams::default());
        let c = Weather::new(43, WeatherParams::default());
        for i in 0..100 {
            let t = 1.7e9 + f64::from(i) * 977.0;
            assert_eq!(a.at(t, 10.0, 100.0), b.at(t, 10.0, 100.0));
        }
        assert_ne!(a.at(1.7e9, 10.0, 100.0), c.at(1.7e9, 10.0, 100.0));
    }

    #[test]
    fn wind_follows_weibull() {
        for seed in [1u64, 7, 2024] {
            let w = Weather::new(seed, WeatherParams::default());
            let samples = year(&w);
            let n = samples.len() as f64;
            let mean = samples.iter().map(|s| s.1.wind_m_s).sum::<f64>() / n;
            assert!((mean / 6.0 - 1.0).abs() < 0.10, "seed {seed} mean {mean}");
            // P(v < mean) = 1 − exp(−(mean/c)^k); for k = 2: 1 − exp(−π/4) = 0.5441.
            let c = w.weibull_scale_m_s();
            let expected = 1.0 - (-(6.0f64 / c).powi(2)).exp();
            assert!((expected - (1.0 - (-std::f64::consts::FRAC_PI_4).exp())).abs() < 1e-12);
            let below = samples.iter().filter(|s| s.1.wind_m_s < 6.0).count() as f64 / n;
            assert!((below - expected).abs() < 0.05, "seed {seed} below {below}");
            // Upper tail: P(v > 2·mean) = exp(−(12/c)²) = exp(−π) = 0.0432.
            let above = samples.iter().filter(|s| s.1.wind_m_s > 12.0).count() as f64 / n;
            assert!(
                (above - (-std::f64::consts::PI).exp()).abs() < 0.02,
                "above {above}"
            );
        }
    }

    #[test]
    fn gusts_clouds_and_temperature() {
        let w = Weather::new(5, WeatherParams::default());
        let samples = year(&w);
        let n = samples.len() as f64;
        assert!(samples.iter().all(|s| s.1.gust_m_s >= s.1.wind_m_s));
        assert!(
            samples
                .iter()
                .all(|s| (0.0..=1.0).contains(&s.1.cloud_cover))
        );
        let cloud = samples.iter().map(|s| s.1.cloud_cover).sum::<f64>() / n;
        assert!((cloud - 0.5).abs() < 0.06, "cloud {cloud}");
        // Mean temperature by hour of day peaks in the afternoon.
        let mut by_hour = [0.0; 24];
        for (h, s) in &samples {
            by_hour[*h as usize] += s.ambient_c;
        }
        let peak = (0..24)
            .max_by(|&a, &b| by_hour[a].total_cmp(&by_hour[b]))
            .unwrap_or(0);
        assert!((13..=17).contains(&peak), "peak hour {peak}");
        let annual = samples.iter().map(|s| s.1.ambient_c).sum::<f64>() / n;
        assert!((annual - 12.0).abs() < 1.5, "annual {annual}");
    }

    #[test]
    fn cloudiness_target_is_met() {
        for target in [0.2, 0.7] {
            let p = WeatherParams {
                cloudiness: target,
                ..WeatherParams::default()
            };
            let w = Weather::new(11, p);
            let s = year(&w);
            let mean = s.iter().map(|s| s.1.cloud_cover).sum::<f64>() / s.len() as f64;
            assert!((mean - target).abs() < 0.06, "target {target} mean {mean}");
        }
    }

    #[test]
    fn seasons_follow_hemisphere() {
        let north = Weather::new(3, WeatherParams::default());
        let south = Weather::new(
            3,
            WeatherParams {
                latitude_deg: -35.0,
                ..WeatherParams::default()
            },
        );
        // Same noise, opposite seasonal term: July is warmer than January in the north only.
        let t = 1.7e9;
        assert!(north.at(t, 12.0, 200.0).ambient_c > north.at(t, 12.0, 15.0).ambient_c);
        assert!(south.at(t, 12.0, 200.0).ambient_c < south.at(t, 12.0, 15.0).ambient_c);
    }

    #[test]
    fn perlin_std_calibration() {
        // The standardised sum must have unit variance along the sampling line.
        let o = Octave::new(99, 9, 1.0);
        let n = 200_000;
        let (mut s, mut s2) = (0.0, 0.0);
        for i in 0..n {
            let z = o.z(f64::from(i) * 0.173);
            s += z;
            s2 += z * z;
        }
        let mean = s / f64::from(n);
        let var = s2 / f64::from(n) - mean * mean;
        assert!(
            mean.abs() < 0.05 && (var - 1.0).abs() < 0.05,
            "mean {mean} var {var}"
        );
    }

    proptest! {
        #[test]
        fn samples_finite_and_bounded(
            seed in any::<u64>(),
            t in proptest::num::f64::ANY,
            h in proptest::num::f64::ANY,
            d in proptest::num::f64::ANY,
        ) {
            let s = Weather::new(seed, WeatherParams::default()).at(t, h, d);
            prop_assert!((0.0..=1.0).contains(&s.cloud_cover));
            prop_assert!(s.wind_m_s.is_finite() && s.wind_m_s >= 0.0);
            prop_assert!(s.gust_m_s.is_finite() && s.gust_m_s >= s.wind_m_s);
            prop_assert!(s.ambient_c.is_finite());
        }
    }
}
