//! The protection of a generated community.

use super::Gen;
use crate::format::*;

/// Protection as a distribution network operator would set it: an overcurrent relay at the
/// head of each MV feeder (IEC standard inverse, pickup 1.2 x the cable's rating through a
/// 400/5 or 600/5 CT, an instantaneous stage at 4 kA or 6 kA), a fault passage indicator at
/// every further ring main unit panel and on the ties, an HV fuse on each distribution
/// transformer (OpenDSS's tlink curve, about 2.5 x its rated current) and a fuse at the head
/// of each LV feeder.
pub(super) fn protect(g: &mut Gen, feeders: &[Vec<usize>], kv: f64) {
    let rating = |g: &Gen, id: &str| {
        g.s.lines
            .iter()
            .find(|l| l.id == id)
            .map_or(300.0, |l| l.rating_a)
    };
    for (f, chain) in feeders.iter().enumerate() {
        if chain.is_empty() {
            continue;
        }
        let head = format!("mvc-{f}-0");
        let ct = if rating(g, &head) * 1.2 <= 400.0 {
            80.0
        } else {
            120.0
        };
        let pickup = (rating(g, &head) * 1.2 / ct * 10.0).ceil() / 10.0;
        g.s.protection.push(ProtectionSpec {
            id: format!("rly-{f}"),
            branch: head,
            at_bus: Some("gsp".into()),
            device: DeviceSpec::Relay {
                ct_ratio: ct,
                pickup_a: pickup,
                curve: Curve::Iec {
                    curve: IecCurve::StandardInverse,
                    tms: 0.15,
                },
                instantaneous_a: Some(50.0),
                instantaneous_delay_s: 0.0,
                breaker_s: 0.05,
            },
        });
        for j in 1..chain.len() {
            g.s.protection.push(ProtectionSpec {
                id: format!("fpi-{f}-{j}"),
                branch: format!("mvc-{f}-{j}"),
                at_bus: None,
                device: DeviceSpec::FaultIndicator { pickup_a: 400.0 },
            });
        }
    }
    let ties: Vec<String> =
        g.s.lines
            .iter()
            .filter(|l| l.id.starts_with("mvt-"))
            .map(|l| l.id.clone())
            .collect();
    for t in ties {
        g.s.protection.push(ProtectionSpec {
            id: format!("fpi-{t}"),
            branch: t,
            at_bus: None,
            device: DeviceSpec::FaultIndicator { pickup_a: 400.0 },
        });
    }
    // LV feeder fuses at the boards: the largest standard size within the cable's rating.
    let heads: Vec<(String, String, f64)> = g
        .s
        .lines
        .iter()
        .filter(|l| l.id.starts_with("lvc-") && l.id.ends_with("-1") && l.from.starts_with("ss-"))
        .map(|l| (l.id.clone(), l.from.clone(), l.rating_a))
        .collect();
    for (id, board, rating) in heads {
        let fuse = [315.0, 250.0, 200.0, 160.0, 100.0]
            .into_iter()
            .find(|&r| r <= rating)
            .unwrap_or(63.0);
        g.s.protection.push(tlink_fuse(id, board, fuse));
    }
    let fuses: Vec<(String, String, f64)> =
        g.s.transformers
            .iter()
            .map(|t| (t.id.clone(), t.hv_bus.clone(), t.rating_kva))
            .collect();
    for (id, hv, kva) in fuses {
        let rated = kva / (3f64.sqrt() * kv);
        let fuse = [25.0, 40.0, 63.0, 80.0, 100.0, 125.0, 160.0]
            .into_iter()
            .find(|&r| r >= 2.5 * rated)
            .unwrap_or(200.0);
        g.s.protection.push(tlink_fuse(id, hv, fuse));
    }
}

/// A fuse with OpenDSS's tlink curve on `branch`, at `at_bus`.
fn tlink_fuse(branch: String, at_bus: String, rating_a: f64) -> ProtectionSpec {
    ProtectionSpec {
        id: format!("fu-{branch}"),
        branch,
        at_bus: Some(at_bus),
        device: DeviceSpec::Fuse {
            rating_a,
            curve: Curve::Table {
                points: TLINK_POINTS.to_vec(),
            },
        },
    }
}
