//! The two baselines: CAISO's 10-in-10, the reference point (and gameable), and the
//! weather-normalised baseline fitted before enrolment (see the module above).

use super::{DayUse, TokenError, Window};
use serde::{Deserialize, Serialize};

/// How far back (days) the 10-in-10 looks for eligible days.
pub const CAISO_LOOKBACK_DAYS: u32 = 45;

/// The day-of adjustment's cap: the baseline is scaled by at most ±20 %.
pub const CAISO_ADJUSTMENT_CAP: f64 = 0.20;

/// CAISO's 10-in-10 customer load baseline of `day`'s `window`, in kWh.
///
/// - Eligible days: before `day`, within [`CAISO_LOOKBACK_DAYS`], of the same kind (weekday,
///   or weekend and holiday), without an event, every hour readable.
/// - The 10 most recent eligible weekdays (for a weekend or holiday event, the 4 most recent
///   eligible weekend and holiday days, the usual 4-in-4); the baseline of each hour is their
///   mean.
/// - Day-of adjustment: the ratio of the day's actual use to the baseline over the three hours
///   ending one hour before the event (hours start−4 to start−2), capped to 1 ± 20 % and
///   applied to the window's baseline. None when the event starts before 04:00.
///
/// None (here; a programme then falls back to another rule) when fewer than half the days
/// wanted are eligible (5 weekdays, 2 weekend days), or when `day` itself is not readable.
pub fn caiso_10_of_10(history: &[DayUse], day: &DayUse, window: Window) -> Option<f64> {
    let (want, least) = if day.weekday { (10, 5) } else { (4, 2) };
    let mut eligible: Vec<&DayUse> = history
        .iter()
        .filter(|h| {
            h.day < day.day
                && day.day - h.day <= CAISO_LOOKBACK_DAYS
                && h.weekday == day.weekday
                && h.event.is_none()
                && h.readable()
        })
        .collect();
    eligible.sort_by_key(|h| std::cmp::Reverse(h.day));
    eligible.dedup_by_key(|h| h.day);
    eligible.truncate(want);
    if eligible.len() < least || !day.readable() {
        return None;
    }
    let n = eligible.len() as f64;
    let mean_hour = |h: usize| eligible.iter().map(|d| d.hourly_kwh[h]).sum::<f64>() / n;
    let base: f64 = window.hours().map(mean_hour).sum();
    let start = window.start() as usize;
    let ratio = if start >= 4 {
        let hours = start - 4..start - 1;
        let actual: f64 = day.hourly_kwh[hours.clone()].iter().sum();
        let expected: f64 = hours.map(mean_hour).sum();
        if expected > 0.0 {
            (actual / expected).clamp(1.0 - CAISO_ADJUSTMENT_CAP, 1.0 + CAISO_ADJUSTMENT_CAP)
        } else {
            1.0
        }
    } else {
        1.0
    };
    Some(base * ratio)
}

/// One degree-day term: use rises by `slope` kWh per degree-day beyond the balance point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DegreeDayTerm {
    /// °C: cooling degree-days are max(0, T − balance), heating ones max(0, balance − T).
    pub balance_c: f64,
    /// kWh per degree-day, above zero.
    pub slope: f64,
}

/// use = intercept + cooling slope · CDD + heating slope · HDD, from the day's mean
/// temperature; either term may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DegreeDayModel {
    pub intercept: f64,
    pub cooling: Option<DegreeDayTerm>,
    pub heating: Option<DegreeDayTerm>,
    /// Days it was fitted on.
    pub days: usize,
    /// Standard deviation of the residuals, kWh.
    pub residual_sd: f64,
    /// Adjusted R² (0 for the mean alone).
    pub adj_r2: f64,
}

/// Heating balance points tried, in half degrees C: 10 to 18 °C (CalTRACK searches 55 to
/// 65 °F, 12.8 to 18.3 °C; a community's climate may want lower).
const HEATING_BALANCE_C: std::ops::RangeInclusive<u32> = 20..=36;
/// Cooling balance points tried, in half degrees C: 16 to 26 °C (CalTRACK: 65 to 75 °F,
/// 18.3 to 23.9 °C).
const COOLING_BALANCE_C: std::ops::RangeInclusive<u32> = 32..=52;
/// Fewer days than this: the mean alone.
pub const MIN_REGRESSION_DAYS: usize = 20;
/// A degree-day term needs at least this many days with degree-days above zero (CalTRACK's
/// sufficiency rule).
pub const MIN_DEGREE_DAYS: usize = 10;
/// A slope must be above zero by this many standard errors (p < 0.1, CalTRACK's rule).
const T_MIN: f64 = 1.645;

impl DegreeDayModel {
    /// The use predicted at a day's mean temperature, kWh (never below zero).
    pub fn predict(&self, mean_temp_c: f64) -> f64 {
        let mut y = self.intercept;
        if let Some(c) = self.cooling {
            y += c.slope * (mean_temp_c - c.balance_c).max(0.0);
        }
        if let Some(h) = self.heating {
            y += h.slope * (h.balance_c - mean_temp_c).max(0.0);
        }
        y.max(0.0)
    }

    /// Fits (mean temperature °C, use kWh) points: the mean alone, cooling only, heating only
    /// and both, for every pair of balance points on the grids (heating at or below cooling);
    /// candidates whose slopes are not positive and significant, or that have too few days
    /// with degree-days, are out; the best adjusted R² wins (the simpler on a tie). With fewer
    /// than [`MIN_REGRESSION_DAYS`] points, the mean alone. No points: zero.
    pub fn fit(points: &[(f64, f64)]) -> Self {
        let n = points.len();
        let mean = if n == 0 {
            0.0
        } else {
            points.iter().map(|p| p.1).sum::<f64>() / n as f64
        };
        let sst: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
        let mut best = DegreeDayModel {
            intercept: mean,
            cooling: None,
            heating: None,
            days: n,
            residual_sd: if n > 1 {
                (sst / (n - 1) as f64).sqrt()
            } else {
                0.0
            },
            adj_r2: 0.0,
        };
        if n < MIN_REGRESSION_DAYS || sst <= 0.0 {
            return best;
        }
        let mut consider = |c: Option<f64>, h: Option<f64>| {
            let days_with = |f: &dyn Fn(f64) -> bool| points.iter().filter(|p| f(p.0)).count();
            if c.is_some_and(|b| days_with(&|t| t > b) < MIN_DEGREE_DAYS)
                || h.is_some_and(|b| days_with(&|t| t < b) < MIN_DEGREE_DAYS)
            {
                return;
            }
            let p = 1 + usize::from(c.is_some()) + usize::from(h.is_some());
            let row = |t: f64| {
                let mut r = [1.0, 0.0, 0.0];
                let mut j = 1;
                if let Some(b) = c {
                    r[j] = (t - b).max(0.0);
                    j += 1;
                }
                if let Some(b) = h {
                    r[j] = (b - t).max(0.0);
                }
                r
            };
            let Some(fit) = ols(points, p, row) else {
                return;
            };
            let significant = (1..p).all(|j| fit.beta[j] > 0.0 && fit.beta[j] > T_MIN * fit.se[j]);
            let adj_r2 = 1.0 - (fit.ssr / (n - p) as f64) / (sst / (n - 1) as f64);
            if !significant || adj_r2 <= best.adj_r2 {
                return;
            }
            let cooling = c.map(|balance_c| DegreeDayTerm {
                balance_c,
                slope: fit.beta[1],
            });
            let heating = h.map(|balance_c| DegreeDayTerm {
                balance_c,
                slope: fit.beta[p - 1],
            });
            best = DegreeDayModel {
                intercept: fit.beta[0],
                cooling,
                heating,
                days: n,
                residual_sd: (fit.ssr / (n - p) as f64).sqrt(),
                adj_r2,
            };
        };
        let half = |k: u32| f64::from(k) / 2.0;
        for c in COOLING_BALANCE_C {
            consider(Some(half(c)), None);
        }
        for h in HEATING_BALANCE_C {
            consider(None, Some(half(h)));
        }
        for c in COOLING_BALANCE_C {
            for h in HEATING_BALANCE_C.filter(|&h| h <= c) {
                consider(Some(half(c)), Some(half(h)));
            }
        }
        best
    }
}

/// Coefficients (intercept first), their standard errors, the residual sum of squares.
struct Ols {
    beta: [f64; 3],
    se: [f64; 3],
    ssr: f64,
}

/// Ordinary least squares of y on the first `p` entries of `row(t)` (an intercept and up to
/// two columns); None when the columns are (nearly) collinear or there are no more points
/// than coefficients.
fn ols(points: &[(f64, f64)], p: usize, row: impl Fn(f64) -> [f64; 3]) -> Option<Ols> {
    let n = points.len();
    if !(1..=3).contains(&p) || n <= p {
        return None;
    }
    let mut xtx = [[0.0f64; 3]; 3];
    let mut xty = [0.0f64; 3];
    for &(t, y) in points {
        let r = row(t);
        for a in 0..p {
            xty[a] += r[a] * y;
            for b in 0..p {
                xtx[a][b] += r[a] * r[b];
            }
        }
    }
    let inv = invert(xtx, p)?;
    let mut beta = [0.0; 3];
    for a in 0..p {
        beta[a] = (0..p).map(|b| inv[a][b] * xty[b]).sum();
    }
    let ssr: f64 = points
        .iter()
        .map(|&(t, y)| {
            let r = row(t);
            let fitted: f64 = (0..p).map(|a| r[a] * beta[a]).sum();
            (y - fitted).powi(2)
        })
        .sum();
    let s2 = ssr / (n - p) as f64;
    let mut se = [0.0; 3];
    for a in 0..p {
        se[a] = (s2 * inv[a][a]).max(0.0).sqrt();
    }
    Some(Ols { beta, se, ssr })
}

/// The inverse of the leading p×p block, by Gauss-Jordan elimination with partial pivoting;
/// None when (nearly) singular.
fn invert(mut a: [[f64; 3]; 3], p: usize) -> Option<[[f64; 3]; 3]> {
    let scale = (0..p).map(|i| a[i][i].abs()).fold(0.0, f64::max);
    let mut inv = [[0.0f64; 3]; 3];
    for (i, r) in inv.iter_mut().enumerate().take(p) {
        r[i] = 1.0;
    }
    for col in 0..p {
        let piv = (col..p).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[piv][col].abs() <= 1e-10 * scale {
            return None;
        }
        a.swap(col, piv);
        inv.swap(col, piv);
        let d = a[col][col];
        for k in 0..p {
            a[col][k] /= d;
            inv[col][k] /= d;
        }
        for r in 0..p {
            if r != col {
                let f = a[r][col];
                for k in 0..p {
                    a[r][k] -= f * a[col][k];
                    inv[r][k] -= f * inv[col][k];
                }
            }
        }
    }
    Some(inv)
}

/// A household's weather-normalised baseline of one event window, fitted once on a reference
/// period that ended before the scheme was announced (see the module above). Nothing after
/// the fit changes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherBaseline {
    window: Window,
    weekday: DegreeDayModel,
    weekend: DegreeDayModel,
    first_day: u32,
    last_day: u32,
}

/// Fewer usable reference days than this: no baseline (the household is settled from the
/// model of its kind, or not at all).
pub const MIN_REFERENCE_DAYS: usize = 10;
/// Weekdays and weekends are fitted apart when each has at least this many days; otherwise
/// both use the model of all days.
pub const MIN_DAY_KIND_DAYS: usize = 30;

impl WeatherBaseline {
    /// Fits the window's use on the reference days that had no event and are readable.
    pub fn fit(reference: &[DayUse], window: Window) -> Result<Self, TokenError> {
        let days: Vec<&DayUse> = reference
            .iter()
            .filter(|d| d.event.is_none() && d.readable())
            .collect();
        if days.len() < MIN_REFERENCE_DAYS {
            return Err(TokenError::TooLittleData {
                days: days.len(),
                needed: MIN_REFERENCE_DAYS,
            });
        }
        let points = |weekday: Option<bool>| -> Vec<(f64, f64)> {
            days.iter()
                .filter(|d| weekday.is_none_or(|w| d.weekday == w))
                .map(|d| (d.mean_temp_c, window.kwh(d)))
                .collect()
        };
        let all = points(None);
        let weekday = points(Some(true));
        let weekend = points(Some(false));
        let (weekday, weekend) =
            if weekday.len() >= MIN_DAY_KIND_DAYS && weekend.len() >= MIN_DAY_KIND_DAYS {
                (DegreeDayModel::fit(&weekday), DegreeDayModel::fit(&weekend))
            } else {
                let m = DegreeDayModel::fit(&all);
                (m.clone(), m)
            };
        Ok(WeatherBaseline {
            window,
            weekday,
            weekend,
            first_day: days.iter().map(|d| d.day).min().unwrap_or(0),
            last_day: days.iter().map(|d| d.day).max().unwrap_or(0),
        })
    }

    /// The baseline of the window on `day`, kWh: the model of its kind at its mean
    /// temperature; its use is not looked at. None when the temperature is not finite, or
    /// when the day's event has another window (fit one baseline per window).
    pub fn baseline(&self, day: &DayUse) -> Option<f64> {
        if day.event.is_some_and(|w| w != self.window) || !day.mean_temp_c.is_finite() {
            return None;
        }
        Some(self.predict(day.weekday, day.mean_temp_c))
    }

    /// The window's use predicted for a kind of day at a mean temperature, kWh.
    pub fn predict(&self, weekday: bool, mean_temp_c: f64) -> f64 {
        self.model(weekday).predict(mean_temp_c)
    }

    pub fn window(&self) -> Window {
        self.window
    }

    /// The model of weekdays, or of weekends and holidays.
    pub fn model(&self, weekday: bool) -> &DegreeDayModel {
        if weekday {
            &self.weekday
        } else {
            &self.weekend
        }
    }

    /// The first and last reference day used.
    pub fn reference_days(&self) -> (u32, u32) {
        (self.first_day, self.last_day)
    }
}
