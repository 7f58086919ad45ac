//! Checks of the commons: the community's settings, what each load and pod asks and how it
//! shares, and the shelter rule of the modes.

use super::{Problem, bad};
use crate::format::*;

/// A number in a range, or a problem placed at `field` of `id` (or of the top-level key).
fn within(
    out: &mut Vec<Problem>,
    id: Option<&str>,
    field: &'static str,
    v: f64,
    lo: f64,
    hi: f64,
    lo_open: bool,
) {
    let ok = v.is_finite() && v <= hi && (v > lo || (!lo_open && v == lo));
    if !ok {
        let open = if lo_open { "(" } else { "[" };
        let message = format!("must lie in {open}{lo}, {hi}], got {v}");
        out.push(match id {
            Some(id) => bad(id, field, message),
            None => Problem {
                id: None,
                occurrence: 0,
                field: Some(field),
                message,
            },
        });
    }
}

pub(super) fn check_commons(s: &Scene, out: &mut Vec<Problem>) {
    let c = &s.commons;
    let big = 1e9;
    for (field, v, lo, hi, open) in [
        ("morning_hour", c.morning_hour, 0.0, 24.0, false),
        ("household_size", c.household_size, 0.0, 50.0, true),
        (
            "water_l_per_household_h",
            c.water_l_per_household_h,
            0.0,
            big,
            false,
        ),
        (
            "water_minimum_l_per_person_day",
            c.water_minimum_l_per_person_day,
            0.0,
            big,
            false,
        ),
        (
            "water_reserve_hours",
            c.water_reserve_hours,
            0.0,
            24.0 * 365.0,
            true,
        ),
        (
            "mesh_mbps_per_household",
            c.mesh_mbps_per_household,
            0.0,
            big,
            false,
        ),
        ("mesh_mbps", c.mesh_mbps, 0.0, big, false),
        ("mesh_backup_mbps", c.mesh_backup_mbps, 0.0, big, false),
        ("token_rate_per_kwh", c.token_rate_per_kwh, 0.0, big, false),
        (
            "slot_priority_tokens",
            c.slot_priority_tokens,
            0.0,
            big,
            false,
        ),
        ("event_response", c.event_response, 0.0, 1.0, false),
        ("event_saving", c.event_saving, 0.0, 1.0, false),
        ("hoarding_tolerance", c.hoarding_tolerance, 0.0, 10.0, false),
        ("monopoly_share", c.monopoly_share, 0.0, 1.0, true),
    ] {
        within(out, None, field, v, lo, hi, open);
    }
    if c.hoarding_periods == 0 {
        out.push(Problem {
            id: None,
            occurrence: 0,
            field: Some("hoarding_periods"),
            message: "must be at least 1".into(),
        });
    }
    let consumers = s
        .loads
        .iter()
        .map(|l| (l.id.as_str(), &l.commons))
        .chain(s.pods.iter().map(|p| (p.id.as_str(), &p.commons)));
    for (id, k) in consumers {
        let id = Some(id);
        if let Some(w) = k.weight {
            within(out, id, "weight", w, 0.0, big, true);
        }
        if let Some(h) = k.household_size {
            within(out, id, "household_size", h, 0.0, 50.0, true);
        }
        if let Some(w) = k.water_l_per_h {
            within(out, id, "water_l_per_h", w, 0.0, big, false);
        }
        if let Some(m) = k.mesh_mbps {
            within(out, id, "mesh_mbps", m, 0.0, big, false);
        }
        if let Some(m) = k.minimum {
            within(out, id, "minimum", m, 0.0, 1.0, false);
        }
        if let Some(cap) = k.cap_kw {
            within(out, id, "cap_kw", cap, 0.0, big, false);
        }
        within(
            out,
            id,
            "storage_need_kw",
            k.storage_need_kw,
            0.0,
            big,
            false,
        );
        within(
            out,
            id,
            "tank_need_l_per_h",
            k.tank_need_l_per_h,
            0.0,
            big,
            false,
        );
    }
    for l in &s.loads {
        if l.commons.medical > l.households {
            out.push(bad(
                &l.id,
                "medical",
                format!(
                    "{} households with medical equipment, but the load serves {}",
                    l.commons.medical, l.households
                ),
            ));
        }
    }
    for p in &s.pods {
        within(
            out,
            Some(&p.id),
            "reservoir_m3",
            p.reservoir_m3,
            0.0,
            big,
            false,
        );
        if p.reservoir_m3 > 0.0 && p.kind != PodKind::WaterUtility {
            out.push(bad(
                &p.id,
                "reservoir_m3",
                "only a water works has a reservoir",
            ));
        }
        if p.places.is_some() && p.kind != PodKind::Shelter {
            out.push(bad(&p.id, "places", "only a shelter has places"));
        }
    }
    for m in &s.modes {
        for r in &m.rules {
            if let ModeRule::Shelter { households } = r {
                within(out, Some(&m.id), "households", *households, 0.0, 1.0, false);
            }
        }
    }
}
