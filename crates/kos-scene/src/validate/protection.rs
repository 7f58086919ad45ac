//! Checks of the protection devices.

use super::{Problem, bad};
use crate::format::*;

/// Protection devices: an existing branch, a device at one of its ends, settings in range,
/// curves monotone, and a relay or recloser that would not trip on the branch's rated load.
pub(super) fn check_protection(s: &Scene, out: &mut Vec<Problem>) {
    let kv = |bus: &str| s.buses.iter().find(|b| b.id == bus).map(|b| b.nominal_kv);
    for p in &s.protection {
        // The branch's ends and its rated current at the device's end, A.
        let branch: Option<(&str, &str, Option<f64>)> = s
            .lines
            .iter()
            .find(|l| l.id == p.branch)
            .map(|l| (l.from.as_str(), l.to.as_str(), Some(l.rating_a)))
            .or_else(|| {
                s.transformers.iter().find(|t| t.id == p.branch).map(|t| {
                    let at = p.at_bus.as_deref().unwrap_or(&t.hv_bus);
                    let rated = kv(at).map(|v| t.rating_kva / (3f64.sqrt() * v));
                    (t.hv_bus.as_str(), t.lv_bus.as_str(), rated)
                })
            })
            .or_else(|| {
                s.switches
                    .iter()
                    .find(|w| w.id == p.branch)
                    .map(|w| (w.from.as_str(), w.to.as_str(), None))
            });
        let Some((from, to, rated_a)) = branch else {
            out.push(bad(
                &p.id,
                "branch",
                format!(
                    "refers to `{}`, which is not a line, transformer or switch",
                    p.branch
                ),
            ));
            continue;
        };
        if let Some(at) = &p.at_bus
            && at != from
            && at != to
        {
            out.push(bad(
                &p.id,
                "at_bus",
                format!("`{at}` is not an end of `{}` ({from}, {to})", p.branch),
            ));
        }
        let positive = |out: &mut Vec<Problem>, field: &'static str, v: f64| {
            if !(v.is_finite() && v > 0.0) {
                out.push(bad(
                    &p.id,
                    field,
                    format!("must be a positive number, got {v}"),
                ));
            }
        };
        let curve = |out: &mut Vec<Problem>, field: &'static str, c: &Curve| {
            if let Err(e) = c.validate() {
                out.push(bad(&p.id, field, e));
            }
        };
        match &p.device {
            DeviceSpec::Relay {
                ct_ratio,
                pickup_a,
                curve: c,
                instantaneous_a,
                instantaneous_delay_s,
                breaker_s,
            } => {
                positive(out, "ct_ratio", *ct_ratio);
                positive(out, "pickup_a", *pickup_a);
                curve(out, "curve", c);
                if let Some(i) = instantaneous_a {
                    positive(out, "instantaneous_a", *i);
                    if i.is_finite() && *i <= *pickup_a {
                        out.push(bad(
                            &p.id,
                            "instantaneous_a",
                            format!("must be above the inverse-time pickup {pickup_a} A"),
                        ));
                    }
                }
                if !(instantaneous_delay_s.is_finite() && *instantaneous_delay_s >= 0.0) {
                    out.push(bad(&p.id, "instantaneous_delay_s", "must be zero or more"));
                }
                if !(breaker_s.is_finite() && *breaker_s >= 0.0) {
                    out.push(bad(&p.id, "breaker_s", "must be zero or more"));
                }
            }
            DeviceSpec::Fuse { rating_a, curve: c } => {
                positive(out, "rating_a", *rating_a);
                curve(out, "curve", c);
            }
            DeviceSpec::Recloser {
                pickup_a,
                fast,
                delayed,
                fast_shots,
                shots,
                intervals_s,
                reset_s,
            } => {
                positive(out, "pickup_a", *pickup_a);
                curve(out, "fast", fast);
                curve(out, "delayed", delayed);
                if *shots == 0 || fast_shots > shots {
                    out.push(bad(
                        &p.id,
                        "shots",
                        format!("must be at least 1 and at least fast_shots ({fast_shots})"),
                    ));
                }
                if *shots > 1 && intervals_s.is_empty() {
                    out.push(bad(
                        &p.id,
                        "intervals_s",
                        "needs a dead time for each reclose",
                    ));
                }
                if intervals_s.iter().any(|t| !(t.is_finite() && *t > 0.0)) {
                    out.push(bad(&p.id, "intervals_s", "dead times must be positive"));
                }
                positive(out, "reset_s", *reset_s);
            }
            DeviceSpec::Sectionaliser { pickup_a, counts } => {
                positive(out, "pickup_a", *pickup_a);
                if *counts == 0 {
                    out.push(bad(&p.id, "counts", "must be at least 1"));
                }
            }
            DeviceSpec::FaultIndicator { pickup_a } => positive(out, "pickup_a", *pickup_a),
        }
        if let (DeviceSpec::Relay { .. } | DeviceSpec::Recloser { .. }, Some(rated)) =
            (&p.device, rated_a)
        {
            let pickup = p.device.pickup_primary_a();
            if pickup.is_finite() && pickup > 0.0 && pickup < rated {
                out.push(bad(
                    &p.id,
                    "pickup_a",
                    format!(
                        "picks up at {pickup:.0} A (primary), below the {rated:.0} A that `{}` carries at its rating: it would trip on load",
                        p.branch
                    ),
                ));
            }
        }
    }
}
