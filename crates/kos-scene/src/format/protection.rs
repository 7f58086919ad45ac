//! Protection devices in a scene: relays on breakers, fuses, reclosers, sectionalisers and
//! fault passage indicators, each on the branch it opens (or watches). Their
//! characteristics are data here; kos-protection computes with them.

use super::*;

/// The IEC 60255-151 inverse-time characteristics: `t = TMS k / (M^a - 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IecCurve {
    /// Standard inverse: k 0.14, a 0.02.
    StandardInverse,
    /// Very inverse: k 13.5, a 1.
    VeryInverse,
    /// Extremely inverse: k 80, a 2.
    ExtremelyInverse,
    /// Long-time inverse: k 120, a 1.
    LongTimeInverse,
}

/// The IEEE C37.112 inverse-time characteristics: `t = TD (A / (M^p - 1) + B)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IeeeCurve {
    /// Moderately inverse: A 0.0515 s, B 0.1140 s, p 0.02.
    ModeratelyInverse,
    /// Very inverse: A 19.61 s, B 0.491 s, p 2.
    VeryInverse,
    /// Extremely inverse: A 28.2 s, B 0.1217 s, p 2.
    ExtremelyInverse,
}

/// A time-current characteristic, in multiples of the pickup (or rated) current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Curve {
    /// IEC 60255-151 with its time multiplier setting.
    Iec {
        /// Which characteristic.
        curve: IecCurve,
        /// Time multiplier setting (TMS).
        tms: f64,
    },
    /// IEEE C37.112 with its time dial.
    Ieee {
        /// Which characteristic.
        curve: IeeeCurve,
        /// Time dial (TD).
        td: f64,
    },
    /// A fixed delay above pickup, s.
    DefiniteTime {
        /// Delay, s.
        delay_s: f64,
    },
    /// A table of (multiple, seconds) points, multiples rising and times not rising,
    /// interpolated log-log.
    Table {
        /// The points.
        points: Vec<(f64, f64)>,
    },
}

impl Curve {
    /// Checks the settings: positive multipliers, a table of at least two points with
    /// multiples rising and times not rising. The message names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let positive = |what: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("{what} must be a positive number, not {v}"))
            }
        };
        match self {
            Self::Iec { tms, .. } => positive("tms", *tms),
            Self::Ieee { td, .. } => positive("td", *td),
            Self::DefiniteTime { delay_s } => {
                if delay_s.is_finite() && *delay_s >= 0.0 {
                    Ok(())
                } else {
                    Err(format!("delay_s must be zero or more, not {delay_s}"))
                }
            }
            Self::Table { points } => {
                if points.len() < 2 {
                    return Err("a table needs at least two points".into());
                }
                for (i, &(m, t)) in points.iter().enumerate() {
                    positive(&format!("points[{i}] multiple"), m)?;
                    positive(&format!("points[{i}] time"), t)?;
                    if i > 0 {
                        let (m0, t0) = points[i - 1];
                        if m <= m0 {
                            return Err(format!(
                                "points[{i}]: multiples must rise ({m} after {m0})"
                            ));
                        }
                        if t > t0 {
                            return Err(format!(
                                "points[{i}]: the curve is not monotone (time {t} s after {t0} s at a higher current)"
                            ));
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// The melting curve of OpenDSS's `tlink` fuse: (multiple of the rated current, seconds).
pub const TLINK_POINTS: [(f64, f64); 7] = [
    (2.0, 300.0),
    (2.1, 100.0),
    (3.0, 10.1),
    (4.0, 4.0),
    (6.0, 1.4),
    (22.0, 0.1),
    (50.0, 0.02),
];

fn breaker_s() -> f64 {
    0.05
}
fn one_shot() -> u32 {
    1
}
fn four_shots() -> u32 {
    4
}
fn recloser_intervals() -> Vec<f64> {
    vec![0.5, 2.0, 2.0]
}
fn recloser_reset() -> f64 {
    15.0
}

/// What a protection device is, with its settings. Currents are primary amperes unless a
/// field says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DeviceSpec {
    /// An overcurrent relay (ANSI 50/51) tripping a breaker.
    Relay {
        /// Current transformer ratio, primary A per secondary A (400/5 is 80).
        ct_ratio: f64,
        /// Inverse-time stage's pickup, secondary A.
        pickup_a: f64,
        /// Inverse-time characteristic.
        curve: Curve,
        /// Instantaneous stage's pickup, secondary A (none: no such stage).
        #[serde(default)]
        instantaneous_a: Option<f64>,
        /// Instantaneous stage's delay, s.
        #[serde(default)]
        instantaneous_delay_s: f64,
        /// Breaker opening time, s.
        #[serde(default = "breaker_s")]
        breaker_s: f64,
    },
    /// A fuse.
    Fuse {
        /// Rated current, A.
        rating_a: f64,
        /// Melting curve, multiples of the rated current.
        curve: Curve,
    },
    /// A recloser (OpenDSS's defaults: 4 shots, 1 fast, 0.5, 2 and 2 s, reset 15 s).
    Recloser {
        /// Pickup, A.
        pickup_a: f64,
        /// Fast curve, multiples of pickup.
        fast: Curve,
        /// Delayed curve, multiples of pickup.
        delayed: Curve,
        /// Trips on the fast curve.
        #[serde(default = "one_shot")]
        fast_shots: u32,
        /// Trips to lockout.
        #[serde(default = "four_shots")]
        shots: u32,
        /// Dead time before each reclose, s (the last repeats).
        #[serde(default = "recloser_intervals")]
        intervals_s: Vec<f64>,
        /// Good supply after which the count resets, s.
        #[serde(default = "recloser_reset")]
        reset_s: f64,
    },
    /// A sectionaliser: counts upstream trips that followed fault current, opens in the
    /// dead time after its count.
    Sectionaliser {
        /// Least current counted, A.
        pickup_a: f64,
        /// Trips before it opens.
        counts: u32,
    },
    /// A fault passage indicator: reports over telemetry that fault current passed.
    FaultIndicator {
        /// Least current reported, A.
        pickup_a: f64,
    },
}

impl DeviceSpec {
    /// Kind name, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Relay { .. } => "relay",
            Self::Fuse { .. } => "fuse",
            Self::Recloser { .. } => "recloser",
            Self::Sectionaliser { .. } => "sectionaliser",
            Self::FaultIndicator { .. } => "fault indicator",
        }
    }

    /// The least primary current it responds to, A.
    pub fn pickup_primary_a(&self) -> f64 {
        match self {
            Self::Relay {
                ct_ratio, pickup_a, ..
            } => ct_ratio * pickup_a,
            Self::Fuse { rating_a, .. } => *rating_a,
            Self::Recloser { pickup_a, .. }
            | Self::Sectionaliser { pickup_a, .. }
            | Self::FaultIndicator { pickup_a } => *pickup_a,
        }
    }
}

/// A protection device on a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectionSpec {
    /// Asset id.
    pub id: String,
    /// The line, transformer or switch it opens or watches.
    pub branch: String,
    /// The bus at the end of the branch where it sits (default: the from or high-voltage
    /// side).
    #[serde(default)]
    pub at_bus: Option<String>,
    /// Kind and settings.
    pub device: DeviceSpec,
}
