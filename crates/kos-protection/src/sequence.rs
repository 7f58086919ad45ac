//! The sequence of operations after a fault, computed analytically: the devices in series
//! between the source and the fault, each with the current it sees, operate by their
//! characteristics, and the result is the list of operations with their times in
//! milliseconds from the fault. Nothing here depends on a simulation tick.
//!
//! Rules, for non-directional devices in a radial feeder:
//! - a relay (ANSI 50/51) operates after its inverse-time or instantaneous stage's time plus
//!   its breaker's opening time, and locks out;
//! - a fuse melts when its heat reaches one: each energised interval adds its length over the
//!   melting time at that current (the curve's total clearing time is taken as its melting
//!   time); it does not cool during a recloser's dead time;
//! - a recloser trips on its fast curve for its first `fast_shots` trips and on its delayed
//!   curve after, recloses after each interval, and locks out after `shots` trips (OpenDSS's
//!   defaults: 4 shots, 1 fast, 0.5, 2 and 2 s, reset 15 s);
//! - a sectionaliser downstream of a recloser counts the recloser's trips while it saw fault
//!   current, and opens in the dead time after its `counts`-th, so that the recloser's next
//!   reclose holds;
//! - a temporary fault is gone once the faulted section has been dead (the first trip or
//!   melt that de-energises it); a permanent one stays until the section is isolated.
//!
//! Relay timing resets at once when the current stops (numerical relays); a recloser's
//! count resets after `reset_s` of good supply, which ends a sequence here.

use serde::{Deserialize, Serialize};

use kos_scene::DeviceSpec;

use crate::curves::{Characteristic, Curve};

/// A protection device in the fault's path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Device {
    /// An overcurrent relay on a breaker.
    Relay {
        /// Inverse-time stage's pickup, primary A.
        pickup_a: f64,
        /// Inverse-time stage's characteristic.
        curve: Curve,
        /// Instantaneous stage: pickup (primary A) and delay (s).
        instantaneous: Option<(f64, f64)>,
        /// Breaker opening time, s.
        breaker_s: f64,
    },
    /// A fuse.
    Fuse {
        /// Rated current, A.
        rating_a: f64,
        /// Melting curve in multiples of the rated current.
        curve: Curve,
    },
    /// A recloser.
    Recloser {
        /// Pickup, primary A.
        pickup_a: f64,
        /// Fast curve (multiples of pickup).
        fast: Curve,
        /// Delayed curve (multiples of pickup).
        delayed: Curve,
        /// Trips on the fast curve.
        fast_shots: u32,
        /// Trips to lockout.
        shots: u32,
        /// Dead time before each reclose, s (the last repeats).
        intervals_s: Vec<f64>,
    },
    /// A sectionaliser.
    Sectionaliser {
        /// Least current counted as a fault, A.
        pickup_a: f64,
        /// Upstream trips before it opens.
        counts: u32,
    },
}

impl Device {
    /// Time to operate at `current_a` on its `trip`-th trip (0-based), s: a relay's with its
    /// breaker, a fuse's melting time from cold, a recloser's on the curve of that trip.
    pub fn time(&self, current_a: f64, trip: u32) -> Option<f64> {
        match self {
            Self::Relay {
                pickup_a,
                curve,
                instantaneous,
                breaker_s,
            } => {
                let inverse = curve.time(current_a / pickup_a);
                let inst = instantaneous.and_then(|(p, d)| (current_a > p).then_some(d));
                let t = match (inverse, inst) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                t.map(|t| t + breaker_s)
            }
            Self::Fuse { rating_a, curve } => curve.time(current_a / rating_a),
            Self::Recloser {
                pickup_a,
                fast,
                delayed,
                fast_shots,
                ..
            } => {
                let curve = if trip < *fast_shots { fast } else { delayed };
                curve.time(current_a / pickup_a)
            }
            Self::Sectionaliser { .. } => None,
        }
    }

    /// The model of a scene's device (a fault indicator operates nothing: `None`).
    pub fn from_spec(spec: &DeviceSpec) -> Option<Self> {
        Some(match spec {
            DeviceSpec::Relay {
                ct_ratio,
                pickup_a,
                curve,
                instantaneous_a,
                instantaneous_delay_s,
                breaker_s,
            } => Self::Relay {
                pickup_a: ct_ratio * pickup_a,
                curve: curve.clone(),
                instantaneous: instantaneous_a.map(|i| (ct_ratio * i, *instantaneous_delay_s)),
                breaker_s: *breaker_s,
            },
            DeviceSpec::Fuse { rating_a, curve } => Self::Fuse {
                rating_a: *rating_a,
                curve: curve.clone(),
            },
            DeviceSpec::Recloser {
                pickup_a,
                fast,
                delayed,
                fast_shots,
                shots,
                intervals_s,
                ..
            } => Self::Recloser {
                pickup_a: *pickup_a,
                fast: fast.clone(),
                delayed: delayed.clone(),
                fast_shots: *fast_shots,
                shots: *shots,
                intervals_s: intervals_s.clone(),
            },
            DeviceSpec::Sectionaliser { pickup_a, counts } => Self::Sectionaliser {
                pickup_a: *pickup_a,
                counts: *counts,
            },
            DeviceSpec::FaultIndicator { .. } => return None,
        })
    }
}

/// A device in the path and the fault current through it, A.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InPath {
    /// Name of the device (for the events).
    pub name: String,
    /// The device.
    pub device: Device,
    /// Fault current through it while the fault is fed, A.
    pub current_a: f64,
}

/// What a device did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A relay's stage picked up (at the fault's start).
    Pickup,
    /// A breaker or recloser opened on a trip.
    Trip,
    /// A fuse melted and cleared.
    Melt,
    /// A recloser closed again after its dead time.
    Reclose,
    /// A sectionaliser opened in a dead time.
    Open,
    /// A device opened for good: no more reclosing.
    Lockout,
    /// The fault was gone when the section was re-energised (a temporary fault).
    FaultCleared,
    /// Nothing in the path operates: the fault persists.
    NotCleared,
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Milliseconds from the fault.
    pub t_ms: f64,
    /// Index of the device in the path (`None` for the fault itself).
    pub device: Option<usize>,
    /// What happened.
    pub action: Action,
}

/// The sequence and where it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// The operations in time order.
    pub operations: Vec<Operation>,
    /// The device left open (isolating the fault), if any: customers downstream of it are
    /// out until restoration.
    pub isolated_by: Option<usize>,
    /// Dead intervals (start ms, end ms) of the section downstream of each device that
    /// reclosed successfully: momentary interruptions for its customers.
    pub momentary: Vec<(usize, f64, f64)>,
}

/// The sequence of operations for a fault fed through `path` (devices ordered from the
/// source towards the fault). `permanent`: the fault stays until isolated.
pub fn sequence(path: &[InPath], permanent: bool) -> Sequence {
    let n = path.len();
    let mut ops = Vec::new();
    let mut heat = vec![0.0f64; n];
    let mut trips = vec![0u32; n];
    let mut seen = vec![0u32; n];
    let mut momentary = Vec::new();
    let mut t = 0.0f64;
    for (i, d) in path.iter().enumerate() {
        if matches!(d.device, Device::Relay { .. } | Device::Recloser { .. })
            && d.device.time(d.current_a, 0).is_some()
        {
            ops.push(Operation {
                t_ms: 0.0,
                device: Some(i),
                action: Action::Pickup,
            });
        }
    }
    // Each pass: the fault is fed from `t` until the first device operates.
    loop {
        let mut first: Option<(f64, usize)> = None;
        for (i, d) in path.iter().enumerate() {
            let dt = match &d.device {
                Device::Fuse { .. } => d
                    .device
                    .time(d.current_a, 0)
                    .map(|tm| (1.0 - heat[i]).max(0.0) * tm),
                other => other.time(d.current_a, trips[i]),
            };
            if let Some(dt) = dt
                && first.is_none_or(|(best, _)| dt < best)
            {
                first = Some((dt, i));
            }
        }
        let Some((dt, i)) = first else {
            ops.push(Operation {
                t_ms: t * 1e3,
                device: None,
                action: Action::NotCleared,
            });
            return Sequence {
                operations: ops,
                isolated_by: None,
                momentary,
            };
        };
        for (k, d) in path.iter().enumerate() {
            if let Device::Fuse { .. } = d.device
                && let Some(tm) = d.device.time(d.current_a, 0)
            {
                heat[k] += dt / tm;
            }
        }
        t += dt;
        let at = |t: f64| t * 1e3;
        match &path[i].device {
            Device::Fuse { .. } | Device::Relay { .. } => {
                let action = if matches!(path[i].device, Device::Fuse { .. }) {
                    Action::Melt
                } else {
                    Action::Trip
                };
                ops.push(Operation {
                    t_ms: at(t),
                    device: Some(i),
                    action,
                });
                ops.push(Operation {
                    t_ms: at(t),
                    device: Some(i),
                    action: Action::Lockout,
                });
                return Sequence {
                    operations: ops,
                    isolated_by: Some(i),
                    momentary,
                };
            }
            Device::Recloser {
                shots, intervals_s, ..
            } => {
                trips[i] += 1;
                ops.push(Operation {
                    t_ms: at(t),
                    device: Some(i),
                    action: Action::Trip,
                });
                // Sectionalisers downstream that saw the fault count the trip; one that
                // reaches its count opens in this dead time.
                let mut opened = None;
                for (k, d) in path.iter().enumerate().skip(i + 1) {
                    if let Device::Sectionaliser { pickup_a, counts } = d.device
                        && d.current_a >= pickup_a
                    {
                        seen[k] += 1;
                        if seen[k] >= counts && opened.is_none() {
                            opened = Some(k);
                        }
                    }
                }
                if trips[i] >= *shots {
                    ops.push(Operation {
                        t_ms: at(t),
                        device: Some(i),
                        action: Action::Lockout,
                    });
                    // Its dead times belong to the sustained interruption that follows.
                    momentary.retain(|m| m.0 != i);
                    return Sequence {
                        operations: ops,
                        isolated_by: Some(i),
                        momentary,
                    };
                }
                let k = (trips[i] as usize - 1).min(intervals_s.len().saturating_sub(1));
                let dead = intervals_s.get(k).copied().unwrap_or(0.0);
                if let Some(s) = opened {
                    ops.push(Operation {
                        t_ms: at(t + dead / 2.0),
                        device: Some(s),
                        action: Action::Open,
                    });
                }
                let start = t;
                t += dead;
                ops.push(Operation {
                    t_ms: at(t),
                    device: Some(i),
                    action: Action::Reclose,
                });
                if let Some(s) = opened {
                    // The fault lies beyond the open sectionaliser: the reclose holds.
                    momentary.push((i, at(start), at(t)));
                    return Sequence {
                        operations: ops,
                        isolated_by: Some(s),
                        momentary,
                    };
                }
                if !permanent {
                    ops.push(Operation {
                        t_ms: at(t),
                        device: None,
                        action: Action::FaultCleared,
                    });
                    momentary.push((i, at(start), at(t)));
                    return Sequence {
                        operations: ops,
                        isolated_by: None,
                        momentary,
                    };
                }
                momentary.push((i, at(start), at(t)));
            }
            Device::Sectionaliser { .. } => unreachable!("sectionalisers never trip on current"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::{IecCurve, IeeeCurve, tlink};

    fn relay(pickup_a: f64, tms: f64) -> Device {
        Device::Relay {
            pickup_a,
            curve: Curve::Iec {
                curve: IecCurve::StandardInverse,
                tms,
            },
            instantaneous: None,
            breaker_s: 0.05,
        }
    }

    fn recloser() -> Device {
        Device::Recloser {
            pickup_a: 100.0,
            fast: Curve::Ieee {
                curve: IeeeCurve::ExtremelyInverse,
                td: 0.05,
            },
            delayed: Curve::Ieee {
                curve: IeeeCurve::VeryInverse,
                td: 2.0,
            },
            fast_shots: 1,
            shots: 4,
            intervals_s: vec![0.5, 2.0, 2.0],
        }
    }

    fn at(name: &str, device: Device, current_a: f64) -> InPath {
        InPath {
            name: name.into(),
            device,
            current_a,
        }
    }

    fn actions(s: &Sequence) -> Vec<(Option<usize>, Action)> {
        s.operations.iter().map(|o| (o.device, o.action)).collect()
    }

    /// Two relays in series: the downstream one (TMS 0.1) clears in 0.297 s + 50 ms at 10 x
    /// pickup; the upstream one only picks up.
    #[test]
    fn the_nearest_relay_clears_at_its_curve_time() {
        let path = [
            at("upstream", relay(200.0, 0.3), 2000.0),
            at("feeder", relay(200.0, 0.1), 2000.0),
        ];
        let s = sequence(&path, true);
        assert_eq!(s.isolated_by, Some(1));
        let trip = s
            .operations
            .iter()
            .find(|o| o.action == Action::Trip)
            .unwrap();
        assert_eq!(trip.device, Some(1));
        assert!((trip.t_ms - (297.1 + 50.0)).abs() < 0.1, "{}", trip.t_ms);
        assert!(s.momentary.is_empty());
    }

    /// A temporary fault behind a recloser: one fast trip, a reclose after 0.5 s, the fault
    /// is gone: one momentary interruption of 500 ms, nobody left out.
    #[test]
    fn a_temporary_fault_clears_at_the_first_reclose() {
        let s = sequence(&[at("recloser", recloser(), 1000.0)], false);
        assert_eq!(
            actions(&s),
            vec![
                (Some(0), Action::Pickup),
                (Some(0), Action::Trip),
                (Some(0), Action::Reclose),
                (None, Action::FaultCleared)
            ]
        );
        assert_eq!(s.isolated_by, None);
        assert_eq!(s.momentary.len(), 1);
        let (_, a, b) = s.momentary[0];
        assert!((b - a - 500.0).abs() < 1e-9);
        // The fast trip: IEEE EI at TD 0.05 and 10 x pickup.
        let fast = 0.05 * (28.2 / 99.0 + 0.1217) * 1e3;
        assert!((s.operations[1].t_ms - fast).abs() < 1e-9);
    }

    /// A permanent fault: four trips (one fast, three delayed) with the dead times between,
    /// then lockout; its dead times are part of the sustained interruption.
    #[test]
    fn a_permanent_fault_locks_the_recloser_out() {
        let s = sequence(&[at("recloser", recloser(), 1000.0)], true);
        let trips = s
            .operations
            .iter()
            .filter(|o| o.action == Action::Trip)
            .count();
        let recloses = s
            .operations
            .iter()
            .filter(|o| o.action == Action::Reclose)
            .count();
        assert_eq!((trips, recloses), (4, 3));
        assert_eq!(s.operations.last().unwrap().action, Action::Lockout);
        assert_eq!(s.isolated_by, Some(0));
        assert!(s.momentary.is_empty());
        // Times: fast + 0.5 + delayed + 2 + delayed + 2 + delayed.
        let fast = 0.05 * (28.2 / 99.0 + 0.1217);
        let delayed = 2.0 * (19.61 / 99.0 + 0.491);
        let end = fast + 0.5 + 3.0 * delayed + 4.0;
        assert!((s.operations.last().unwrap().t_ms - end * 1e3).abs() < 1e-6);
    }

    /// Fuse saving: the recloser's fast curve beats the fuse, so a temporary fault costs a
    /// blink and no fuse; on a permanent fault the delayed curve lets the fuse melt first,
    /// and only the fused lateral stays out.
    #[test]
    fn fuse_saving_keeps_the_fuse_for_temporary_faults() {
        let fuse = Device::Fuse {
            rating_a: 65.0,
            curve: tlink(),
        };
        let path = [
            at("recloser", recloser(), 1000.0),
            at("lateral fuse", fuse, 1000.0),
        ];
        let temporary = sequence(&path, false);
        assert_eq!(temporary.isolated_by, None);
        assert!(
            !temporary
                .operations
                .iter()
                .any(|o| o.action == Action::Melt)
        );
        let permanent = sequence(&path, true);
        assert_eq!(permanent.isolated_by, Some(1));
        let melt = permanent
            .operations
            .iter()
            .find(|o| o.action == Action::Melt)
            .unwrap();
        // 1000 A is 15.4 x 65 A: the fuse melts in its curve's time less the heat of the
        // fast shot, after the 500 ms dead time.
        let tm = tlink().time(1000.0 / 65.0).unwrap();
        let fast = 0.05 * (28.2 / 99.0 + 0.1217);
        let expected = fast + 0.5 + (1.0 - fast / tm) * tm;
        assert!(
            (melt.t_ms - expected * 1e3).abs() < 1e-6,
            "{} vs {}",
            melt.t_ms,
            expected * 1e3
        );
        // The blink before the melt stays a momentary interruption for the whole feeder.
        assert_eq!(permanent.momentary.len(), 1);
    }

    /// A sectionaliser set to two counts opens in the second dead time; the recloser's next
    /// reclose holds.
    #[test]
    fn a_sectionaliser_opens_after_its_counts() {
        let sect = Device::Sectionaliser {
            pickup_a: 200.0,
            counts: 2,
        };
        let path = [
            at("recloser", recloser(), 1000.0),
            at("sectionaliser", sect, 1000.0),
        ];
        let s = sequence(&path, true);
        assert_eq!(s.isolated_by, Some(1));
        let trips = s
            .operations
            .iter()
            .filter(|o| o.action == Action::Trip)
            .count();
        assert_eq!(trips, 2);
        let open = s
            .operations
            .iter()
            .find(|o| o.action == Action::Open)
            .unwrap();
        let last_trip = s
            .operations
            .iter()
            .rev()
            .find(|o| o.action == Action::Trip)
            .unwrap();
        assert!(open.t_ms > last_trip.t_ms);
        assert_eq!(s.operations.last().unwrap().action, Action::Reclose);
    }

    #[test]
    fn a_fault_below_every_pickup_is_not_cleared() {
        let s = sequence(&[at("feeder", relay(400.0, 0.1), 300.0)], true);
        assert_eq!(actions(&s), vec![(None, Action::NotCleared)]);
        assert_eq!(s.isolated_by, None);
    }
}
